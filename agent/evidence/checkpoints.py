"""Signed checkpoints: periodic commitments to the chain head, each chained to the previous one.

A checkpoint body is canonical JSON of (seq, at, head_seq, head_hash, pruned_through, pruned_hash,
prev_hash); ``checkpoint_hash`` is its SHA-256 and ``signature`` an Ed25519 signature over it when a
signing key is configured. Rewriting the whole evidence chain (recomputing every hash) then still
fails verification: the attacker cannot sign the new heads without the private key.

The body, key id and signature check are the standalone verifier's (posture_verify.checkpoints,
spec: docs/evidence-format.md); this module writes checkpoints.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from posture_verify.canonical import sha256_hex
from posture_verify.checkpoints import body, key_id, load_public_key, verify_signature
from sqlalchemy import Connection, insert, select

from agent.errors import ConfigError, Problem
from agent.store import Store
from agent.store import schema as t
from agent.store.chain import GENESIS
from agent.store.evidence_tables import evidence_checkpoints as cp

__all__ = ["Signer", "body", "key_id", "load_public_key", "public_pem", "verify_signature", "write_checkpoint"]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class Signer:
    """An Ed25519 private key, from the PEM text a Secret reference resolves to. Never logged."""

    __slots__ = ("_key", "public", "key_id")

    def __init__(self, pem: str | bytes) -> None:
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise ConfigError([Problem(key="evidence.signing_key",
                                       message="not a PEM private key without a passphrase")]) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError([Problem(key="evidence.signing_key", message="must be an Ed25519 private key")])
        self._key = key
        self.public = key.public_key()
        self.key_id = key_id(self.public)

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id})"

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._key.sign(data)).decode()

    @classmethod
    def from_config(cls, evidence_config: Any) -> Signer | None:
        ref = getattr(evidence_config, "signing_key", None)
        return cls(ref.reveal()) if ref is not None else None


def write_checkpoint(store: Store, conn: Connection, at: datetime, signer: Signer | None = None, *,
                     pruned_through: int | None = None, pruned_hash: str | None = None) -> dict[str, Any] | None:
    """Commit to the current head inside the caller's transaction; None when the chain is empty."""
    head = conn.execute(select(t.evidence_log.c.seq, t.evidence_log.c.entry_hash)
                        .order_by(t.evidence_log.c.seq.desc()).limit(1)).first()
    last = conn.execute(select(cp).order_by(cp.c.seq.desc()).limit(1)).first()
    if head is None and pruned_through is None:
        return None
    row: dict[str, Any] = {
        "seq": (last.seq + 1) if last else 1, "at": at,
        "head_seq": head.seq if head else int(pruned_through or 0),
        "head_hash": head.entry_hash if head else (pruned_hash or GENESIS),
        "pruned_through": pruned_through if pruned_through is not None else (last.pruned_through if last else 0),
        "pruned_hash": pruned_hash if pruned_hash is not None else (last.pruned_hash if last else GENESIS),
        "prev_hash": last.checkpoint_hash if last else GENESIS,
    }
    data = body(row)
    row["checkpoint_hash"] = sha256_hex(data)
    row["key_id"] = signer.key_id if signer else None
    row["signature"] = signer.sign(data) if signer else None
    conn.execute(insert(cp).values(**row))
    return row


def checkpoint_now(store: Store, at: datetime, signer: Signer | None = None) -> dict[str, Any] | None:
    """A checkpoint in its own transaction, unless nothing was appended since the last one."""
    with store.transaction() as conn:
        head = conn.execute(select(t.evidence_log.c.seq).order_by(t.evidence_log.c.seq.desc()).limit(1)).scalar()
        last = conn.execute(select(cp.c.head_seq).order_by(cp.c.seq.desc()).limit(1)).scalar()
        if head is None or head == last:
            return None
        return write_checkpoint(store, conn, at, signer)
