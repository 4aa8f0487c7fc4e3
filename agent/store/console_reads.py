"""Reads of the web console (agent/console/): findings with filters and pages, one resource (its body,
findings and drift), the drift feed of a period, and the endpoint devices.

Every read takes ``as_of``: None is the current state (``finding_current``, the latest snapshots);
a time is the state then, replayed from ``finding_events`` and the snapshots finished by then (an
auditor whose period has ended sees the state at its end, never later).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, String, func, or_, select, type_coerce

from agent.store import schema as t
from agent.store.alerting import drift_events
from agent.store.blobs import FULL_EVERY, Manifest, decompress, resolve_manifest
from agent.store.schema import UTCDateTime

if TYPE_CHECKING:
    from agent.store.db import Store

__all__ = [
    "FindingFilter",
    "ResourceBody",
    "drift_feed",
    "endpoint_devices",
    "filter_choices",
    "findings_page",
    "resource_body",
    "resource_drift",
]

DEVICE_TYPE = "endpoint.device"
_BLOB_BATCH = 500


@dataclass(frozen=True, kw_only=True)
class FindingFilter:
    """Each non-empty tuple must match one of its values; ``checks_in`` (None: no limit) is the set of
    checks a page may show at all: a requirement's, or an auditor's frameworks'."""

    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    provider: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    check: tuple[str, ...] = ()
    resource: str | None = None
    checks_in: frozenset[str] | None = None


def _findings_source(as_of: datetime | None, flt: FindingFilter) -> Any:
    """finding_current, or the latest event of every finding at ``as_of`` that was not gone.

    The replay only reads the events of the findings ``flt`` can select by check and resource: a
    finding's uid is derived from its check and resource, so those filters select whole findings and
    can come before "the latest event of each" (the status, severity and account filters apply to
    that latest event, after it)."""
    if as_of is None:
        return t.finding_current
    fe = t.finding_events
    last = select(func.max(fe.c.id).label("id")).where(fe.c.at <= as_of)
    if flt.resource is not None:
        last = last.where(fe.c.resource_id == flt.resource)
    if flt.check:
        last = last.where(fe.c.check_id.in_(flt.check))
    if flt.checks_in is not None:
        last = last.where(fe.c.check_id.in_(sorted(flt.checks_in)))
    last_ids = last.group_by(fe.c.uid).subquery()
    cols = [c for c in fe.c if c.name not in ("id", "snapshot_id", "previous_status", "at")]
    return (
        select(*cols, fe.c.snapshot_id, fe.c.at.label("since"), fe.c.at.label("first_seen"))
        .join(last_ids, fe.c.id == last_ids.c.id)
        .where(fe.c.status != "gone")
        .subquery("findings_at")
    )


def _filtered(src: Any, flt: FindingFilter, query: Select[Any]) -> Select[Any]:
    c = src.c
    for col, values in (
        (c.status, flt.status),
        (c.severity, flt.severity),
        (c.provider, flt.provider),
        (c.account, flt.account),
        (c.check_id, flt.check),
    ):
        if values:
            query = query.where(col.in_(values))
    if flt.resource is not None:
        query = query.where(c.resource_id == flt.resource)
    if flt.checks_in is not None:
        query = query.where(c.check_id.in_(sorted(flt.checks_in)))
    return query


def _utc(value: Any) -> datetime:
    """What UTCDateTime reads back, from the driver's value: SQLite's text, PostgreSQL's datetime."""
    at: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _dicts(conn: Connection, src: Any, query: Select[Any]) -> list[dict[str, Any]]:
    """The rows of ``query`` (selecting ``src``'s columns) as dicts, as ``dict(row._mapping)`` gives
    them, faster on 10,000 rows (the posture page reads every finding of its checks): no RowMapping
    per row, and the times come as the driver gives them and are made UTC here, not through a type
    processor per value."""
    times = [c.name for c in src.c if isinstance(c.type, UTCDateTime)]
    cols = [type_coerce(c, String()).label(c.name) if c.name in times else c for c in src.c]
    result = conn.execute(query.with_only_columns(*cols, maintain_column_froms=True))
    keys = list(result.keys())
    rows = [dict(zip(keys, r, strict=True)) for r in result]
    seen: dict[Any, datetime] = {}  # most findings share their times (first seen in the same cycle)
    for row in rows:
        for name in times:
            value = row[name]
            at = seen.get(value)
            if at is None:
                at = seen[value] = _utc(value)
            row[name] = at
    return rows


