"""What every output format is written from: findings with their checks' titles and remediation.

A ``Report`` is built from a scan document (``agent.cli.core.scan_document``) or from the store's
current findings (the daemon's state); the writers are pure functions of it. Only finding and check
fields go in: no configuration, so no secret can reach an output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "STATUSES",
    "CheckInfo",
    "OutputFinding",
    "Report",
    "SourceOutcome",
    "check_catalog",
    "clean",
    "report_from_rows",
    "report_from_scan",
]

# The finding statuses (agent.models.Status values), in the order outputs count them.
STATUSES = ("fail", "error", "excepted", "not_applicable", "pass")

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """A value as text that encodes to UTF-8: lone surrogates (from badly decoded cloud data) become U+FFFD."""
    s = "" if text is None else str(text)
    return _SURROGATE.sub("\ufffd", s)


@dataclass(frozen=True)
class CheckInfo:
    """What a check tells a reader: title, why it matters and how to fix it."""

    id: str
    title: str = ""
    rationale: str = ""
    remediation: str = ""  # console steps
    cli: str = ""
    docs: str = ""  # documentation link
    references: tuple[str, ...] = ()

    @property
    def remediation_text(self) -> str:
        """Console steps, then the CLI command and the docs link, as plain text."""
        parts = [self.remediation.strip()]
        if self.cli.strip():
            parts.append(f"CLI: {self.cli.strip()}")
        if self.docs.strip():
            parts.append(f"Docs: {self.docs.strip()}")
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class OutputFinding:
    uid: str
    check_id: str
    resource_id: str
    resource_type: str
    provider: str
    account: str
    region: str
    status: str  # pass, fail, error, not_applicable, excepted
    severity: str  # critical, high, medium, low, info
    message: str
    requirements: tuple[str, ...]  # framework requirement refs: SOC2:CC6.1, ISO27001:A.8.5...
    time: datetime  # when evaluated (a scan) or since when in this status (the store)
    first_seen: datetime | None = None
    source: str = ""


@dataclass(frozen=True)
class SourceOutcome:
    """One source and account of a scan: collected (complete, partial) or failed outright."""

    name: str
    provider: str
    account: str
    status: str
    error: str = ""


@dataclass(frozen=True)
class Report:
    findings: tuple[OutputFinding, ...]
    generated_at: datetime
    checks: Mapping[str, CheckInfo] = field(default_factory=dict)
    started_at: datetime | None = None
    sources: tuple[SourceOutcome, ...] = ()  # a scan's; empty for the store's findings
    tool_version: str = "0.0.0"
    run_id: str = ""

    def check(self, check_id: str) -> CheckInfo:
        """The check's description; a check no longer installed gets its id as title."""
        return self.checks.get(check_id) or CheckInfo(id=check_id, title=check_id)

    def sorted_findings(self) -> list[OutputFinding]:
        return sorted(self.findings, key=lambda f: (f.check_id, f.resource_id, f.account, f.region, f.uid))


def _time(value: Any, default: datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return default


def _finding(d: Mapping[str, Any], time: datetime, first_seen: datetime | None) -> OutputFinding:
    return OutputFinding(
        uid=clean(d.get("uid")),
        check_id=clean(d.get("check_id")),
        resource_id=clean(d.get("resource_id")),
        resource_type=clean(d.get("resource_type")),
        provider=clean(d.get("provider")),
        account=clean(d.get("account")),
        region=clean(d.get("region")),
        status=clean(d.get("status")),
        severity=clean(d.get("severity")),
        message=clean(d.get("message")),
        requirements=tuple(clean(r) for r in d.get("controls") or ()),
        time=time,
        first_seen=first_seen,
        source=clean(d.get("source")),
    )


def report_from_scan(doc: Mapping[str, Any], checks: Mapping[str, CheckInfo], *, tool_version: str = "0.0.0") -> Report:
    """A report of a scan document (docs/scan-output.schema.json): its findings, evaluated when it finished."""
    run = doc.get("run") or {}
    epoch = datetime.fromtimestamp(0, UTC)
    finished = _time(run.get("finished_at"), epoch)
    started = _time(run.get("started_at"), finished)
    sources = tuple(
        SourceOutcome(
            name=clean(s.get("name")),
            provider=clean(s.get("provider")),
            account=clean(s.get("account")),
            status=clean(s.get("status")),
            error=clean(s["errors"][0].get("message")) if s.get("status") == "failed" and s.get("errors") else "",
        )
        for s in run.get("sources") or ()
    )
    return Report(
        findings=tuple(_finding(f, finished, None) for f in doc.get("findings") or ()),
        generated_at=finished,
        checks=checks,
        started_at=started,
        sources=sources,
        tool_version=tool_version,
        run_id=clean(run.get("id")),
    )


def report_from_rows(
    rows: Iterable[Mapping[str, Any]],
    checks: Mapping[str, CheckInfo],
    *,
    generated_at: datetime,
    tool_version: str = "0.0.0",
) -> Report:
    """A report of the store's current findings (``Store.current_findings`` rows with their ``controls``):
    each finding's time is when it entered its status, and it keeps when it was first seen."""
    findings = tuple(
        _finding(r, _time(r.get("since"), generated_at), _time(r.get("first_seen"), generated_at)) for r in rows
    )
    return Report(findings=findings, generated_at=generated_at, checks=checks, tool_version=tool_version)


def check_catalog() -> dict[str, CheckInfo]:
    """Every installed check's description (from the check registry)."""
    from agent.registry import load_checks

    catalog: dict[str, CheckInfo] = {}
    for cid, chk in load_checks().items():
        m = chk.meta
        catalog[cid] = CheckInfo(
            id=cid,
            title=m.title,
            rationale=m.rationale,
            remediation=m.remediation.console,
            cli=m.remediation.cli,
            docs=m.remediation.docs,
            references=tuple(m.references),
        )
    return catalog
