"""Signed checkpoints: periodic commitments to the chain head, each chained to the previous one
(docs/evidence-format.md, "Checkpoints").

A version-1 checkpoint body is canonical JSON of (seq, at, head_seq, head_hash, pruned_through,
pruned_hash, prev_hash); ``checkpoint_hash`` is its SHA-256 and ``signature`` the base64 Ed25519
signature of the body bytes; ``key_id`` names the signing key by the first 16 hex characters of the
SHA-256 of its 32 raw public key bytes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from posture_verify.canonical import GENESIS, canonical_json, isoformat, sha256_hex
from posture_verify.report import VerifyReport

__all__ = ["body", "check_checkpoints", "check_heads", "key_id", "load_public_key", "verify_signature"]


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo); ValueError otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except UnsupportedAlgorithm as exc:
        raise ValueError(f"unsupported key type: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def body(row: dict[str, Any]) -> bytes:
    """The signed bytes of a version-1 checkpoint (row as stored, or as normalised JSON)."""
    at = row["at"]
    return canonical_json({"seq": int(row["seq"]), "at": isoformat(at) if isinstance(at, datetime) else at,
                           "head_seq": int(row["head_seq"]), "head_hash": row["head_hash"],
                           "pruned_through": int(row["pruned_through"]), "pruned_hash": row["pruned_hash"],
                           "prev_hash": row["prev_hash"]})


def verify_signature(row: dict[str, Any], public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(row["signature"] or ""), body(row))
        return True
    except (InvalidSignature, ValueError):  # binascii.Error is a ValueError
        return False


def check_checkpoints(checkpoints: Sequence[dict[str, Any]], keys: Sequence[Ed25519PublicKey],
                      require_signed: bool, report: VerifyReport) -> tuple[int, str]:
    """Check every checkpoint's hash, its link to the previous one and its signature; returns
    (pruned_through, pruned_hash): where the remaining chain starts after retention pruning."""
    prev: dict[str, Any] | None = None
    pruned, pruned_hash = 0, GENESIS
    by_id = {key_id(k): k for k in keys}
    for c in checkpoints:
        name = f"evidence_checkpoints seq {c['seq']}"
        report.checkpoints += 1
        data = body(c)
        if sha256_hex(data) != c["checkpoint_hash"]:
            report.add(name, "checkpoint_hash does not match its content (checkpoint altered)")
        if prev is not None and int(c["seq"]) == int(prev["seq"]) + 1 and c["prev_hash"] != prev["checkpoint_hash"]:
            report.add(name, "prev_hash does not match the previous checkpoint (checkpoints altered or reordered)")
        if prev is not None and int(c["seq"]) != int(prev["seq"]) + 1:
            report.add(name, f"checkpoints {int(prev['seq']) + 1}..{int(c['seq']) - 1} are missing")
        if c.get("signature"):
            key = by_id.get(str(c.get("key_id"))) or (keys[0] if len(keys) == 1 else None)
            if key is None:
                if require_signed:
                    report.add(name, f"signed by key {c.get('key_id')}, not by the public key given")
                else:
                    report.signatures_unchecked += 1
            elif verify_signature(c, key):
                report.signatures_checked += 1
            else:
                report.add(name, "Ed25519 signature does not verify (checkpoint forged or altered)")
        elif require_signed:
            report.add(name, "not signed, but a public key was given to verify signatures")
        if int(c["pruned_through"]) > pruned:
            pruned, pruned_hash = int(c["pruned_through"]), c["pruned_hash"]
        prev = c
    report.pruned_through = pruned
    return pruned, pruned_hash


def check_heads(checkpoints: Sequence[dict[str, Any]], by_seq: dict[int, dict[str, Any]], last: int | None,
                complete: bool, report: VerifyReport) -> None:
    """Each checkpoint's head must be the chain's entry at that seq; a head past the end of a
    complete chain means its tail was removed."""
    for c in checkpoints:
        head = int(c["head_seq"])
        name = f"evidence_checkpoints seq {c['seq']}"
        e = by_seq.get(head)
        if e is not None:
            if e["entry_hash"] != c["head_hash"]:
                report.add(name, f"commits to entry seq {head} with hash {c['head_hash'][:16]}..., but the "
                           f"chain has {e['entry_hash'][:16]}... (chain rewritten)")
        elif last is not None and head > last and complete:
            report.add(name, f"commits to entry seq {head}, but the chain ends at seq {last} "
                       "(tail of the chain removed)")
        elif last is None and head > int(c["pruned_through"]) and complete:
            report.add(name, f"commits to entry seq {head}, but the chain is empty (entries removed)")
