"""Tables of signed checkpoints, their external witnesses and the SQLite pruning guard (on the shared
metadata; migrations 0004 and 0008)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, SmallInteger, String, Table, Text

from agent.store.schema import Sha256Hex, UTCDateTime, metadata

__all__ = ["evidence_anchors", "evidence_checkpoints", "evidence_prune_guard", "evidence_store"]

# A checkpoint commits to the chain head at a time (and to what retention pruned before it); each
# one chains to the previous checkpoint and is Ed25519-signed when a signing key is configured.
evidence_checkpoints = Table(
    "evidence_checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("head_seq", BigInteger, nullable=False),
    Column("head_hash", Sha256Hex, nullable=False),
    Column("pruned_through", BigInteger, nullable=False),
    Column("pruned_hash", Sha256Hex, nullable=False),
    Column("prev_hash", Sha256Hex, nullable=False),
    Column("checkpoint_hash", Sha256Hex, nullable=False),
    Column("key_id", String(64), nullable=True),  # v2: the key's fingerprint; v1: its 16-hex key id
    Column("signature", Text, nullable=True),
    # version 2 (migration 0007; NULL in version-1 rows): the body version, the signed cadence, the raw
    # public key announced (first checkpoint, rotation) and the next key's fingerprint on a rotation
    Column("v", SmallInteger, nullable=True),
    Column("cadence_s", Integer, nullable=True),
    Column("announce", String(64), nullable=True),
    Column("rotate_to", String(64), nullable=True),
)

# The store's id, named by every version-2 checkpoint body: one row, written once (migration 0007).
evidence_store = Table(
    "evidence_store",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("store_id", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# External witnesses of checkpoints (agent/evidence/anchoring.py, posture_verify.witnesses): an RFC 3161
# token (kind rfc3161: data = the DER TimeStampResp, detail {"nonce"}), a TSA's certificate chain once
# per TSA (rfc3161-certs: detail {"certs": [PEM]}) or the receipt of a copy in an Object Lock bucket
# (s3: detail {"key", "version_id", "etag", "retain_until"}). ``at`` is the witness's time (genTime,
# the object's Last-Modified). Append-only like the other evidence tables.
evidence_anchors = Table(
    "evidence_anchors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("checkpoint_seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("witness", String(512), nullable=False),  # the TSA's URL, or s3://bucket/prefix
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Column("data", LargeBinary, nullable=True),
)

# SQLite only in practice: the delete triggers let rows go only while this says a prune is running.
evidence_prune_guard = Table(
    "evidence_prune_guard",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("active", Integer, nullable=False),
)
