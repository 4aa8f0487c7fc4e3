"""Device reports pushed to ``POST /v1/devices``: one row per accepted report.

The push receiver writes (``save_report``); the push source's collector reads the latest report of
each device (``latest_reports``). Data flows one way: receiver -> table -> collector -> snapshot.
Each accepted report is also entered in the evidence hash chain (kind ``device_report``, its
SHA-256 only). ``(source, device_id, nonce)`` is unique, so a replayed request cannot be stored twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from agent.errors import StoreError
from agent.store.schema import UTCDateTime, metadata

__all__ = [
    "DeviceReport",
    "DuplicateNonce",
    "device_reports",
    "last_reported_at",
    "latest_reports",
    "report_digest",
    "same_report_id",
    "save_report",
]

device_reports = Table(
    "device_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False),
    Column("device_id", String(128), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),  # the device's signed timestamp
    Column("received_at", UTCDateTime, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the validated JSON document
    UniqueConstraint("source", "device_id", "nonce", name="uq_device_reports_nonce"),
    Index("ix_device_reports_latest", "source", "device_id", "reported_at"),
)


class DuplicateNonce(Exception):
    """This (source, device, nonce) was already accepted: a replay."""


@dataclass(frozen=True, kw_only=True)
class DeviceReport:
    source: str
    device_id: str
    reported_at: datetime
    received_at: datetime
    body: dict[str, Any]


def save_report(
    store: Any,
    *,
    source: str,
    device_id: str,
    nonce: str,
    reported_at: datetime,
    received_at: datetime,
    body: dict[str, Any],
) -> int:
    """Store one accepted report and its evidence-chain entry in one transaction."""
    text = _canonical(body)
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = {
        "source": source,
        "device_id": device_id,
        "nonce": nonce,
        "reported_at": reported_at,
        "received_at": received_at,
        "sha256": digest,
    }
    try:
        with store.transaction() as conn:
            new_id = int(
                conn.execute(
                    insert(device_reports).values(**row, body=text).returning(device_reports.c.id)
                ).scalar_one()
            )
            store.append_evidence(
                conn, at=received_at, kind="device_report", ref=f"device_report:{new_id}", content={**row, "id": new_id}
            )
    except IntegrityError:
        raise DuplicateNonce(f"report {nonce} of {device_id} was already received") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store device report: {type(exc).__name__}") from None
    return new_id


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def report_digest(body: dict[str, Any]) -> str:
    """The SHA-256 stored (and chained) for a report's document."""
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def same_report_id(
    store: Any, *, source: str, device_id: str, nonce: str, reported_at: datetime, sha256: str
) -> int | None:
    """The id of the report already stored under this nonce when it is the very same report (same
    signed time and document): a device retrying a request whose answer it never got. None when the
    nonce is unused; DuplicateNonce when it was used for another report."""
    q = select(device_reports.c.id, device_reports.c.reported_at, device_reports.c.sha256).where(
        device_reports.c.source == source, device_reports.c.device_id == device_id, device_reports.c.nonce == nonce
    )
    with store.engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    if row.reported_at != reported_at or row.sha256 != sha256:
        raise DuplicateNonce(f"nonce {nonce} of {device_id} was used for another report")
    return int(row.id)


def last_reported_at(store: Any, source: str, device_id: str) -> datetime | None:
    q = select(func.max(device_reports.c.reported_at)).where(
        device_reports.c.source == source, device_reports.c.device_id == device_id
    )
    with store.engine.connect() as conn:
        value = conn.execute(q).scalar()
    return value if value is None or isinstance(value, datetime) else None


def latest_reports(store: Any, source: str, since: datetime) -> list[DeviceReport]:
    """The newest report of every device of ``source`` that reported after ``since``."""
    newest = (
        select(device_reports.c.device_id, func.max(device_reports.c.id).label("id"))
        .where(device_reports.c.source == source, device_reports.c.reported_at >= since)
        .group_by(device_reports.c.device_id)
        .subquery()
    )
    q = (
        select(device_reports)
        .join(newest, and_(device_reports.c.id == newest.c.id))
        .order_by(device_reports.c.device_id)
    )
    with store.engine.connect() as conn:
        rows = list(conn.execute(q))
    return [
        DeviceReport(
            source=r.source,
            device_id=r.device_id,
            reported_at=r.reported_at,
            received_at=r.received_at,
            body=json.loads(r.body),
        )
        for r in rows
    ]
