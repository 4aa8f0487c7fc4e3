"""The evidence hash chain's entry hash and cycle commitment, as the writer uses them.

Defined once, in the standalone verifier (posture_verify.entries, spec: docs/evidence-format.md), so
the bytes the agent writes and the bytes an auditor's verifier recomputes cannot drift apart.
"""

from __future__ import annotations

from posture_verify.canonical import GENESIS
from posture_verify.entries import LOCATOR, CycleCommitment, entry_hash, run_fields, snapshot_fields

__all__ = ["GENESIS", "LOCATOR", "CycleCommitment", "entry_hash", "run_fields", "snapshot_fields"]
