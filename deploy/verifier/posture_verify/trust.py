"""What the auditor brings from outside the bundle: the keys and fingerprints they pinned before the
period, the timestamping authorities they trust, and the anchor bucket they control.

Nothing in a bundle can vouch for itself; every rule that makes evidence hold against its operator
starts from one of these. The same object is built by `posture-verify` and `posture-agent evidence
verify`, so both apply the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "DEFAULT_MAX_CADENCE",
    "DEFAULT_TOLERANCE",
    "OPTION_HELP",
    "Trust",
    "TrustError",
    "build_trust",
    "parse_fingerprint",
    "parse_tolerance",
]

DEFAULT_TOLERANCE = timedelta(minutes=10)
# the longest signed cadence accepted unless the auditor says otherwise: the agent signs 1m..1d. The
# cadence bounds how much history may precede the first witnessed checkpoint, so the signer cannot
# choose it freely (a checkpoint signing a 32-day cadence would cover a month written afterwards)
DEFAULT_MAX_CADENCE = timedelta(days=1)


@dataclass(frozen=True)
class Trust:
    public_keys: tuple[Ed25519PublicKey, ...] = ()
    fingerprints: tuple[str, ...] = ()  # SHA-256 hex of a key's 32 raw bytes (docs/evidence-format.md)
    tsa_certs: tuple[bytes, ...] = ()  # PEM certificates of the timestamping authorities trusted as roots
    anchor_bucket: str | None = None  # s3://bucket/prefix the auditor controls
    s3_endpoint: str | None = None  # another S3 endpoint (tests: moto)
    s3_region: str = "us-east-1"
    tolerance: timedelta = field(default=DEFAULT_TOLERANCE)  # allowed skew between a checkpoint and its witness
    max_cadence: timedelta = field(default=DEFAULT_MAX_CADENCE)  # the longest signed cadence accepted
    framework_sha256: str | None = None  # the SHA-256 of the framework.json the auditor agreed on

    @property
    def pinned(self) -> bool:
        """The auditor named keys: checkpoints are then required, signed by them or their rotations."""
        return bool(self.public_keys or self.fingerprints)

    @property
    def witnesses_required(self) -> bool:
        """The auditor named a witness: every checkpoint of the period must carry a valid one."""
        return bool(self.tsa_certs or self.anchor_bucket)


class TrustError(ValueError):
    """An option naming what the auditor trusts is unusable: the message names the option and why."""


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_tolerance(value: str, option: str = "--tolerance") -> timedelta:
    """``10m``, ``600s``, ``1h``, ``1d`` or a number of seconds (at most 366 days)."""
    m = _DURATION.match(value)
    if not m or len(m.group(1)) > 12:
        raise TrustError(f"{option} {value}: not a duration (e.g. 10m, 600s, 1h, 1d)")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds > 366 * 86400:
        raise TrustError(f"{option} {value}: longer than a year")
    return timedelta(seconds=seconds)


def parse_fingerprint(value: str) -> str:
    """A key fingerprint as given to the auditor: 64 hex characters (colons and spaces ignored)."""
    fp = re.sub(r"[\s:]", "", value).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise TrustError(
            f"--key-fingerprint {value}: not a key fingerprint (the SHA-256 of the raw Ed25519 public "
            "key: 64 hexadecimal characters)"
        )
    return fp


def parse_sha256(value: str, option: str) -> str:
    """A file's SHA-256 as 64 hex characters (colons and spaces ignored)."""
    digest = re.sub(r"[\s:]", "", value).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise TrustError(f"{option} {value}: not a SHA-256 (64 hexadecimal characters)")
    return digest


def build_trust(
    *,
    public_keys: Sequence[Path] = (),
    fingerprints: Sequence[str] = (),
    tsa_certs: Sequence[Path] = (),
    anchor_bucket: str | None = None,
    s3_endpoint: str | None = None,
    tolerance: str | None = None,
    max_cadence: str | None = None,
    framework_sha256: str | None = None,
) -> Trust:
    """The Trust of the command line options, with the same messages in `posture-verify` and
    `posture-agent evidence verify`; TrustError names the option that is unusable."""
    from cryptography import x509

    from posture_verify.checkpoints import load_public_key

    keys = []
    for pem in public_keys:
        try:
            keys.append(load_public_key(Path(pem).read_bytes()))
        except (OSError, ValueError) as exc:
            raise TrustError(f"--public-key {pem}: {exc}") from None
    certs = []
    for pem in tsa_certs:
        try:
            data = Path(pem).read_bytes()
            if not x509.load_pem_x509_certificates(data):
                raise ValueError("no certificate in it")
        except (OSError, ValueError) as exc:
            raise TrustError(f"--tsa-cert {pem}: not a PEM certificate ({exc})") from None
        certs.append(data)
    if anchor_bucket is not None and not anchor_bucket.startswith("s3://"):
        raise TrustError(f"--anchor-bucket {anchor_bucket}: not an S3 URL (s3://bucket/prefix)")
    longest = parse_tolerance(max_cadence, "--max-cadence") if max_cadence is not None else DEFAULT_MAX_CADENCE
    if longest < timedelta(minutes=1):
        raise TrustError(f"--max-cadence {max_cadence}: shorter than a minute, the shortest cadence the agent signs")
    return Trust(
        public_keys=tuple(keys),
        fingerprints=tuple(parse_fingerprint(f) for f in fingerprints),
        tsa_certs=tuple(certs),
        anchor_bucket=anchor_bucket,
        s3_endpoint=s3_endpoint,
        tolerance=parse_tolerance(tolerance) if tolerance is not None else DEFAULT_TOLERANCE,
        max_cadence=longest,
        framework_sha256=parse_sha256(framework_sha256, "--framework-sha256") if framework_sha256 else None,
    )


# the help of each option, shared by `posture-verify` and `posture-agent evidence verify`
OPTION_HELP = {
    "public_key": "an Ed25519 public key (PEM) of the organisation, received out of band before the period: "
    "checkpoints are then required, signed by it or by a key it rotated to; repeatable",
    "key_fingerprint": "the SHA-256 fingerprint (64 hex) of such a key, when you were given the fingerprint rather "
    "than the key: the key itself is taken from the checkpoint announcing it; repeatable",
    "tsa_cert": "the PEM root certificate of a timestamping authority you trust: every checkpoint must then carry "
    "a valid RFC 3161 token whose signer chains to it; repeatable",
    "anchor_bucket": "s3://bucket/prefix of the Object Lock bucket you control, holding each checkpoint's copy",
    "s3_endpoint": "another S3 endpoint URL for --anchor-bucket",
    "tolerance": "allowed skew between a checkpoint's time and its witness, and slack on the signed cadence "
    "(default 10m)",
    "max_cadence": "the longest checkpoint cadence you accept (default 1d; the agent's default is 1h): a checkpoint "
    "signing a longer one fails, as it would let that much history be written before its witness",
    "framework_sha256": "the SHA-256 (64 hex) of the framework mapping you agreed on (the bundle's framework.json, "
    "printed by `posture-agent evidence framework`): the report, OSCAL and summaries are "
    "computed for that mapping, so a bundle stating another one fails",
}
