"""Content-addressed bodies and delta-encoded snapshot manifests.

A resource body is stored once however many cycles see it unchanged. A manifest maps resource id
to body hash; most cycles change a handful of resources, so a manifest is stored as a delta on the
previous one (a full manifest every ``FULL_EVERY`` links or when the delta grows large). An
unchanged cycle reuses the previous manifest: it adds no blob at all.

The manifest body format and its resolution are defined once, in the standalone verifier
(posture_verify.manifests, spec: docs/evidence-format.md); the store keeps bodies zstd-compressed,
and every reader decompresses before hashing or decoding (a blob's address is the SHA-256 of the
uncompressed body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import zstandard
from posture_verify.manifests import FULL_EVERY, Manifest, errors_blob, resolve_manifest

__all__ = [
    "ERRORS_BLOB",
    "FULL_EVERY",
    "Manifest",
    "compress",
    "decompress",
    "manifest_delta",
    "resolve_manifest",
    "snapshot_errors",
]

_LEVEL = 6

_cctx = zstandard.ZstdCompressor(level=_LEVEL)


def compress(data: bytes) -> bytes:
    return _cctx.compress(data)


def decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


def manifest_delta(
    new: Mapping[str, str], prev: Mapping[str, str] | None, prev_hash: str | None, prev_depth: int
) -> Manifest:
    """The manifest to store for ``new`` given the previous full mapping."""
    if prev is None or prev_hash is None or prev_depth + 1 >= FULL_EVERY:
        return Manifest(base=None, depth=0, items=dict(new))
    changed = {rid: h for rid, h in new.items() if prev.get(rid) != h}
    removed = tuple(sorted(rid for rid in prev if rid not in new))
    if len(changed) + len(removed) > max(16, len(new) // 4):
        return Manifest(base=None, depth=0, items=dict(new))
    return Manifest(base=prev_hash, depth=prev_depth + 1, items=changed, removed=removed)


ERRORS_BLOB = "errors"  # the blob kind holding a snapshot's collection errors


def snapshot_errors(value: str | None, load: Callable[[str], bytes]) -> list[dict[str, Any]]:
    """A snapshot's collection errors from its errors column (``load``: blob hash -> body)."""
    h = errors_blob(value)
    out = json.loads(load(h) if h is not None else (value or "[]"))
    return out if isinstance(out, list) else []
