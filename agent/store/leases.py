"""The table of leader leases (migration 0010), on the store's shared metadata: one row per lock
name, its fencing epoch, who holds it and since when. agent/store/leader.py reads and writes it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table, Text

from agent.store.schema import UTCDateTime, metadata

__all__ = ["scale_leases"]

scale_leases = Table(
    "scale_leases",
    metadata,
    Column("name", Text, primary_key=True),  # the lock's name, e.g. posture-agent/scheduler
    Column("epoch", BigInteger, nullable=False),  # 1 at the first acquisition, +1 at each one after
    Column("holder", Text, nullable=False),  # host:pid of the process that acquired it (informational)
    Column("acquired_at", UTCDateTime, nullable=False),  # the database server's time at acquisition
)
