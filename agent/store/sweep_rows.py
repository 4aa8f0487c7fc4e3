"""The tables of sweeps (migration 0011), on the store's shared metadata. agent/scale/sweeps.py reads
and writes them; the worker's claim runs inside the account's cycle transaction (CycleTransaction.claim)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from agent.store.schema import UTCDateTime, metadata

__all__ = ["sweep_accounts", "sweeps"]

sweeps = Table(
    "sweeps",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("epoch", BigInteger, nullable=False),  # the scheduler's lease epoch when it opened the sweep
    Column("started_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("detail", Text, nullable=False),  # JSON: how the accounts were found, and any error doing so
    Index("ix_sweeps_open", "closed_at", "deadline"),
)

sweep_accounts = Table(
    "sweep_accounts",
    metadata,
    Column("sweep_id", String(32), ForeignKey("sweeps.id"), primary_key=True),
    Column("account", String(128), primary_key=True),
    Column("run_id", String(32), nullable=True),  # the run that recorded it; NULL: not yet
    Column("outcome", String(16), nullable=True),  # the run's status, or "gap" when closed at the deadline
    Column("recorded_at", UTCDateTime, nullable=True),
)
