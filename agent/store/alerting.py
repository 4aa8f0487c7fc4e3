"""Tables of drift, alerting and risk acceptance (on the shared metadata; migration 0003)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from agent.store.schema import UTCDateTime, metadata

__all__ = ["alerts_outbox", "drift_events", "exceptions"]

# Append-only: what changed between two snapshots of one (source, account), per resource or finding.
drift_events = Table(
    "drift_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("snapshot_id", Integer, nullable=False),
    Column("source", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("account", String(128), nullable=False),
    Column("region", String(64), nullable=False),
    # added | removed | modified (resources); regressed | resolved | new_failing | error | gone | excepted
    Column("kind", String(32), nullable=False),
    Column("check_id", String(128), nullable=False),  # "" for resource changes
    Column("resource_id", Text, nullable=False),
    Column("resource_type", String(128), nullable=False),
    Column("severity", String(16), nullable=False),  # "" for resource changes
    Column("previous_status", String(16), nullable=True),
    Column("status", String(16), nullable=True),
    Column("detail", Text, nullable=False),  # JSON: attribute changes, finding message
    Column("at", UTCDateTime, nullable=False),
    Index("ix_drift_events_at", "at"),
    Index("ix_drift_events_source_at", "source", "at"),
    Index("ix_drift_events_resource", "resource_id", "at"),  # the console's resource page (migration 0012)
)

# Transactional outbox: written in the cycle's transaction, delivered by the dispatcher thread.
# The payload is the channel-neutral message; channel URLs and secrets are never stored.
alerts_outbox = Table(
    "alerts_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(200), nullable=False),
    Column("channel", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | sent | parked
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=False),
    UniqueConstraint("dedup_key", name="uq_alerts_outbox_dedup"),
    Index("ix_alerts_outbox_due", "state", "next_attempt_at"),
)

# Risk acceptance: matching findings are recorded as `excepted` until `expires_at`.
exceptions = Table(
    "exceptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_id", String(128), nullable=False),
    Column("resource_pattern", Text, nullable=False),  # fnmatch pattern over the resource id
    Column("reason", Text, nullable=False),
    Column("owner", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("warned_at", UTCDateTime, nullable=True),  # the "expires within a week" alert went out
    Column("expired_at", UTCDateTime, nullable=True),  # the "expired" alert went out
    Index("ix_exceptions_check", "check_id"),
)
