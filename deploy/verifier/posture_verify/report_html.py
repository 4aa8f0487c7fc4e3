"""The human-readable report of a bundle, written for an auditor: plain HTML with inline CSS, no
scripts, no external resources (it is opened from a zip, offline, possibly printed).

Summary first (period, framework, sources and their monitored share, criteria by status), then each
criterion with its status, the reason and its failures, the monitoring gaps on a timeline, the manual
documents, the exceptions in force, and how to verify the bundle. Every number is formatted for
people (posture_verify.coverage: fmt_pct, fmt_when, fmt_duration).

The exporter writes it and the verifier writes it again from the verified records and compares bytes:
the output depends only on its arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from html import escape
from typing import Any

from posture_verify.coverage import (
    FAILING_S,
    NOT_ASSESSED_S,
    NOT_EVIDENCED_S,
    PARTLY_S,
    PASSING_S,
    Coverage,
    DocumentPeriod,
    Failure,
    fmt_duration,
    fmt_pct,
    fmt_when,
)

__all__ = ["html_report"]

# status -> (css class, label, what it means)
_STATUS = {
    PASSING_S: (
        "st-passing",
        "Passing",
        "automated part passed for the whole monitored period and every manual "
        "control had a document in force for the whole period",
    ),
    FAILING_S: ("st-failing", "Failing", "at least one failure in the period (remediated or still open)"),
    PARTLY_S: (
        "st-partly",
        "Partly",
        "no failure, but evidence covers only part of the period (documents in "
        "force for part of it, or monitoring gaps above the threshold)",
    ),
    NOT_EVIDENCED_S: (
        "st-not-evidenced",
        "Not evidenced",
        "no document in force, or no check result, during the period",
    ),
    NOT_ASSESSED_S: ("st-not-assessed", "Not assessed", "no control of posture-agent covers it: assess it separately"),
}
_ORDER = (FAILING_S, NOT_EVIDENCED_S, PARTLY_S, PASSING_S, NOT_ASSESSED_S)

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2933;
 background:#f4f6f8;margin:0}
main{max-width:1180px;margin:0 auto;padding:28px 32px 48px;background:#fff;min-height:100vh}
header{border-bottom:3px solid #243b53;padding-bottom:14px;margin-bottom:20px}
h1{font-size:24px;margin:0 0 4px;color:#102a43}
h2{font-size:18px;margin:32px 0 10px;color:#102a43;border-bottom:1px solid #d9e2ec;padding-bottom:4px}
h3{font-size:15px;margin:0}
p{margin:6px 0}
.sub{color:#52606d;margin:0}
.meta{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin:16px 0}
.meta div{background:#f0f4f8;border-radius:6px;padding:8px 12px}
.meta b{display:block;font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#627d98}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:10px;margin:12px 0}
.card{border-radius:6px;padding:10px 12px;border-left:6px solid;background:#fff;box-shadow:0 0 0 1px #d9e2ec}
.card .n{font-size:26px;font-weight:700;display:block}
.card .l{font-weight:600}
.card .d{font-size:12px;color:#52606d}
table{border-collapse:collapse;width:100%;margin:8px 0 14px}
th,td{border-bottom:1px solid #e4e7eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f8;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#486581}
td.num,th.num{text-align:right;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.crit{border-left:5px solid;padding:8px 12px;margin:10px 0;background:#fbfcfd;page-break-inside:avoid}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
.st-passing{border-color:#2f8132}.badge.st-passing{background:#e3f4e4;color:#1e5b21}
.st-failing{border-color:#c53030}.badge.st-failing{background:#fde8e8;color:#9b1c1c}
.st-partly{border-color:#d69e2e}.badge.st-partly{background:#fdf3dc;color:#8a5a00}
.st-not-evidenced{border-color:#7b3fa0}.badge.st-not-evidenced{background:#f1e6f8;color:#5b2c79}
.st-not-assessed{border-color:#9aa5b1}.badge.st-not-assessed{background:#eef0f2;color:#52606d}
.crit .head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.crit .facts{color:#52606d;font-size:13px}
.crit table{margin:6px 0 2px;font-size:13px}
.open{color:#9b1c1c;font-weight:600}
.overdue td{background:#fdf3dc}.overdue .due{color:#9b1c1c;font-weight:700}
.timeline{margin:6px 0 18px}
.bar{position:relative;height:18px;background:#2f8132;border-radius:3px;overflow:hidden}
.bar .gap{position:absolute;top:0;bottom:0;background:#c53030;min-width:2px}
.axis{display:flex;justify-content:space-between;font-size:12px;color:#627d98;margin-top:2px}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin:0 4px 0 12px}
.note{color:#52606d;font-size:13px}
.nw{white-space:nowrap}.small{font-size:11px;color:#52606d}
.verify{background:#102a43;color:#f0f4f8;border-radius:6px;padding:12px 16px;white-space:pre-wrap}
footer{margin-top:32px;color:#829ab1;font-size:12px}
@media print{body{background:#fff}main{padding:0}.crit,.card{break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return escape(str(value))


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def _badge(status: str) -> str:
    cls, label, _ = _STATUS[status]
    return f"<span class='badge {cls}'>{label}</span>"


def _table(
    head: Iterable[str],
    rows: Iterable[Iterable[str]],
    *,
    empty: str,
    num: Iterable[int] = (),
    row_class: Iterable[str] | None = None,
) -> str:
    """Cells are HTML already escaped by the caller; ``num`` marks right-aligned columns."""
    rows = [list(r) for r in rows]
    if not rows:
        return f"<p class='note'>{_e(empty)}</p>"
    nums = set(num)
    classes = list(row_class) if row_class is not None else [""] * len(rows)
    th = "".join(f"<th{' class=num' if i in nums else ''}>{_e(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        f"<tr{f' class={c}' if c else ''}>"
        + "".join(f"<td{' class=num' if i in nums else ''}>{cell}</td>" for i, cell in enumerate(r))
        + "</tr>"
        for r, c in zip(rows, classes, strict=True)
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _span(cov: Coverage) -> timedelta:
    return cov.end - cov.start


def _summary(cov: Coverage, framework_name: str, entries: int, checkpoints: int, documents: int) -> str:
    counts = cov.status_counts()
    cards = "".join(
        f"<div class='card {_STATUS[s][0]}'><span class='n'>{counts[s]}</span><span class='l'>{_STATUS[s][1]}"
        f"</span><div class='d'>{_e(_STATUS[s][2])}</div></div>"
        for s in (PASSING_S, FAILING_S, PARTLY_S, NOT_EVIDENCED_S, NOT_ASSESSED_S)
    )
    sources = _table(
        ["Source", "Collects every", "Runs succeeded", "Runs failed", "Monitored share", "Gaps"],
        (
            [
                f"<b>{_e(s.source)}</b>",
                _e(fmt_duration(s.interval)),
                f"{s.succeeded:,} of {s.scheduled:,} expected",
                f"{s.failed:,}",
                _e(fmt_pct(s.monitored_pct)),
                f"{len(s.gaps):,}",
            ]
            for s in cov.sources.values()
        ),
        empty="No collection ran during the period: nothing automated was monitored.",
        num=(2, 3, 4, 5),
    )
    total = sum(counts.values())
    return (
        "<section id='summary'><h2>Summary</h2>"
        "<div class='meta'>"
        f"<div><b>Framework</b>{_e(framework_name)}</div>"
        f"<div><b>Period</b>{_e(fmt_when(cov.start))} to {_e(fmt_when(cov.end))}</div>"
        f"<div><b>Length</b>{_e(fmt_duration(_span(cov)))}</div>"
        f"<div><b>Evidence chain</b>{_n(entries, 'entry', 'entries')}, {_n(checkpoints, 'checkpoint')}, "
        f"{_n(documents, 'document')}</div>"
        "</div>"
        f"<h3>{total} criteria by status</h3><div class='cards'>{cards}</div>"
        f"<p class='note'>A criterion is passing only when its automated part passed for the whole monitored "
        f"period with no failure and at most {_e(fmt_pct(cov.unmonitored_threshold_pct))} of the period "
        "unverified (unmonitored or in error), and every manual control it relies on had a document in force "
        "for the whole period. The OSCAL file marks only passing criteria as satisfied.</p>"
        f"<h3>Sources</h3>{sources}"
        "<p class='note'>A gap is a stretch longer than twice the collection interval without a successful "
        "collection, agent downtime included. Time in a gap is unmonitored and is never credited as "
        "passing.</p></section>"
    )


def _failure_rows(fails: list[Failure], start: datetime, end: datetime) -> list[list[str]]:
    rows = []
    for f in fails:
        least = "at least " if f.open_at_start else ""  # detected before the period: counted from its start
        if f.fixed_at is None:
            fixed = "<span class='open'>still open</span>"
            ttr = f"<span class='open'>open for {least}{_e(fmt_duration(end - f.detected_at))}</span>"
        else:
            fixed, ttr = _e(fmt_when(f.fixed_at)), least + _e(fmt_duration(f.time_to_remediate))
        detected = (
            "failing at the period start" if f.open_at_start and f.detected_at <= start else fmt_when(f.detected_at)
        )
        rows.append(
            [
                f"<span class='mono'>{_e(f.check_id)}</span>",
                f"<span class='mono'>{_e(f.resource_id)}</span>",
                _e(detected),
                fixed,
                ttr,
                _e(f.message),
            ]
        )
    return rows


def _criterion(req: dict[str, Any], cov: Coverage) -> str:
    status = req["status"]
    facts = []
    auto, man = req["automated"], req["manual"]
    if auto is not None and auto["unmonitored_pct"] is not None:
        n, seen = len(auto["checks"]), len(auto["monitored_checks"])
        facts.append(
            f"Automated, {n} check{'s' if n != 1 else ''} ({seen} with results): passing "
            f"{fmt_pct(auto['pass_pct'])}, failing {fmt_pct(auto['fail_pct'])}, in error "
            f"{fmt_pct(auto['error_pct'])}, unmonitored {fmt_pct(auto['unmonitored_pct'])} of the period"
        )
    if man is not None:
        docs = sorted(
            {
                f"{d.filename} ({d.control_id})"
                for c in req["manual_controls"]
                if c in cov.manual
                for d in cov.manual[c].documents
            }
        )
        n = len(req["manual_controls"])
        which = ", ".join(req["manual_controls"])
        facts.append(
            (
                f"Manual control {which}: a document in force for "
                if n == 1
                else f"Manual controls {which}: all {n} with a document in force at once for "
            )
            + f"{fmt_pct(man['evidenced_pct'])} of the period; documents: "
            + (", ".join(docs) or "none")
        )
    if req["exceptions"]:
        facts.append(f"{req['exceptions']} exception{'s' if req['exceptions'] != 1 else ''} in force")
    fails = sorted(
        (f for c in req["checks"] if c in cov.checks for f in cov.checks[c].failures),
        key=lambda f: (f.detected_at, f.resource_id),
    )
    table = ""
    if fails:
        table = _table(
            ["Check", "Resource", "Detected", "Fixed", "Time to remediate", "Message"],
            _failure_rows(fails, cov.start, cov.end),
            empty="",
            num=(4,),
        )
    return (
        f"<div class='crit {_STATUS[status][0]}' id='{_e(req['requirement'])}'>"
        f"<div class='head'><h3>{_e(req['requirement'])} {_e(req['title'])}</h3>{_badge(status)}</div>"
        f"<p>{_e(req['reason'])}</p>" + "".join(f"<p class='facts'>{_e(x)}.</p>" for x in facts) + table + "</div>"
    )


def _criteria(cov: Coverage) -> str:
    reqs = sorted(cov.requirements, key=lambda r: _ORDER.index(r["status"]))
    return (
        "<section id='criteria'><h2>Criteria</h2><p class='note'>Failing criteria first, then not evidenced, "
        "partly, passing and not assessed; each with the reason for its status and its failures.</p>"
        + "".join(_criterion(r, cov) for r in reqs)
        + "</section>"
    )


def _pos(at: datetime, cov: Coverage) -> float:
    span = _span(cov).total_seconds()
    return round(100 * (at - cov.start).total_seconds() / span, 1) if span > 0 else 0.0


def _gaps(cov: Coverage) -> str:
    parts = [
        "<section id='gaps'><h2>Monitoring gaps</h2>",
        "<p class='legend note'>Each bar is the whole period for one source:<span style='background:#2f8132'>"
        "</span>collected<span style='background:#c53030'></span>gap (unmonitored)</p>",
    ]
    mid = cov.start + _span(cov) / 2
    for s in cov.sources.values():
        bars = "".join(
            f"<div class='gap' style='left:{_pos(g.start, cov)}%;"
            f"width:{max(_pos(g.end, cov) - _pos(g.start, cov), 0.2):.1f}%'"
            f" title='{_e(fmt_when(g.start))} to {_e(fmt_when(g.end))}'></div>"
            for g in s.gaps
        )
        parts.append(
            f"<div class='timeline'><b>{_e(s.source)}</b>: monitored {_e(fmt_pct(s.monitored_pct))} of the "
            f"period, {len(s.gaps)} gap{'s' if len(s.gaps) != 1 else ''}<div class='bar'>{bars}</div>"
            f"<div class='axis'><span>{_e(fmt_when(cov.start))}</span><span>{_e(fmt_when(mid))}</span>"
            f"<span>{_e(fmt_when(cov.end))}</span></div></div>"
        )
    gaps = sorted((g for s in cov.sources.values() for g in s.gaps), key=lambda g: (g.start, g.source))
    parts.append(
        _table(
            ["Source", "From", "To", "Duration"],
            ([_e(g.source), _e(fmt_when(g.start)), _e(fmt_when(g.end)), _e(fmt_duration(g.duration))] for g in gaps),
            empty="No monitoring gap in the period."
            if cov.sources
            else "No source collected during the period: the whole period is unmonitored.",
            num=(3,),
        )
    )
    parts.append("</section>")
    return "".join(parts)


def _documents(cov: Coverage, files: Mapping[int, str]) -> str:
    docs: dict[int, DocumentPeriod] = {d.id: d for m in cov.manual.values() for d in m.documents}
    latest: dict[str, DocumentPeriod] = {}
    for d in sorted(docs.values(), key=lambda d: (d.attached_at, d.id)):
        latest[d.control_id] = d
    rows, classes = [], []
    for d in sorted(docs.values(), key=lambda d: (d.control_id, d.attached_at, d.id)):
        overdue = latest[d.control_id] is d and d.next_review < cov.end
        state = (
            "superseded " + fmt_when(d.in_force_until)
            if d.superseded_by is not None
            else "review overdue"
            if overdue
            else "lapsed, replaced later"
            if d.lapsed_in_period
            else "in force"
        )
        due = _e(fmt_when(d.next_review))
        rows.append(
            [
                f"<b>{_e(d.control_id)}</b>",
                f"{_e(d.filename)}<br><span class='mono small'>{_e(files.get(d.id, 'not in this bundle'))}</span>",
                _e(d.owner),
                f"<span class='nw'>{_e(fmt_when(d.attached_at))}</span>",
                f"<span class='nw'>{d.review_every_days} days</span>",
                f"<span class='nw{' due' if overdue else ''}'>{due}</span>",
                _e(fmt_pct(d.in_force_pct)),
                _e(state),
                f"<span class='mono small' title='{_e(d.sha256)}'>{_e(d.sha256[:12])}…</span>",
            ]
        )
        classes.append("overdue" if overdue else "")
    table = _table(
        ["Control", "Document", "Owner", "Attached", "Review every", "Next review", "In force", "State", "SHA-256"],
        rows,
        row_class=classes,
        num=(6,),
        empty="No manual document was in force during the period.",
    )
    missing = [m for m in cov.manual.values() if not m.documents]
    miss = _table(
        ["Control", "Title", "Expected document"],
        ([f"<b>{_e(m.control_id)}</b>", _e(m.title), _e(m.expected)] for m in missing),
        empty="Every manual control had a document in force at some time of the period.",
    )
    return (
        "<section id='documents'><h2>Manual documents</h2><p class='note'>A document is in force from its "
        "attachment until its next review date, or until a newer document is attached to the same control. "
        "Overdue reviews are highlighted.</p>"
        + table
        + f"<h3>Manual controls without a document in force ({len(missing)})</h3>"
        + miss
        + "</section>"
    )


def _exceptions(cov: Coverage) -> str:
    excs = sorted({x["id"]: x for c in cov.checks.values() for x in c.exceptions}.values(), key=lambda x: x["id"])

    def when(v: str) -> str:
        return fmt_when(datetime.fromisoformat(v.replace("Z", "+00:00")))

    return (
        "<section id='exceptions'><h2>Exceptions in force</h2>"
        + _table(
            ["Check", "Resources", "Owner", "Reason", "From", "Until"],
            (
                [
                    f"<span class='mono'>{_e(x['check_id'])}</span>",
                    f"<span class='mono'>{_e(x['resource_pattern'])}</span>",
                    _e(x["owner"]),
                    _e(x["reason"]),
                    _e(when(x["from"])),
                    _e(when(x["until"])),
                ]
                for x in excs
            ),
            empty="No exception was in force during the period.",
        )
        + "</section>"
    )


def _verify(key_fingerprint: str | None) -> str:
    return (
        "<section id='verify'><h2>How to verify this bundle</h2>"
        "<p>Everything in this report is computed from the records in the bundle and from the framework "
        "mapping it states (<code>framework.json</code>). Check that the bundle is complete and unaltered before "
        "relying on it: the verifier checks the records, then computes this report, the OSCAL file, the "
        "summaries, timelines and logs again from them and compares them byte for byte, so none of them can be "
        "edited, even by whoever holds the signing key. It prints the SHA-256 of the framework mapping: compare "
        "it with the one you agreed on, or pin it with <code>--framework-sha256</code>.</p><ol>"
        "<li>Install the verifier from posture-agent's source repository, not from this bundle: in a checkout "
        "you obtained yourself, <code>pip install ./deploy/verifier</code> (it needs only the Python standard "
        "library, <code>cryptography</code> and <code>rfc3161-client</code>).</li>"
        "<li>Run it on the zip with the fingerprint of the signing key the organisation gave you before the "
        "period, out of band:</li></ol>"
        "<div class='verify mono'>posture-verify bundle.zip --key-fingerprint &lt;the fingerprint you were "
        "given&gt;</div>"
        + (
            f"<p class='note'>This bundle says it was signed with the key of fingerprint <code>{_e(key_fingerprint)}"
            "</code>. Compare it with the one you were given; do not copy it from this report into the command.</p>"
            if key_fingerprint
            else "<p class='note'>This bundle was exported without a signing key: its checkpoints and manifest are not "
            "signed, and a verifier given a key fingerprint will refuse it.</p>"
        )
        + "<p>Exit status 0 means every file, hash, chain link, record and signature adds up; otherwise each "
        "problem is printed as <code>record: what is wrong</code> and the exit status is 1.</p></section>"
    )


def html_report(
    cov: Coverage,
    *,
    entries: int,
    checkpoints: int,
    files: Mapping[int, str],
    framework_name: str | None = None,
    key_fingerprint: str | None = None,
    generated: datetime | None = None,
) -> str:
    """``files``: manual document id -> its path in the bundle."""
    name = framework_name or cov.framework.upper()
    title = f"{name} evidence report"
    return "\n".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
            f"<header><h1>{_e(title)}</h1><p class='sub'>{_e(fmt_when(cov.start))} to {_e(fmt_when(cov.end))}"
            + (f" &middot; generated {_e(fmt_when(generated))}" if generated else "")
            + " &middot; posture-agent</p>"
            "</header>",
            _summary(cov, name, entries, checkpoints, len(files)),
            _criteria(cov),
            _gaps(cov),
            _documents(cov, files),
            _exceptions(cov),
            _verify(key_fingerprint),
            "<footer>Machine-readable versions: summary/requirements.json and .csv, oscal/assessment-results.json, "
            "logs/*.csv, timelines/*.csv.</footer></main></body></html>",
        ]
    )
