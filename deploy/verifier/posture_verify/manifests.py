"""Snapshot manifests: {resource id: body hash}, stored full or as a delta on a previous manifest
(docs/evidence-format.md, "Manifests"). A manifest body is a blob like a resource body: its address
is the SHA-256 of its bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from posture_verify.canonical import canonical_json, sha256_hex

__all__ = ["FULL_EVERY", "Manifest", "errors_blob", "resolve_manifest"]

# a writer stores a full manifest at least every FULL_EVERY links, so no delta chain is longer
FULL_EVERY = 64


@dataclass(frozen=True)
class Manifest:
    """A stored manifest body: full (base is None) or a delta over ``base``."""

    base: str | None
    depth: int
    items: Mapping[str, str]
    removed: tuple[str, ...] = ()

    def encode(self) -> bytes:
        return canonical_json(
            {"v": 1, "base": self.base, "depth": self.depth, "items": dict(self.items), "removed": list(self.removed)}
        )

    @property
    def hash(self) -> str:
        return sha256_hex(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        obj: dict[str, Any] = json.loads(data)
        return cls(base=obj["base"], depth=int(obj["depth"]), items=obj["items"], removed=tuple(obj.get("removed", ())))


def resolve_manifest(hash_: str, load: Callable[[str], bytes]) -> dict[str, str]:
    """The full {resource id: body hash} mapping of a stored manifest, following its bases.
    ``load``: address -> uncompressed body (KeyError when missing)."""
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


def errors_blob(value: object) -> str | None:
    """The hash of the ``errors`` blob a snapshots.errors value refers to (``{"blob": "<sha256>"}``, an
    error set that the snapshots of a source share), or None when the value is the list itself (every
    empty list, and every list of a store written before the reference)."""
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        ref = json.loads(value)
    except ValueError:
        return None
    h = ref.get("blob") if isinstance(ref, dict) else None
    return h if isinstance(h, str) else None
