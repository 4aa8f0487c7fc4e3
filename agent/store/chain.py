"""The evidence hash chain: each entry commits to its content and to the entry before it."""

from __future__ import annotations

from datetime import datetime

from agent.models import canonical_json, isoformat, sha256_hex

__all__ = ["GENESIS", "entry_hash"]

GENESIS = "0" * 64


def entry_hash(*, seq: int, at: datetime, kind: str, ref: str, content_hash: str, prev_hash: str) -> str:
    return sha256_hex(canonical_json(
        {"seq": seq, "at": isoformat(at), "kind": kind, "ref": ref,
         "content_hash": content_hash, "prev_hash": prev_hash}))
