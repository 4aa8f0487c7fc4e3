"""`posture-agent controls` and `posture-agent frameworks`: requirement status and coverage."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.config import FRAMEWORKS, SOC2_CATEGORIES, default_database_url, load_config
from agent.errors import UsageError

if TYPE_CHECKING:  # the mappings (and their schema validator) load when a command needs them
    from agent.mappings import Mappings
    from agent.posture import Posture, RequirementState

__all__ = ["ConfigOpt", "DbOpt", "FormatOpt", "OutputFormat", "Scope", "open_store", "register", "resolve_scope"]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", envvar="POSTURE_CONFIG", help="Config file (scope and database); default: soc2, security"
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", envvar="POSTURE_DB", help="Database URL (sqlite:///PATH or postgresql+psycopg://...)"),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format")]
CategoryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--category", help="SOC 2 category to add to the scope (repeatable): " + ", ".join(SOC2_CATEGORIES[1:])
    ),
]


@dataclass(frozen=True)
class Scope:
    frameworks: tuple[str, ...]
    categories: tuple[str, ...]
    database: str
    from_config: bool


def resolve_scope(
    config: Path | None, db: str | None, categories: list[str] | None = None, framework: str | None = None
) -> Scope:
    """Scope and database from --config (or defaults: soc2, security), --category and --db."""
    from agent.posture import soc2_categories

    extra = [c.strip().lower() for c in categories or []]
    bad = [c for c in extra if c not in SOC2_CATEGORIES]
    if bad:
        raise UsageError(f"unknown SOC 2 category {bad[0]!r}; choose from {', '.join(SOC2_CATEGORIES)}")
    if framework is not None and framework not in FRAMEWORKS:
        raise UsageError(f"unknown framework {framework!r}; choose from {', '.join(FRAMEWORKS)}")
    if config is not None:
        cfg = load_config(config)
        fws: tuple[str, ...] = tuple(cfg.scope.frameworks)
        if framework is not None and framework not in fws:
            raise UsageError(f"framework {framework} is not in scope in {config} (scope.frameworks: {', '.join(fws)})")
        return Scope(fws, soc2_categories(cfg.scope.soc2_categories, extra), cfg.database if db is None else db, True)
    fws = (framework,) if framework else ("soc2",)
    return Scope(fws, soc2_categories(extra), default_database_url() if db is None else db, False)


def open_store(url: str, *, create: bool = False) -> Any | None:
    """The store at ``url``, created or migrated when ``create``. When reading: None while nothing is
    there yet (no SQLite file, an empty database); a database that is not a posture-agent store, or
    one that cannot be reached, is refused as one line (exit 2) and left untouched."""
    from agent.cli.common import open_url

    return open_url(url, write=create, missing_ok=True)


def read_state(url: str) -> tuple[list[dict[str, Any]], list[Any], str]:
    """(current findings, manual evidence, note) from the store; empty when it is not set up yet."""
    from agent.store import manual
    from agent.store.opening import probe

    found = probe(url)
    if found.kind == "absent":
        return [], [], "no database yet: nothing collected and no evidence attached"
    if found.kind == "empty":
        return [], [], "the database has no schema yet: nothing collected and no evidence attached"
    store = open_store(url)
    if store is None:  # emptied since the probe
        return [], [], "the database has no schema yet: nothing collected and no evidence attached"
    try:
        return store.current_findings(), manual.list_evidence(store), ""
    finally:
        store.close()


def _posture(scope: Scope, mappings: Mappings) -> tuple[Posture, str]:
    from agent.posture import evaluate_posture

    findings, evidence, note = read_state(scope.database)
    return evaluate_posture(
        mappings, findings, evidence, frameworks=scope.frameworks, categories=scope.categories, now=datetime.now(UTC)
    ), note


def _render_requirements(states: tuple[RequirementState, ...], width: int = 100) -> list[str]:
    lines = [f"{'REQUIREMENT':<22} {'STATUS':<11} {'KIND':<11} {'FAILING':>7}  TITLE"]
    for rs in states:
        r = rs.requirement
        failing = str(rs.failing_resources) if rs.kind == "automated" else "-"
        lines.append(f"{r.id:<22} {rs.status:<11} {rs.kind:<11} {failing:>7}  {r.title}")
        pad = " " * 4
        for reason in rs.reasons:
            lines.extend(textwrap.wrap(reason, width, initial_indent=pad + "! ", subsequent_indent=pad + "  "))
        if rs.checks:
            lines.extend(
                textwrap.wrap(
                    "checks: " + ", ".join(rs.checks),
                    width,
                    initial_indent=pad,
                    subsequent_indent=pad + "  ",
                    break_on_hyphens=False,
                )
            )
    return lines


def controls(
    framework: Annotated[str, typer.Option("--framework", help=", ".join(FRAMEWORKS))] = "soc2",
    config: ConfigOpt = None,
    db: DbOpt = None,
    output: FormatOpt = OutputFormat.table,
    category: CategoryOpt = None,
) -> None:
    """Each in-scope requirement of a framework: status, kind, supporting checks, failing resources."""
    from agent.mappings import load_mappings

    scope = resolve_scope(config, db, category, framework)
    mappings = load_mappings()
    posture, note = _posture(scope, mappings)
    states = posture.requirements[framework]
    fw = mappings.framework(framework)
    summary = posture.summary(framework)
    if output is OutputFormat.json:
        typer.echo(
            json.dumps(
                {
                    "framework": {"id": fw.id, "name": fw.name, "version": fw.version},
                    "scope": {"frameworks": list(scope.frameworks), "soc2_categories": list(scope.categories)},
                    "generated_at": posture.at.isoformat(),
                    "note": note or None,
                    "summary": summary,
                    "requirements": [rs.to_dict() for rs in states],
                },
                indent=2,
            )
        )
        return
    cats = f"; categories: {', '.join(scope.categories)}" if framework == "soc2" else ""
    typer.echo(f"{fw.name} ({fw.version}){cats}")
    if note:
        typer.echo(f"note: {note}")
    for line in _render_requirements(states):
        typer.echo(line)
    typer.echo(
        f"\n{summary['total']} requirements: {summary['pass']} pass, {summary['fail']} fail, "
        f"{summary['error']} error, {summary['no_data']} no data, "
        f"{summary['unsupported']} unsupported "
        f"| {summary['automated']} automated, {summary['manual']} manual"
    )


def frameworks(
    config: ConfigOpt = None,
    output: FormatOpt = OutputFormat.table,
    category: CategoryOpt = None,
) -> None:
    """Every framework and its coverage: requirements automated, manual-only or unsupported."""
    from agent.mappings import load_mappings
    from agent.posture import coverage

    scope = resolve_scope(config, None, category)
    mappings = load_mappings()
    rows = []
    for fid, fw in mappings.frameworks.items():
        cov = coverage(mappings, fid, scope.categories)
        rows.append({"id": fid, "name": fw.name, "version": fw.version, "in_scope": fid in scope.frameworks, **cov})
    if output is OutputFormat.json:
        typer.echo(json.dumps({"soc2_categories": list(scope.categories), "frameworks": rows}, indent=2))
        return
    typer.echo(f"{'FRAMEWORK':<10} {'REQUIREMENTS':>12} {'AUTOMATED':>9} {'MANUAL':>6} {'UNSUPPORTED':>11}  NAME")
    for r in rows:
        mark = "" if r["in_scope"] else "  (not in scope)"
        typer.echo(
            f"{r['id']:<10} {r['requirements']:>12} {r['automated']:>9} {r['manual']:>6} "
            f"{r['unsupported']:>11}  {r['name']} {r['version']}{mark}"
        )
    typer.echo(
        f"\nSOC 2 categories counted: {', '.join(scope.categories)}; "
        f"{len(mappings.controls)} common controls "
        f"({sum(c.automated for c in mappings.controls.values())} automated)"
    )


def register(app: typer.Typer) -> None:
    app.command("controls")(controls)
    app.command("frameworks")(frameworks)
