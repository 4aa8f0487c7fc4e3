"""The results hash of a snapshot: one digest of its whole finding result set, kept incrementally.

A homomorphic multiset hash (LtHash, Lewi et al. 2019): 1,024 lanes of 16 bits, summed lane by lane
mod 2^16; about 200 bits of security. Each (uid, status, message) is mapped to 1,024 lanes by
SHAKE-128 over its canonical JSON. Adding or removing one finding costs the same whatever the size
of the set, so the store and the verifier update it per finding event instead of rehashing 10,000
findings every cycle.

The published value is SHA-256 of the lanes as this module packs them: 1,024 slots of 4 bytes,
big-endian, each holding 2 zero bytes then the lane's 16-bit value; 4,096 bytes in all
(docs/evidence-format.md, "Results hash").

Before this scheme, a results hash was SHA-256 of the sorted result set (``legacy_results_hash``);
stores written then still verify against that definition.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from posture_verify.canonical import canonical_json, sha256_hex

__all__ = ["LANES", "REDUCE_EVERY", "ResultSetHash", "legacy_results_hash"]

LANES = 1024
_SLOT = 4  # bytes per lane inside one Python integer: 2 for the value, 2 of headroom for carries
_LANE_MASK = int.from_bytes(b"\x00\x00\xff\xff" * LANES, "big")
_LANE_ONES = int.from_bytes(b"\x00\x00\x00\x01" * LANES, "big")
# each update adds at most 2^16 per lane; reduce well before a lane's carries reach the next lane
REDUCE_EVERY = 16_000


def _element(uid: str, status: str, message: str) -> int:
    digest = hashlib.shake_128(canonical_json([uid, status, message])).digest(2 * LANES)
    packed = bytearray(_SLOT * LANES)
    packed[2::4] = digest[0::2]
    packed[3::4] = digest[1::2]
    return int.from_bytes(packed, "big")


class ResultSetHash:
    """The LtHash of a set of (uid, status, message) results."""

    __slots__ = ("_acc", "_ops")

    def __init__(self, items: Iterable[tuple[str, str, str]] = ()) -> None:
        self._acc = 0
        self._ops = 0
        for uid, status, message in items:
            self.add(uid, status, message)

    def add(self, uid: str, status: str, message: str) -> None:
        self._acc += _element(uid, status, message)
        self._tick()

    def remove(self, uid: str, status: str, message: str) -> None:
        # lane-wise 2^16 - x, i.e. the additive inverse mod 2^16, without borrows between lanes
        self._acc += (_LANE_MASK - _element(uid, status, message)) + _LANE_ONES
        self._tick()

    def _tick(self) -> None:
        self._ops += 1
        if self._ops >= REDUCE_EVERY:
            self._acc &= _LANE_MASK
            self._ops = 0

    def copy(self) -> ResultSetHash:
        other = ResultSetHash()
        other._acc, other._ops = self._acc, self._ops
        return other

    def lanes(self) -> bytes:
        """The 4,096 bytes the published value hashes."""
        return (self._acc & _LANE_MASK).to_bytes(_SLOT * LANES, "big")

    def hexdigest(self) -> str:
        return hashlib.sha256(self.lanes()).hexdigest()


def legacy_results_hash(items: Iterable[tuple[str, str, str]]) -> str:
    """The first definition: SHA-256 of the sorted canonical result set (O(n) per snapshot)."""
    return sha256_hex(canonical_json(sorted([uid, s, m] for uid, s, m in items)))
