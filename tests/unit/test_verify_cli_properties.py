"""Property tests of the standalone verifier's input surface: its options and the bundle file.

Whatever an auditor types or whatever file they are handed, `posture-verify` answers with an exit status
(0 verified, 1 problems, 2 unusable options) and one line naming the problem: never a traceback.
"""

from __future__ import annotations

import io
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posture_verify.cli import main
from posture_verify.trust import DEFAULT_MAX_CADENCE, TrustError, build_trust, parse_fingerprint, parse_tolerance

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

durations = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda n, u: f"{n}{u}",
        st.integers(min_value=-5, max_value=10**15),
        st.sampled_from(["", "s", "m", "h", "d", "w", "ms"]),
    ),
)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@SETTINGS
@given(value=durations)
def test_a_duration_parses_or_names_the_option(value: str) -> None:
    for option in ("--tolerance", "--max-cadence"):
        try:
            td = parse_tolerance(value, option)
        except TrustError as exc:
            assert str(exc).startswith(f"{option} {value}:")
        else:
            assert timedelta(0) <= td <= timedelta(days=366)


@SETTINGS
@given(value=st.text(max_size=80))
def test_a_fingerprint_parses_or_names_the_option(value: str) -> None:
    try:
        fp = parse_fingerprint(value)
    except TrustError as exc:
        assert str(exc).startswith("--key-fingerprint ")
    else:
        assert len(fp) == 64 and set(fp) <= set("0123456789abcdef")


@SETTINGS
@given(
    tolerance=st.none() | durations,
    max_cadence=st.none() | durations,
    bucket=st.none() | st.text(max_size=30),
    fingerprints=st.lists(st.text(max_size=70), max_size=2),
)
def test_trust_options_build_or_name_the_option(
    tolerance: str | None, max_cadence: str | None, bucket: str | None, fingerprints: list[str]
) -> None:
    try:
        trust = build_trust(
            fingerprints=fingerprints, anchor_bucket=bucket, tolerance=tolerance, max_cadence=max_cadence
        )
    except TrustError as exc:
        assert str(exc).startswith("--")
    else:
        assert trust.max_cadence >= timedelta(minutes=1)
        if max_cadence is None:
            assert trust.max_cadence == DEFAULT_MAX_CADENCE


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_any_file_as_a_bundle_gives_a_verdict(tmp_path: Path, data: bytes) -> None:
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(data)
    code, out, err = run([str(bundle)])
    assert code in (1, 2), (code, out, err)
    assert "Traceback" not in out + err


@SETTINGS
@given(
    members=st.dictionaries(
        st.sampled_from(
            [
                "manifest.json",
                "manifest.sig",
                "chain/entries.jsonl",
                "chain/checkpoints.jsonl",
                "records/runs.jsonl",
                "records/blobs.jsonl",
                "keys/signing-public.pem",
                "report.html",
                "blobs/ab/x.json",
            ]
        ),
        st.one_of(
            st.binary(max_size=200),
            st.just(b'{"format": "posture-agent-evidence-bundle/3"}'),
            st.just(b'{"id": 1}\n[]\n'),
        ),
        max_size=6,
    )
)
def test_any_zip_as_a_bundle_gives_a_verdict(tmp_path: Path, members: dict[str, bytes]) -> None:
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        for name, body in members.items():
            z.writestr(name, body)
    code, out, err = run([str(bundle), "--max-cadence", "1h"])
    assert code == 1, (code, out, err)
    assert "Traceback" not in out + err and out.strip(), (out, err)


@SETTINGS
@given(
    argv=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "--public-key",
                    "--key-fingerprint",
                    "--tsa-cert",
                    "--anchor-bucket",
                    "--s3-endpoint",
                    "--tolerance",
                    "--max-cadence",
                    "--format",
                ]
            ),
            st.text(max_size=20).filter(lambda s: "\x00" not in s),
        ),
        max_size=6,
    )
)
def test_any_arguments_give_an_exit_status(tmp_path: Path, argv: list[str]) -> None:
    code, out, err = run([str(tmp_path / "missing.zip"), *argv])
    assert code in (1, 2), (code, out, err)
    assert "Traceback" not in out + err


@pytest.mark.parametrize("value,expected", [("1h", "1h"), ("90m", "1h 30m"), ("2d", "2d"), ("600", "10m")])
def test_max_cadence_is_read_as_a_duration(value: str, expected: str) -> None:
    from posture_verify.checkpoints import show_duration

    assert show_duration(build_trust(max_cadence=value).max_cadence) == expected


def test_max_cadence_below_a_minute_is_refused() -> None:
    with pytest.raises(TrustError, match="--max-cadence 30s: shorter than a minute"):
        build_trust(max_cadence="30s")
