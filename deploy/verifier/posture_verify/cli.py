"""`posture-verify BUNDLE [--public-key PEM]... [--key-fingerprint HEX]... [--tsa-cert PEM]...
[--anchor-bucket s3://bucket/prefix] [--s3-endpoint URL] [--tolerance 10m] [--max-cadence 1d]
[--format text|json]`.

Exit status: 0 the bundle verifies, 1 it does not (each problem printed as ``record: problem``),
2 the command was used wrongly (unknown option, missing bundle file, unreadable key). Notes (what
could not be established, e.g. that nothing proves who wrote the evidence when no key is pinned)
go to standard error as ``posture-verify: note: ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from posture_verify import __version__
from posture_verify.bundle import verify_bundle
from posture_verify.report import VerifyReport
from posture_verify.trust import OPTION_HELP, TrustError, build_trust

__all__ = ["main", "summary"]

OK, PROBLEMS, USAGE = 0, 1, 2


def summary(report: VerifyReport, what: str) -> str:
    """The closing line: the verdict and what was checked (also printed by `posture-agent evidence verify`)."""
    signed = (f", {report.signatures_checked} signatures verified" if report.signatures_checked else "") + (
        f", {report.signatures_unchecked} signatures not checked (no public key)" if report.signatures_unchecked else ""
    )
    if report.manifest_signature == "verified":
        signed += ", manifest signature verified"
    verdict = "OK" if report.ok else f"FAILED with {len(report.issues)} problems"
    whose = (
        f"; signed by pinned key {', '.join(k[:16] for k in report.signed_by)}"
        if report.pinned and report.signed_by
        else ""
        if report.pinned
        else "; no key pinned: nothing proves who wrote it"
    )
    return (
        f"{verdict}: {what}: {report.entries} entries (seq {report.first_seq}..{report.last_seq}), "
        f"{report.snapshots} snapshots, {report.blobs} blobs, {report.checkpoints} checkpoints{signed}{whose}"
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="posture-verify",
        description="Verify a posture-agent evidence bundle offline: every file, hash, chain link, record, "
        "result set, manifest and checkpoint signature.",
    )
    p.add_argument("bundle", type=Path, help="the bundle zip (posture-agent evidence export)")
    p.add_argument(
        "--public-key", action="append", type=Path, default=[], metavar="PEM", help=OPTION_HELP["public_key"]
    )
    p.add_argument("--key-fingerprint", action="append", default=[], metavar="HEX", help=OPTION_HELP["key_fingerprint"])
    p.add_argument("--tsa-cert", action="append", type=Path, default=[], metavar="PEM", help=OPTION_HELP["tsa_cert"])
    p.add_argument("--anchor-bucket", metavar="S3URL", help=OPTION_HELP["anchor_bucket"])
    p.add_argument("--s3-endpoint", metavar="URL", help=OPTION_HELP["s3_endpoint"])
    p.add_argument("--tolerance", metavar="DURATION", help=OPTION_HELP["tolerance"])
    p.add_argument("--max-cadence", metavar="DURATION", help=OPTION_HELP["max_cadence"])
    p.add_argument("--framework-sha256", metavar="HEX", help=OPTION_HELP["framework_sha256"])
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _fail(message: str, code: int) -> int:
    print(f"posture-verify: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on a usage error
    try:
        trust = build_trust(
            public_keys=args.public_key,
            fingerprints=args.key_fingerprint,
            tsa_certs=args.tsa_cert,
            anchor_bucket=args.anchor_bucket,
            s3_endpoint=args.s3_endpoint,
            tolerance=args.tolerance,
            max_cadence=args.max_cadence,
            framework_sha256=args.framework_sha256,
        )
    except TrustError as exc:
        return _fail(str(exc), USAGE)
    if not args.bundle.is_file():
        return _fail(f"bundle not found: {args.bundle}", USAGE)
    try:
        report = verify_bundle(args.bundle, trust=trust)
    except Exception as exc:  # never a traceback for an auditor: one line, and a failed verdict
        return _fail(f"cannot verify {args.bundle}: {type(exc).__name__}: {exc}", PROBLEMS)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for issue in report.issues:
            print(issue)
        print(summary(report, str(args.bundle)))
        for note in report.notes:
            print(f"posture-verify: note: {note}", file=sys.stderr)
    return OK if report.ok else PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
