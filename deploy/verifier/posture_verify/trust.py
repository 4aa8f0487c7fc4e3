"""What the auditor brings from outside the bundle: the keys and fingerprints they pinned before the
period, the timestamping authorities they trust, and the anchor bucket they control.

Nothing in a bundle can vouch for itself; every rule that makes evidence hold against its operator
starts from one of these. The same object is built by `posture-verify` and `posture-agent evidence
verify`, so both apply the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["DEFAULT_TOLERANCE", "Trust"]

DEFAULT_TOLERANCE = timedelta(minutes=10)


@dataclass(frozen=True)
class Trust:
    public_keys: tuple[Ed25519PublicKey, ...] = ()
    fingerprints: tuple[str, ...] = ()  # SHA-256 hex of a key's 32 raw bytes (docs/evidence-format.md)
    tsa_certs: tuple[bytes, ...] = ()  # PEM certificates of the timestamping authorities trusted as roots
    anchor_bucket: str | None = None  # s3://bucket/prefix the auditor controls
    s3_endpoint: str | None = None  # another S3 endpoint (tests: moto)
    s3_region: str = "us-east-1"
    tolerance: timedelta = field(default=DEFAULT_TOLERANCE)  # allowed skew between a checkpoint and its witness

    @property
    def pinned(self) -> bool:
        """The auditor named keys: checkpoints are then required, signed by them or their rotations."""
        return bool(self.public_keys or self.fingerprints)

    @property
    def witnesses_required(self) -> bool:
        """The auditor named a witness: every checkpoint of the period must carry a valid one."""
        return bool(self.tsa_certs or self.anchor_bucket)