def findings_page(
    store: Store, flt: FindingFilter, *, as_of: datetime | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the findings ``flt`` selects (by check, resource, uid) and how many there are."""
    src = _findings_source(as_of, flt)
    c = src.c
    rows_q = _filtered(src, flt, select(src)).order_by(c.check_id, c.resource_id, c.uid).offset(offset).limit(limit)
    with store.engine.connect() as conn:
        rows = _dicts(conn, src, rows_q)
        if offset == 0 and len(rows) < limit:  # the whole selection is on this page (the posture page)
            return rows, len(rows)
        count_q = _filtered(src, flt, select(func.count()).select_from(src))
        total = int(conn.execute(count_q).scalar_one())
    return rows, total


def filter_choices(store: Store, checks_in: frozenset[str] | None) -> dict[str, list[str]]:
    """The providers, accounts and checks the current findings have: the options of the filter form."""
    c = t.finding_current.c
    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for name, col in (("provider", c.provider), ("account", c.account), ("check", c.check_id)):
            q = select(col).distinct().order_by(col)
            if checks_in is not None:
                q = q.where(c.check_id.in_(sorted(checks_in)))
            out[name] = [str(v) for v in conn.execute(q).scalars()]
    return out


@dataclass(frozen=True)
class ResourceBody:
    source: str
    account: str
    snapshot_id: int
    collected_at: datetime  # the snapshot's end
    body: dict[str, Any]  # the stored resource: provider, type, id, name, region, attributes, errors


def _blob(conn: Connection, hash_: str) -> bytes:
    body = conn.execute(select(t.blobs.c.body).where(t.blobs.c.hash == hash_)).scalar()
    if body is None:
        raise LookupError(f"blob {hash_} is missing from the store")
    return decompress(body)


def _latest_snapshots(conn: Connection, as_of: datetime | None, **where: str) -> list[Any]:
    """The latest snapshot of each (source, account) finished by ``as_of``, limited by column values."""
    s = t.snapshots.c
    q = select(func.max(s.id)).group_by(s.source, s.account)
    if as_of is not None:
        q = q.where(s.finished_at <= as_of)
    for name, value in where.items():
        q = q.where(s[name] == value)
    ids = [int(i) for i in conn.execute(q).scalars()]
    if not ids:
        return []
    return list(conn.execute(select(t.snapshots).where(s.id.in_(ids)).order_by(s.source, s.account)))


def _latest_snapshot(conn: Connection, as_of: datetime | None, source: str, account: str) -> Any:
    """The latest snapshot of (source, account) finished by ``as_of``: newest first along
    ix_snapshots_source_account, instead of the maximum id over every snapshot of the place (a year of
    them, each one's time read from the table to compare with ``as_of``)."""
    s = t.snapshots.c
    q = select(t.snapshots).where(s.source == source, s.account == account)
    if as_of is not None:
        q = q.where(s.finished_at <= as_of)
    return conn.execute(q.order_by(s.id.desc()).limit(1)).first()


def _body_hash(conn: Connection, manifest_hash: str, resource_id: str) -> str | None:
    """What resolve_manifest(manifest_hash)[resource_id] gives, reading the chain from its newest link
    only as far as the first one naming the resource (a link's items apply after its removals), so a
    resource changed lately costs no full manifest."""
    current = manifest_hash
    for _ in range(FULL_EVERY + 1):  # as many links as resolve_manifest follows
        link = Manifest.decode(_blob(conn, current))
        if resource_id in link.items:
            return link.items[resource_id]
        if resource_id in link.removed or link.base is None:
            return None
        current = link.base
    raise ValueError(f"manifest chain from {manifest_hash} is longer than {FULL_EVERY}")


def resource_body(
    store: Store, resource_id: str, places: Sequence[tuple[str, str]], as_of: datetime | None
) -> ResourceBody | None:
    """The resource as the latest snapshot of one of ``places`` (source, account) holding it stored it."""
    with store.engine.connect() as conn:
        for source, account in places:
            snap = _latest_snapshot(conn, as_of, source, account)
            if snap is None:
                continue
            body_hash = _body_hash(conn, snap.manifest_hash, resource_id)
            if body_hash is not None:
                body = json.loads(_blob(conn, body_hash))
                return ResourceBody(source, account, int(snap.id), snap.finished_at, body)
    return None


def resource_drift(
    store: Store, resource_id: str, start: datetime | None, end: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The drift events of one resource in [start, end], newest first (``detail`` decoded)."""
    q = select(drift_events).where(drift_events.c.resource_id == resource_id)
    return _drift_rows(store, q, start, end, 0, limit)


def _drift_rows(
    store: Store, q: Select[Any], start: datetime | None, end: datetime | None, offset: int, limit: int
) -> list[dict[str, Any]]:
    d = drift_events.c
    if start is not None:
        q = q.where(d.at >= start)
    if end is not None:
        q = q.where(d.at <= end)
    with store.engine.connect() as conn:
        rows = [
            dict(r._mapping) for r in conn.execute(q.order_by(d.at.desc(), d.id.desc()).offset(offset).limit(limit))
        ]
    for r in rows:
        try:
            r["detail"] = json.loads(r["detail"] or "{}")
        except ValueError:
            r["detail"] = {}
    return rows


def drift_feed(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    kinds: Sequence[str] = (),
    checks_in: frozenset[str] | None = None,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Drift events of [start, end], newest first. ``checks_in`` keeps resource changes and the
    transitions of those checks only (an auditor's frameworks)."""
    d = drift_events.c
    q = select(drift_events)
    if kinds:
        q = q.where(d.kind.in_(list(kinds)))
    if checks_in is not None:
        q = q.where(or_(d.check_id == "", d.check_id.in_(sorted(checks_in))))
    return _drift_rows(store, q, start, end, offset, limit)


def endpoint_devices(store: Store, as_of: datetime | None) -> list[ResourceBody]:
    """Every endpoint device in the latest snapshot of each endpoint source and account."""
    out: list[ResourceBody] = []
    with store.engine.connect() as conn:
        for snap in _latest_snapshots(conn, as_of, provider="endpoints"):
            manifest = resolve_manifest(snap.manifest_hash, lambda h: _blob(conn, h))
            hashes = sorted(set(manifest.values()))
            for i in range(0, len(hashes), _BLOB_BATCH):
                batch = hashes[i : i + _BLOB_BATCH]
                for row in conn.execute(select(t.blobs.c.body).where(t.blobs.c.hash.in_(batch))):
                    body = json.loads(decompress(row.body))
                    if body.get("type") == DEVICE_TYPE:
                        out.append(ResourceBody(snap.source, snap.account, int(snap.id), snap.finished_at, body))
    out.sort(key=lambda r: (str(r.body.get("name") or ""), str(r.body.get("id"))))
    return out
