"""posture-verify: check a posture-agent evidence bundle without the agent and without trusting
the organisation that produced it. Needs only the Python standard library and ``cryptography``.

    from posture_verify import verify_bundle
    report = verify_bundle("bundle.zip", public_keys=[key])
    report.ok, report.issues

The byte formats are defined in docs/evidence-format.md of the posture-agent repository.
"""

from __future__ import annotations

from posture_verify.bundle import verify_bundle
from posture_verify.chain import verify_records
from posture_verify.report import Issue, VerifyReport

__version__ = "0.1.0"

Report = VerifyReport

__all__ = ["Issue", "Report", "VerifyReport", "__version__", "verify_bundle", "verify_records"]
