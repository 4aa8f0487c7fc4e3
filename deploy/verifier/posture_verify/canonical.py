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


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _c_encoder() -> Any:
    """The C encoder json.dumps runs for these options, made once (json.dumps builds an encoder per call,
    which is most of its cost on the small objects a year's verification hashes some 200,000 times).
    None when this Python has none, or it does not give json.dumps's bytes."""
    try:
        from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
    except ImportError:
        return None
    if c_make_encoder is None:
        return None
    # (markers, default, encoder, indent, key separator, item separator, sort_keys, skipkeys, allow_nan), as
    # JSONEncoder.iterencode passes them (markers None: JSON values have no cycles)
    enc = c_make_encoder(None, _default, encode_basestring, None, ":", ",", True, False, True)
    sample = {"b": [1, -2, '\u00e9\u2028"\\\n', None, True, False, 1.5], "a": {"z": {}, "y": []}, "\u00e9": ""}
    try:
        if "".join(enc(sample, 0)) != _ENCODER.encode(sample):
            return None
    except Exception:  # another signature in another Python: the public path is used
        return None
    return enc


_C_ENCODER = _c_encoder()


def canonical_json(value: Any) -> bytes:
    """Keys sorted by code point, no whitespace, non-ASCII characters as themselves, UTF-8: the bytes of
    ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``."""
    if _C_ENCODER is not None and not isinstance(value, str):
        return "".join(_C_ENCODER(value, 0)).encode("utf-8")
    return _ENCODER.encode(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
