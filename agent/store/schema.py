"""Tables of the evidence store (SQLAlchemy Core). Alembic migrations create them; this module is
what the code reads and writes through, and a test checks both agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "as_stored_utc",
    "metadata",
    "runs",
    "snapshots",
    "blobs",
    "finding_events",
    "finding_current",
    "evidence_log",
    "Sha256Hex",
    "UTCDateTime",
]


def as_stored_utc(value: datetime) -> datetime:
    """A time as UTCDateTime reads it back: timezone-aware UTC (a naive time is taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as UTC everywhere; always read back timezone-aware (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_stored_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_stored_utc(value)


class Sha256Hex(TypeDecorator[str]):
    """A SHA-256 as 64 lowercase hex characters to the code, stored as its 32 bytes (bytea on PostgreSQL, a
    BLOB on SQLite): as text each one cost 32 to 33 bytes more per row (migration 0009). A value written as
    text before that migration still reads back as itself."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        try:
            return bytes.fromhex(value)
        except (ValueError, TypeError):
            # not a hash (a lookup by a name read from altered evidence): bytes no 32-byte hash equals,
            # so the lookup finds nothing and the caller names what is missing instead of raising
            return b"\x00not-a-sha256:" + str(value).encode("utf-8", "backslashreplace")

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return bytes(value).hex()


metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # complete | partial | failed
    Column("resource_count", Integer, nullable=False, default=0),
    Column("error_count", Integer, nullable=False, default=0),
    Column("detail", Text, nullable=False, default="{}"),
)

# Content-addressed bodies: resources and snapshot manifests, zstd-compressed canonical JSON.
blobs = Table(
    "blobs",
    metadata,
    Column("hash", Sha256Hex, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("size", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id"), nullable=False),
    Column("source", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("account", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("errors", Text, nullable=False, default="[]"),
    Column("manifest_hash", Sha256Hex, ForeignKey("blobs.hash"), nullable=False),
    Column("results_hash", Sha256Hex, nullable=False),
    Column("resource_count", Integer, nullable=False),
    Index("ix_snapshots_source_account", "source", "account", "id"),
)

# Append-only: one row per change of a finding's (status, message), and 'gone' when it disappears.
finding_events = Table(
    "finding_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("snapshot_id", Integer, ForeignKey("snapshots.id"), nullable=False),
    Column("uid", String(32), nullable=False),
    Column("source", String(128), nullable=False),
    Column("check_id", String(128), nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("resource_type", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("account", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pass | fail | error | not_applicable | gone
    Column("previous_status", String(16), nullable=True),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_finding_events_uid", "uid", "id"),
    Index("ix_finding_events_check", "check_id", "at"),
    Index("ix_finding_events_at", "at"),
    Index("ix_finding_events_resource", "resource_id", "at"),  # the console's resource page (migration 0012)
)

# Derived cache of the latest state of every finding (rebuildable from finding_events).
finding_current = Table(
    "finding_current",
    metadata,
    Column("uid", String(32), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("check_id", String(128), nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("resource_type", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("account", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("snapshot_id", Integer, nullable=False),
    Index("ix_finding_current_source_account", "source", "account"),
    Index("ix_finding_current_check", "check_id", "status"),
    Index("ix_finding_current_resource", "resource_id"),  # the console's resource page (migration 0012)
    Index("ix_finding_current_order", "check_id", "resource_id", "uid"),  # the console's findings order (0012)
)

# Hash chain over every evidence entry (collections now; evaluations, drift, alerts later).
evidence_log = Table(
    "evidence_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ref", String(128), nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", Sha256Hex, nullable=False),
    Column("prev_hash", Sha256Hex, nullable=False),
    Column("entry_hash", Sha256Hex, nullable=False),
)
