"""Findings in the formats pipelines and security tools read: OCSF, SARIF, JUnit XML and CSV.

``render(fmt, report)`` is a pure function of a ``Report`` (findings with their checks' titles and
remediation); ``render_scan`` and ``render_findings`` build the report from a scan document or from
the store's current findings, and ``emit`` writes the text to a file or stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.outputs.csvfile import render_csv
from agent.outputs.junit import render_junit
from agent.outputs.model import (
    CheckInfo,
    OutputFinding,
    Report,
    SourceOutcome,
    check_catalog,
    report_from_rows,
    report_from_scan,
)
from agent.outputs.ocsf import render_ocsf
from agent.outputs.sarif import render_sarif

__all__ = [
    "FORMATS",
    "CheckInfo",
    "OutputFinding",
    "Report",
    "SourceOutcome",
    "emit",
    "render",
    "render_findings",
    "render_scan",
]

FORMATS: dict[str, Callable[[Report], str]] = {
    "ocsf": render_ocsf,
    "sarif": render_sarif,
    "junit": render_junit,
    "csv": render_csv,
}


def render(fmt: str, report: Report) -> str:
    """The report in one of ``FORMATS``."""
    try:
        writer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}; choose from {', '.join(FORMATS)}") from None
    return writer(report)


def _version() -> str:
    from agent import __version__

    return __version__


def render_scan(fmt: str, doc: Mapping[str, Any], checks: Mapping[str, CheckInfo] | None = None) -> str:
    """A scan document (``scan --format json``'s contract) in ``fmt``."""
    catalog = check_catalog() if checks is None else checks
    return render(fmt, report_from_scan(doc, catalog, tool_version=_version()))


def render_findings(
    fmt: str,
    rows: Iterable[Mapping[str, Any]],
    generated_at: datetime,
    checks: Mapping[str, CheckInfo] | None = None,
) -> str:
    """The store's current findings (rows with their ``controls``) in ``fmt``."""
    catalog = check_catalog() if checks is None else checks
    return render(fmt, report_from_rows(rows, catalog, generated_at=generated_at, tool_version=_version()))


def emit(text: str, output: Path | None) -> None:
    """Write to ``output``, or to stdout when it is None (a file gets exactly the text, CSV's CRLFs kept)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from agent.errors import UsageError

    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
