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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posture_verify.bundle import verify_bundle
    from posture_verify.chain import verify_records
    from posture_verify.report import Issue, VerifyReport
    from posture_verify.report import VerifyReport as Report
    from posture_verify.trust import Trust

__version__ = "0.1.0"

# imported on first use: the agent imports posture_verify.canonical on every start and needs none of these


def __getattr__(name: str) -> Any:
    value: Any
    if name == "verify_bundle":
        from posture_verify.bundle import verify_bundle

        value = verify_bundle
    elif name == "verify_records":
        from posture_verify.chain import verify_records

        value = verify_records
    elif name == "Issue":
        from posture_verify.report import Issue

        value = Issue
    elif name in ("VerifyReport", "Report"):
        from posture_verify.report import VerifyReport

        value = VerifyReport
    elif name == "Trust":
        from posture_verify.trust import Trust

        value = Trust
    else:
        raise AttributeError(f"module 'posture_verify' has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = ["Issue", "Report", "Trust", "VerifyReport", "__version__", "verify_bundle", "verify_records"]
