"""The bundle files that are plain listings of its records, made by one function for the exporter and the
verifier: the verifier writes them again from the verified records and compares bytes, so the key
holder cannot edit them even by signing the manifest again (docs/evidence-format.md, section 10).

``timelines/<check>.csv`` lists the finding events of each check, ``logs/drift.csv`` the drift events,
``logs/alerts.csv`` the alerts. The other summaries (report.html, the OSCAL file, summary/*,
logs/exceptions.csv and logs/gaps.csv) come from the exporter's coverage computation and are not
recomputed here.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["ALERT_COLUMNS", "DRIFT_COLUMNS", "TIMELINE_COLUMNS", "csv_bytes", "listings", "is_listing"]

TIMELINE_COLUMNS = ["at", "snapshot_id", "resource_id", "previous_status", "status", "severity", "message"]
DRIFT_COLUMNS = ["at", "source", "account", "kind", "check_id", "resource_id", "previous_status", "status",
                 "severity", "detail"]
ALERT_COLUMNS = ["created_at", "sent_at", "channel", "kind", "state", "dedup_key"]


def csv_bytes(rows: Iterable[dict[str, Any]], columns: list[str]) -> bytes:
    """The rows' ``columns`` as CSV (Python's csv dialect ``excel``, CRLF line ends), lists and objects as
    JSON, None as an empty field, UTF-8."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in r.items()})
    return buf.getvalue().encode()


def timeline_name(check_id: str) -> str:
    return f"timelines/{check_id}.csv"


def is_listing(name: str) -> bool:
    """A file ``listings`` writes (present or not in a given bundle)."""
    return name.startswith("timelines/") or name in ("logs/drift.csv", "logs/alerts.csv")


def listings(events: Iterable[dict[str, Any]], drift: Iterable[dict[str, Any]],
             alerts: Iterable[dict[str, Any]]) -> dict[str, bytes]:
    """Every listing file by name, from the finding events, drift events and alert rows of the bundle (each
    in the order of its ``id``)."""
    by_check: dict[str, list[dict[str, Any]]] = {}
    for e in sorted(events, key=lambda r: int(r["id"])):
        by_check.setdefault(str(e["check_id"]), []).append(e)
    out = {timeline_name(chk): csv_bytes(rows, TIMELINE_COLUMNS) for chk, rows in sorted(by_check.items())}
    out["logs/drift.csv"] = csv_bytes(sorted(drift, key=lambda r: int(r["id"])), DRIFT_COLUMNS)
    out["logs/alerts.csv"] = csv_bytes(sorted(alerts, key=lambda r: int(r["id"])), ALERT_COLUMNS)
    return out
