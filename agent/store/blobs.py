"""Content-addressed bodies and delta-encoded snapshot manifests.

A resource body is stored once however many cycles see it unchanged. A manifest maps resource id
to body hash; most cycles change a handful of resources, so a manifest is stored as a delta on the
previous one (a full manifest every ``FULL_EVERY`` links or when the delta grows large). An
unchanged cycle reuses the previous manifest: it adds no blob at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import zstandard

from agent.models import canonical_json, sha256_hex

__all__ = ["Manifest", "compress", "decompress", "manifest_delta", "resolve_manifest"]

FULL_EVERY = 64
_LEVEL = 6

_cctx = zstandard.ZstdCompressor(level=_LEVEL)


def compress(data: bytes) -> bytes:
    return _cctx.compress(data)


def decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


@dataclass(frozen=True)
class Manifest:
    """A stored manifest body: full (base is None) or a delta over ``base``."""

    base: str | None
    depth: int
    items: Mapping[str, str]
    removed: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return canonical_json({"v": 1, "base": self.base, "depth": self.depth,
                               "items": dict(self.items), "removed": list(self.removed)})

    @property
    def hash(self) -> str:
        return sha256_hex(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        obj: dict[str, Any] = json.loads(data)
        return cls(base=obj["base"], depth=int(obj["depth"]), items=obj["items"],
                   removed=tuple(obj.get("removed", ())))


def manifest_delta(new: Mapping[str, str], prev: Mapping[str, str] | None,
                   prev_hash: str | None, prev_depth: int) -> Manifest:
    """The manifest to store for ``new`` given the previous full mapping."""
    if prev is None or prev_hash is None or prev_depth + 1 >= FULL_EVERY:
        return Manifest(base=None, depth=0, items=dict(new))
    changed = {rid: h for rid, h in new.items() if prev.get(rid) != h}
    removed = tuple(sorted(rid for rid in prev if rid not in new))
    if len(changed) + len(removed) > max(16, len(new) // 4):
        return Manifest(base=None, depth=0, items=dict(new))
    return Manifest(base=prev_hash, depth=prev_depth + 1, items=changed, removed=removed)


def resolve_manifest(hash_: str, load: Callable[[str], bytes]) -> dict[str, str]:
    """The full {resource id: body hash} mapping of a stored manifest, following its bases."""
    chain: list[Manifest] = []
    current: str | None = hash_
    while current is not None:
        m = Manifest.decode(load(current))
        chain.append(m)
        current = m.base
        if len(chain) > FULL_EVERY + 1:
            raise ValueError(f"manifest chain from {hash_} is longer than {FULL_EVERY}")
    full: dict[str, str] = {}
    for m in reversed(chain):
        for rid in m.removed:
            full.pop(rid, None)
        full.update(m.items)
    return full
