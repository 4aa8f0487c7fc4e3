"""Tables of signed checkpoints and the SQLite pruning guard (on the shared metadata; migration 0004)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from agent.store.schema import UTCDateTime, metadata

__all__ = ["evidence_checkpoints", "evidence_prune_guard"]

# A checkpoint commits to the chain head at a time (and to what retention pruned before it); each
# one chains to the previous checkpoint and is Ed25519-signed when a signing key is configured.
evidence_checkpoints = Table(
    "evidence_checkpoints", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("head_seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("pruned_through", BigInteger, nullable=False),
    Column("pruned_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("checkpoint_hash", String(64), nullable=False),
    Column("key_id", String(64), nullable=True),
    Column("signature", Text, nullable=True),
)

# SQLite only in practice: the delete triggers let rows go only while this says a prune is running.
evidence_prune_guard = Table(
    "evidence_prune_guard", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("active", Integer, nullable=False),
)
