"""The results hash of a snapshot (an incremental LtHash of its finding result set).

Defined once, in the standalone verifier (posture_verify.lthash, spec: docs/evidence-format.md):
1,024 lanes of 16 bits, published as the SHA-256 of 4,096 bytes of packed lanes. Stores written
before it carry ``legacy_results_hash`` values, which still verify.
"""

from __future__ import annotations

from posture_verify.lthash import LANES, REDUCE_EVERY, ResultSetHash, legacy_results_hash

_REDUCE_EVERY = REDUCE_EVERY

__all__ = ["LANES", "REDUCE_EVERY", "ResultSetHash", "legacy_results_hash"]
