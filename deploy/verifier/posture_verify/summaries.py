"""Every bundle file computed from its records, made by the same functions for the exporter and the
verifier: the verifier writes them again from the verified records and compares bytes, so the key
holder cannot edit them even by signing the manifest again (docs/evidence-format.md, section 10).

``listings``: ``timelines/<check>.csv`` lists the finding events of each check, ``logs/drift.csv`` the
drift events, ``logs/alerts.csv`` the alerts. ``derived``: the period's coverage of the framework the
bundle states (framework.json) as summary/requirements.json and .csv, logs/exceptions.csv,
logs/gaps.csv, oscal/assessment-results.json and report.html.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from posture_verify.canonical import sha256_hex
from posture_verify.coverage import Coverage, Scope, compute
from posture_verify.oscal import assessment_results
from posture_verify.report_html import html_report

__all__ = [
    "ALERT_COLUMNS",
    "DERIVED",
    "DRIFT_COLUMNS",
    "REQUIREMENT_COLUMNS",
    "SCOPE_FILE",
    "TIMELINE_COLUMNS",
    "carried_findings",
    "csv_bytes",
    "derived",
    "is_listing",
    "listings",
]

SCOPE_FILE = "framework.json"  # the framework the summaries are computed for (posture_verify.coverage.Scope)
# the files ``derived`` writes
DERIVED = (
    "summary/requirements.csv",
    "summary/requirements.json",
    "logs/exceptions.csv",
    "logs/gaps.csv",
    "oscal/assessment-results.json",
    "report.html",
)
REQUIREMENT_COLUMNS = [
    "requirement",
    "title",
    "kind",
    "status",
    "reason",
    "automated_status",
    "manual_status",
    "evidenced_pct",
    "runs_scheduled",
    "runs_succeeded",
    "gaps",
    "gap_hours",
    "pass_pct",
    "unmonitored_pct",
    "failures",
    "open_failures",
    "mean_hours_to_remediate",
    "max_hours_to_remediate",
    "exceptions",
    "checks",
    "manual_controls",
]
EXCEPTION_COLUMNS = ["id", "check_id", "resource_pattern", "owner", "reason", "from", "until"]
GAP_COLUMNS = ["source", "start", "end", "hours"]

TIMELINE_COLUMNS = ["at", "snapshot_id", "resource_id", "previous_status", "status", "severity", "message"]
DRIFT_COLUMNS = [
    "at",
    "source",
    "account",
    "kind",
    "check_id",
    "resource_id",
    "previous_status",
    "status",
    "severity",
    "detail",
]
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


def listings(
    events: Iterable[dict[str, Any]], drift: Iterable[dict[str, Any]], alerts: Iterable[dict[str, Any]]
) -> dict[str, bytes]:
    """Every listing file by name, from the finding events, drift events and alert rows of the bundle (each
    in the order of its ``id``)."""
    by_check: dict[str, list[dict[str, Any]]] = {}
    for e in sorted(events, key=lambda r: int(r["id"])):
        by_check.setdefault(str(e["check_id"]), []).append(e)
    out = {timeline_name(chk): csv_bytes(rows, TIMELINE_COLUMNS) for chk, rows in sorted(by_check.items())}
    out["logs/drift.csv"] = csv_bytes(sorted(drift, key=lambda r: int(r["id"])), DRIFT_COLUMNS)
    out["logs/alerts.csv"] = csv_bytes(sorted(alerts, key=lambda r: int(r["id"])), ALERT_COLUMNS)
    return out


def carried_findings(
    baseline: Mapping[tuple[str, str], Mapping[str, Any]], findings: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The findings open at the period's start, from the segment's baseline (per source and account: uid ->
    [status, message]) and ``findings`` (uid -> [check_id, resource_id]); and the problems found: a uid
    without its check and resource, or one they do not hash to (docs/evidence-format.md, section 10)."""
    out: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    for (source, account), state in sorted(baseline.items()):
        for uid, value in sorted(state.items()):
            pair = findings.get(uid)
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                problems.append(
                    (
                        f"chain/segment.json baseline_findings {uid}",
                        "missing: the baseline's finding has no check and resource (removed)",
                    )
                )
                continue
            if sha256_hex(f"{pair[0]}\x00{pair[1]}".encode())[:32] != uid:
                problems.append(
                    (
                        f"chain/segment.json baseline_findings {uid}",
                        f"check {pair[0]!r} and resource {pair[1]!r} do not give this finding id (altered)",
                    )
                )
                continue
            out.append(
                {
                    "uid": uid,
                    "source": source,
                    "account": account,
                    "check_id": pair[0],
                    "resource_id": pair[1],
                    "status": value[0],
                    "message": value[1],
                }
            )
    return out, problems


def derived(
    scope: Scope,
    *,
    start: datetime,
    end: datetime,
    generated: datetime,
    runs: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
    carried: Iterable[Mapping[str, Any]],
    exceptions: Iterable[Mapping[str, Any]],
    documents: Iterable[Mapping[str, Any]],
    files: Mapping[int, str],
    entries: int,
    checkpoints: int,
    key: str | None,
    start_known: bool = True,
) -> dict[str, bytes]:
    """The coverage files of a bundle by name (``DERIVED``). ``files``: manual document id -> its path in the
    bundle; ``entries``, ``checkpoints``: how many the bundle holds; ``key``: the signing key's fingerprint.
    ``generated`` (the manifest's ``generated_at``) ends a period that had not ended yet. ``start_known``:
    False when the bundle has no baseline (history pruned before it): nothing automated is then passing."""
    cov = compute(
        scope,
        start=start,
        end=end,
        now=generated,
        runs=runs,
        events=sorted(events, key=lambda r: int(r["id"])),
        carried=carried,
        exceptions=exceptions,
        documents=documents,
        start_known=start_known,
    )
    return _files(cov, scope, generated, files, entries, checkpoints, key)


def _files(
    cov: Coverage,
    scope: Scope,
    generated: datetime,
    files: Mapping[int, str],
    entries: int,
    checkpoints: int,
    key: str | None,
) -> dict[str, bytes]:
    excs = sorted({x["id"]: x for c in cov.checks.values() for x in c.exceptions}.values(), key=lambda x: int(x["id"]))
    gaps = [g.to_dict() for s in cov.sources.values() for g in s.gaps]
    oscal = assessment_results(cov, framework=scope.id, entries=entries, generated=generated, documents=files)
    report = html_report(
        cov,
        entries=entries,
        checkpoints=checkpoints,
        files=files,
        framework_name=scope.name,
        generated=generated,
        key_fingerprint=key,
    )
    return {
        "summary/requirements.csv": csv_bytes(cov.requirements, REQUIREMENT_COLUMNS),
        "summary/requirements.json": json.dumps(cov.to_dict(), indent=1).encode(),
        "logs/exceptions.csv": csv_bytes(excs, EXCEPTION_COLUMNS),
        "logs/gaps.csv": csv_bytes(gaps, GAP_COLUMNS),
        "oscal/assessment-results.json": json.dumps(oscal, indent=2).encode(),
        "report.html": report.encode(),
    }
