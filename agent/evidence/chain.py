"""Verify evidence without trusting the database.

The verifier is the standalone one (posture_verify.chain): `posture-agent evidence verify` and an
auditor's `posture-verify` run the same code, so they agree by construction. The store is read into
its neutral form by agent.evidence.store_records, a bundle by posture_verify.bundle.
"""

from __future__ import annotations

from posture_verify.chain import Progress, entry_hash_of, verify_records
from posture_verify.report import Issue, VerifyReport

__all__ = ["Issue", "Progress", "VerifyReport", "entry_hash_of", "verify_records"]
