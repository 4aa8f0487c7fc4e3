"""Fixtures of the evidence tests: the real external witnesses (tests/integration/evidence/tsa.py)."""

from tests.integration.evidence.tsa import anchor_bucket, rogue_tsa, tsa, tsa_cert

__all__ = ["anchor_bucket", "rogue_tsa", "tsa", "tsa_cert"]
