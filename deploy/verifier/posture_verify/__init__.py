"""posture-verify: check a posture-agent evidence bundle without the agent and without trusting
the organisation that produced it. Needs only the Python standard library, ``cryptography`` and
``rfc3161-client`` (RFC 3161 timestamp tokens; the anchor bucket is read with the standard library).

    from posture_verify import Trust, verify_bundle
    report = verify_bundle("bundle.zip", trust=Trust(public_keys=(key,)))  # or Trust(fingerprints=(hex,))
    report.ok, report.issues

With a key or fingerprint pinned in ``trust``, checkpoints are required: signed by it or a key it
rotated to, at their signed cadence over the whole period, and manifest.json signed. (The older
``public_keys=`` argument only checks checkpoint signatures.)

The byte formats are defined in docs/evidence-format.md of the posture-agent repository.
"""

from __future__ import annotations

from posture_verify.bundle import verify_bundle
from posture_verify.chain import verify_records
from posture_verify.report import Issue, VerifyReport
from posture_verify.trust import Trust

__version__ = "0.1.0"

Report = VerifyReport

__all__ = ["Issue", "Report", "Trust", "VerifyReport", "__version__", "verify_bundle", "verify_records"]
