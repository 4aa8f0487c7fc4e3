"""`posture-verify BUNDLE [--public-key PEM]... [--format text|json]`.

Exit status: 0 the bundle verifies, 1 it does not (each problem printed as ``record: problem``),
2 the command was used wrongly (unknown option, missing bundle file, unreadable key).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from posture_verify import __version__
from posture_verify.bundle import verify_bundle
from posture_verify.checkpoints import load_public_key
from posture_verify.report import VerifyReport

__all__ = ["main", "summary"]

OK, PROBLEMS, USAGE = 0, 1, 2


def summary(report: VerifyReport, what: str) -> str:
    """The closing line: the verdict and what was checked (also printed by `posture-agent evidence verify`)."""
    signed = (f", {report.signatures_checked} signatures verified" if report.signatures_checked else "") + (
        f", {report.signatures_unchecked} signatures not checked (no public key)"
        if report.signatures_unchecked else "")
    verdict = "OK" if report.ok else f"FAILED with {len(report.issues)} problems"
    return (f"{verdict}: {what}: {report.entries} entries (seq {report.first_seq}..{report.last_seq}), "
            f"{report.snapshots} snapshots, {report.blobs} blobs, {report.checkpoints} checkpoints{signed}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="posture-verify",
        description="Verify a posture-agent evidence bundle offline: every file, hash, chain link, record, "
                    "result set, manifest and checkpoint signature.")
    p.add_argument("bundle", type=Path, help="the bundle zip (posture-agent evidence export)")
    p.add_argument("--public-key", action="append", type=Path, default=[], metavar="PEM",
                   help="an Ed25519 public key (PEM) the checkpoints must be signed with, received from the "
                        "organisation out of band; repeatable")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _fail(message: str, code: int) -> int:
    print(f"posture-verify: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on a usage error
    keys: list[Ed25519PublicKey] = []
    for pem in args.public_key:
        try:
            keys.append(load_public_key(pem.read_bytes()))
        except (OSError, ValueError) as exc:
            return _fail(f"--public-key {pem}: {exc}", USAGE)
    if not args.bundle.is_file():
        return _fail(f"bundle not found: {args.bundle}", USAGE)
    try:
        report = verify_bundle(args.bundle, public_keys=keys)
    except Exception as exc:  # never a traceback for an auditor: one line, and a failed verdict
        return _fail(f"cannot verify {args.bundle}: {type(exc).__name__}: {exc}", PROBLEMS)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for issue in report.issues:
            print(issue)
        print(summary(report, str(args.bundle)))
    return OK if report.ok else PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
