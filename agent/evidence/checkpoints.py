"""Signed checkpoints: periodic commitments to the chain head, each chained to the previous one.

Every checkpoint is version 2 (docs/evidence-format.md, "Checkpoints"): it names the store, signs
the cadence the agent keeps (``evidence.checkpoint_every``) and the fingerprint of its key, and the
store's first signed checkpoint announces the key itself. One is written on every tick even when
nothing was appended, so an auditor who pinned the key can tell silence from removal. A key rotation
is a checkpoint signed by the current key naming the next one (``rotate_to``, ``announce``).

The body, fingerprint and signature check are the standalone verifier's (posture_verify.checkpoints);
this module writes checkpoints.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from posture_verify.canonical import sha256_hex
from posture_verify.checkpoints import (
    DEFAULT_CADENCE_S,
    announce_value,
    body,
    fingerprint,
    key_id,
    load_public_key,
    verify_signature,
)

from agent.errors import ConfigError, Problem
from agent.store import Store, checkpoint_rows
from agent.store.chain import GENESIS
from agent.store.checkpoint_rows import CheckpointRows

__all__ = [
    "DEFAULT_CADENCE_S",
    "RotationError",
    "Signer",
    "body",
    "checkpoint_now",
    "fingerprint",
    "key_id",
    "load_public_key",
    "public_pem",
    "rotate_key",
    "verify_signature",
    "write_checkpoint",
]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class Signer:
    """An Ed25519 private key, from the PEM text a Secret reference resolves to. Never logged."""

    __slots__ = ("_key", "fingerprint", "key_id", "public")

    def __init__(self, pem: str | bytes, *, option: str = "evidence.signing_key") -> None:
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise ConfigError([Problem(key=option, message="not a PEM private key without a passphrase")]) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError([Problem(key=option, message="must be an Ed25519 private key")])
        self._key = key
        self.public = key.public_key()
        self.fingerprint = fingerprint(self.public)
        self.key_id = self.fingerprint[:16]

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id})"

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._key.sign(data)).decode()

    @classmethod
    def from_config(cls, evidence_config: Any) -> Signer | None:
        ref = getattr(evidence_config, "signing_key", None)
        return cls(ref.reveal()) if ref is not None else None


def write_checkpoint(
    rows: CheckpointRows,
    at: datetime,
    signer: Signer | None = None,
    *,
    cadence_s: int | None = None,
    pruned_through: int | None = None,
    pruned_hash: str | None = None,
    rotate_to: Ed25519PublicKey | None = None,
) -> dict[str, Any]:
    """Commit to the current head inside the caller's transaction, even when nothing was appended
    since the last checkpoint (silence is then provable). ``cadence_s``: the cadence to sign; by
    default the last checkpoint's (a prune keeps the daemon's). ``rotate_to``: the next key, named by
    this checkpoint, which ``signer`` (the current key) signs."""
    head = rows.head()
    last = rows.last()
    row: dict[str, Any] = {
        "v": 2,
        "store": rows.store_id(at),
        "seq": (last.seq + 1) if last else 1,
        "at": at,
        "head_seq": head.seq
        if head
        else int(pruned_through if pruned_through is not None else (last.head_seq if last else 0)),
        "head_hash": head.entry_hash if head else (pruned_hash or (last.head_hash if last else GENESIS)),
        "pruned_through": pruned_through if pruned_through is not None else (last.pruned_through if last else 0),
        "pruned_hash": pruned_hash if pruned_hash is not None else (last.pruned_hash if last else GENESIS),
        "prev_hash": last.checkpoint_hash if last else GENESIS,
        "cadence_s": int(cadence_s or (last.cadence_s if last is not None and last.cadence_s else DEFAULT_CADENCE_S)),
        "key_id": signer.fingerprint if signer else None,
        "announce": None,
        "rotate_to": None,
    }
    if rotate_to is not None:
        if signer is None:
            raise ValueError("a rotation checkpoint is signed by the current key")
        row["rotate_to"], row["announce"] = fingerprint(rotate_to), announce_value(rotate_to)
    elif signer is not None and (
        last is None or (last.key_id != signer.fingerprint and last.rotate_to != signer.fingerprint)
    ):
        # a key signing for the first time (the store's first checkpoint, or a key that replaced
        # another without a rotation) says which it is; a key rotated to was announced by the rotation
        row["announce"] = announce_value(signer.public)
    data = body(row)
    row["checkpoint_hash"] = sha256_hex(data)
    row["signature"] = signer.sign(data) if signer else None
    rows.insert(row)
    return row


def checkpoint_now(
    store: Store, at: datetime, signer: Signer | None = None, *, cadence_s: int | None = None
) -> dict[str, Any]:
    """A checkpoint in its own transaction, whether or not anything was appended since the last."""
    with checkpoint_rows.transaction(store) as rows:
        return write_checkpoint(rows, at, signer, cadence_s=cadence_s)


class RotationError(Exception):
    """The store's checkpoints are not signed by the key the rotation starts from."""


def rotate_key(
    store: Store, at: datetime, current: Signer, new: Signer, *, cadence_s: int | None = None
) -> list[dict[str, Any]]:
    """In one transaction: the rotation checkpoint, signed by ``current`` and naming ``new``, then
    the first checkpoint signed by ``new``. Returns the rows written."""
    if new.fingerprint == current.fingerprint:
        raise RotationError("the new key is the current key")
    with checkpoint_rows.transaction(store) as cps:
        retired = cps.rotation_by(current.fingerprint)
        if retired is not None:
            raise RotationError(
                f"key {current.key_id} (evidence.signing_key) was rotated to key "
                f"{str(retired.rotate_to)[:16]} at checkpoint {retired.seq}"
            )
        last_signed = cps.last_signed()
        if (
            last_signed is not None
            and last_signed.key_id not in (current.fingerprint, current.key_id)
            and last_signed.rotate_to != current.fingerprint
        ):
            raise RotationError(
                f"the store's last signed checkpoint ({last_signed.seq}) is signed by key "
                f"{str(last_signed.key_id)[:16]}, not by evidence.signing_key {current.key_id}"
            )
        rows = []
        if last_signed is None or last_signed.key_id != current.fingerprint:
            # the current key has not signed yet (or signed only version-1 checkpoints): it says which it is first
            rows.append(write_checkpoint(cps, at, current, cadence_s=cadence_s))
        rows.append(write_checkpoint(cps, at, current, cadence_s=cadence_s, rotate_to=new.public))
        rows.append(write_checkpoint(cps, at, new, cadence_s=cadence_s))
    return rows
