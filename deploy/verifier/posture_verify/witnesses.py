"""External witnesses of checkpoints (RFC 3161 timestamp tokens, S3 Object Lock copies).

Filled in by the anchoring work of issue #13; until then no witness is checked.
"""

from __future__ import annotations

from posture_verify.records import Records
from posture_verify.report import VerifyReport
from posture_verify.trust import Trust

__all__ = ["check_witnesses"]


def check_witnesses(rec: Records, trust: Trust, report: VerifyReport) -> None:
    """Check every witness of every checkpoint of ``rec`` against what the auditor trusts."""
    return None
