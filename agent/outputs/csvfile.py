"""CSV: one row per finding under a fixed header (RFC 4180: CRLF line ends, quotes doubled).

A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return,
or their full-width forms) gets a leading single quote, so an opened export never evaluates text
that came from a cloud resource.
"""

from __future__ import annotations

import csv
import io

from agent.models import isoformat
from agent.outputs.model import Report, clean

__all__ = ["HEADER", "render_csv", "safe_cell"]

HEADER = (
    "time",
    "finding_uid",
    "provider",
    "account",
    "region",
    "check_id",
    "check_title",
    "severity",
    "status",
    "resource_type",
    "resource_id",
    "message",
    "requirements",
    "remediation",
    "remediation_url",
    "first_seen",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> str:
    """The value as a cell no spreadsheet evaluates: a leading quote before a formula trigger."""
    text = clean(value).replace("\x00", "\ufffd")
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for f in report.sorted_findings():
        info = report.check(f.check_id)
        row = (
            isoformat(f.time),
            f.uid,
            f.provider,
            f.account,
            f.region,
            f.check_id,
            info.title,
            f.severity,
            f.status,
            f.resource_type,
            f.resource_id,
            f.message,
            ";".join(f.requirements),
            info.remediation_text,
            info.docs,
            isoformat(f.first_seen) if f.first_seen else "",
        )
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()
