"""Cloud SQL database flags per engine: PostgreSQL logging, MySQL and SQL Server hardening (CIS GCP 6.1-6.3).

A flag that is not set has the engine's default (Cloud SQL's documented default), which is what the
checks judge then; ``settings.databaseFlags`` lists only the flags someone set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, not_applicable, passed
from checks.gcp._util import label

SQL_DOCS = "https://cloud.google.com/sql/docs/"
READS = (
    "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=sqladmin.googleapis.com/Instance (Cloud Asset): "
    "databaseVersion, settings.databaseFlags[].name, settings.databaseFlags[].value",
)
NEEDS = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope"
# PostgreSQL message levels, most verbose first
_LEVELS = [
    "debug5",
    "debug4",
    "debug3",
    "debug2",
    "debug1",
    "info",
    "notice",
    "warning",
    "error",
    "log",
    "fatal",
    "panic",
]


@dataclass(frozen=True)
class Flag:
    name: str
    default: str
    ok: Callable[[str], bool]
    want: str  # what the benchmark asks, for the message
    cis: str


def _at_most(level: str) -> Callable[[str], bool]:
    """The level is ``level`` or more verbose (so messages of ``level`` are logged)."""
    return lambda v: v in _LEVELS and _LEVELS.index(v) <= _LEVELS.index(level)


def _is(*values: str) -> Callable[[str], bool]:
    return lambda v: v in values


POSTGRES = (
    Flag("log_error_verbosity", "default", _is("default", "verbose"), "default or verbose", "6.2.1"),
    Flag("log_connections", "off", _is("on"), "on", "6.2.2"),
    Flag("log_disconnections", "off", _is("on"), "on", "6.2.3"),
    Flag("log_statement", "none", _is("ddl", "mod", "all"), "ddl (or mod, all)", "6.2.4"),
    # CIS 6.2.5 asks for WARNING at minimum and calls ERROR (the default) best practice: both pass
    Flag("log_min_messages", "error", _at_most("error"), "warning or error", "6.2.5"),
    Flag("log_min_error_statement", "error", _at_most("error"), "error or more verbose", "6.2.6"),
    Flag("log_min_duration_statement", "-1", _is("-1"), "-1 (off: statements may hold personal data)", "6.2.7"),
    Flag("cloudsql.enable_pgaudit", "off", _is("on"), "on", "6.2.8"),
)
MYSQL = (
    Flag("skip_show_database", "off", _is("on"), "on", "6.1.2"),
    Flag("local_infile", "on", _is("off"), "off", "6.1.3"),
)
SQLSERVER = (
    Flag("external scripts enabled", "off", _is("off"), "off", "6.3.1"),
    Flag("cross db ownership chaining", "off", _is("off"), "off", "6.3.2"),
    Flag("user connections", "0", _is("0"), "0 (no limit)", "6.3.3"),
    Flag("user options", "", _is(""), "not set", "6.3.4"),
    Flag("remote access", "on", _is("off"), "off", "6.3.5"),
    Flag("3625", "off", _is("on"), "on", "6.3.6"),
    Flag("contained database authentication", "off", lambda v: v != "on", "not on", "6.3.7"),
)


def _judge(instance: Resource, engine: str, flags: tuple[Flag, ...], what: str) -> Verdict:
    version = str(need(instance, "databaseVersion"))
    name = label(instance)
    if not version.startswith(engine):
        return not_applicable(f"Cloud SQL instance {name} runs {version}, not {what}")
    settings = need(instance, "settings") or {}
    values = {
        str(f.get("name", "")).lower(): str(f.get("value", "")).strip().lower()
        for f in settings.get("databaseFlags") or []
    }
    wrong = []
    for flag in flags:
        set_ = flag.name in values
        value = values.get(flag.name, flag.default)
        if not flag.ok(value):
            shown = f"'{value}'" if set_ else f"not set (default '{flag.default}')"
            wrong.append(f"{flag.name} is {shown}, want {flag.want} [CIS {flag.cis}]")
    if wrong:
        return failed(f"Cloud SQL instance {name}: {'; '.join(wrong)}")
    return passed(f"Cloud SQL instance {name} sets {', '.join(f.name for f in flags)} as recommended")


def _remediation(engine: str, example: str) -> Remediation:
    return Remediation(
        console=(
            "1. Open SQL, choose the instance and Edit.\n"
            "2. Under Flags, add or change each flag named in the finding and save (some flags restart the "
            "instance)."
        ),
        cli=f"gcloud sql instances patch <instance> --database-flags={example}  # lists ALL flags: keep the others",
        docs=SQL_DOCS + f"{engine}/flags",
    )


@check(
    id="gcp.sqladmin.postgres_logging_flags",
    title="Cloud SQL for PostgreSQL logs connections, disconnections, DDL and audit events",
    severity=Severity.MEDIUM,
    resource_type="gcp.sqladmin.instance",
    rationale=(
        "PostgreSQL logs neither connections, disconnections nor schema changes by default, and pgAudit "
        "is off: without these flags nobody can tell who connected or changed the database. The "
        "message levels must keep errors logged, and statement durations unlogged (CIS GCP 6.2)."
    ),
    remediation=_remediation(
        "postgres", "log_connections=on,log_disconnections=on,log_statement=ddl,cloudsql.enable_pgaudit=on"
    ),
    reads=READS,
    needs=NEEDS,
)
def postgres_logging_flags(instance: Resource, ctx: Context) -> Verdict:
    return _judge(instance, "POSTGRES", POSTGRES, "PostgreSQL")


@check(
    id="gcp.sqladmin.mysql_security_flags",
    title="Cloud SQL for MySQL refuses LOAD DATA LOCAL and hides other users' databases",
    severity=Severity.MEDIUM,
    resource_type="gcp.sqladmin.instance",
    rationale=(
        "local_infile is on by default and lets a client make the server read local files through "
        "LOAD DATA LOCAL; skip_show_database keeps SHOW DATABASES to those allowed to list them "
        "(CIS GCP 6.1.2, 6.1.3)."
    ),
    remediation=_remediation("mysql", "local_infile=off,skip_show_database=on"),
    reads=READS,
    needs=NEEDS,
)
def mysql_security_flags(instance: Resource, ctx: Context) -> Verdict:
    return _judge(instance, "MYSQL", MYSQL, "MySQL")


@check(
    id="gcp.sqladmin.sqlserver_security_flags",
    title="Cloud SQL for SQL Server disables remote access, external scripts and contained authentication",
    severity=Severity.MEDIUM,
    resource_type="gcp.sqladmin.instance",
    rationale=(
        "SQL Server's remote access is on by default and lets stored procedures run from remote servers; "
        "external scripts, cross-database ownership chaining and contained database authentication widen "
        "what a compromised login reaches; trace flag 3625 masks error details from non-administrators "
        "(CIS GCP 6.3)."
    ),
    remediation=_remediation("sqlserver", '"remote access=off,3625=on"'),
    reads=READS,
    needs=NEEDS,
)
def sqlserver_security_flags(instance: Resource, ctx: Context) -> Verdict:
    return _judge(instance, "SQLSERVER", SQLSERVER, "SQL Server")
