"""Canonical JSON and SHA-256: the encoding of every byte the evidence format hashes or signs
(docs/evidence-format.md, "Canonical JSON").

Values are JSON values (objects with string keys, arrays, strings, integers, true, false, null).
A writer may pass a ``datetime``: it is encoded as its timestamp string, so a writer holding Python
values and a verifier holding the same record read back from JSON produce the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["GENESIS", "canonical_json", "isoformat", "sha256_hex"]

# the "previous hash" of the first chain entry and of the first checkpoint
GENESIS = "0" * 64


def isoformat(ts: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC; a naive datetime is taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return isoformat(obj)
    raise TypeError(f"{type(obj).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """Keys sorted by code point, no whitespace, non-ASCII characters as themselves, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
