"""A bundle's summaries are computed again by the verifiers from the records: failures carried in from
before the period, exceptions in force from before it, the framework it states, and any shape of
framework.json without a traceback."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from posture_verify.bundle import verify_bundle
from typer.testing import CliRunner

from agent.cli.main import app
from agent.evidence.export import export_bundle
from agent.exceptions import add_exception
from agent.mappings import load_mappings
from agent.models import canonical_json, finding_uid
from agent.store import Store
from tests.integration.evidence.helpers import CHECK, STEP, T0, bucket, cycle
from tests.integration.evidence.test_checkpoints_v2 import bundle_verdict, named
from tests.integration.evidence.test_manifest_signature import rewrite

B1 = "arn:aws:s3:::b1"


@pytest.fixture
def carried(store: Store, tmp_path: Path) -> Path:
    """b1 fails from the second cycle, the period starts at the fifth and b1 is fixed at the seventh; an
    exception created before the period is in force during it."""
    for i in range(10):
        cycle(store, T0 + i * STEP, [bucket("b0"), bucket("b1", encrypted=not (1 <= i <= 6))])
        if i == 0:
            add_exception(
                store,
                check_id=CHECK,
                resource_pattern="arn:aws:s3:::legacy-*",
                reason="migrating",
                owner="alice",
                expires_at=T0 + timedelta(days=30),
                now=T0 + timedelta(minutes=5),
            )
    out = tmp_path / "carried.zip"
    export_bundle(
        store,
        load_mappings(),
        framework="soc2",
        start=T0 + 4 * STEP - timedelta(minutes=1),
        end=T0 + 10 * STEP,
        out=out,
    )
    return out


def _member(bundle: Path, name: str) -> bytes:
    with zipfile.ZipFile(bundle) as zf:
        return zf.read(name)


def test_a_failure_open_at_the_start_is_reported_as_such(carried: Path) -> None:
    summary = json.loads(_member(carried, "summary/requirements.json"))
    [check] = [c for c in summary["checks"] if c["check_id"] == CHECK]
    [failure] = check["failures"]
    # its detection (the second cycle) is before the period: the bundle holds only the baseline
    assert failure["resource_id"] == B1 and failure["open_at_start"] is True
    assert failure["detected_at"] == summary["from"] and failure["fixed_at"] is not None
    report = _member(carried, "report.html").decode()
    assert "failing at the period start" in report and "at least " in report
    segment = json.loads(_member(carried, "chain/segment.json"))
    assert segment["baseline_findings"][finding_uid(CHECK, B1)] == [CHECK, B1]
    assert bundle_verdict(carried).ok


def test_a_baseline_finding_given_another_check_is_named(carried: Path, tmp_path: Path) -> None:
    """Moving the carried failure to a check no criterion counts would hide it: the uid no longer hashes."""
    segment = json.loads(_member(carried, "chain/segment.json"))
    uid = finding_uid(CHECK, B1)
    segment["baseline_findings"][uid] = ["aws.s3.some_unmapped_check", B1]
    out = tmp_path / "moved.zip"
    rewrite(carried, out, {"chain/segment.json": canonical_json(segment)})
    v = bundle_verdict(out)
    assert named(
        v,
        f"chain/segment.json baseline_findings {uid}: check 'aws.s3.some_unmapped_check' and resource "
        f"'{B1}' do not give this finding id (altered)",
    ), v
    del segment["baseline_findings"][uid]
    rewrite(carried, out, {"chain/segment.json": canonical_json(segment)})
    assert named(bundle_verdict(out), f"chain/segment.json baseline_findings {uid}: missing"), v


def test_a_removed_baseline_is_named(carried: Path, tmp_path: Path) -> None:
    """Without its baseline a source's failures open at the start would vanish from the summaries and its
    first result sets would go unchecked: a bundle must hold one unless it says its history was pruned."""
    segment = json.loads(_member(carried, "chain/segment.json"))
    [key] = list(segment["baseline"])
    del segment["baseline"][key], segment["baseline_results"][key]
    out = tmp_path / "no-baseline.zip"
    rewrite(carried, out, {"chain/segment.json": canonical_json(segment)})
    source, account = key.split("\t")
    v = bundle_verdict(out)
    assert named(
        v,
        f"chain/segment.json baseline of {source}/{account}: missing, although the bundle does not say "
        "its history was pruned (baseline removed)",
    ), v


def test_an_exception_from_before_the_period_is_exported_with_its_voucher(carried: Path, tmp_path: Path) -> None:
    vouchers = [json.loads(line) for line in _member(carried, "chain/vouchers.jsonl").splitlines()]
    [voucher] = [v for v in vouchers if "exception_id" in v]
    assert voucher["entry"]["kind"] == "exception"
    assert b"alice" in _member(carried, "logs/exceptions.csv")
    out = tmp_path / "no-voucher.zip"
    kept = b"".join(canonical_json(v) + b"\n" for v in vouchers if v is not voucher)
    rewrite(carried, out, {"chain/vouchers.jsonl": kept})
    v = bundle_verdict(out)
    assert v.problems == [
        f"exceptions id {voucher['exception_id']}: no chain entry in the bundle vouches for it (row "
        "inserted, or its voucher removed)"
    ], v


def test_the_cli_prints_the_framework_a_bundle_states(carried: Path) -> None:
    result = CliRunner().invoke(app, ["evidence", "framework", "--sha256"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == hashlib.sha256(_member(carried, "framework.json")).hexdigest()
    shown = CliRunner().invoke(app, ["evidence", "framework"])
    assert json.loads(shown.stdout)["requirements"][0]["ref"].startswith("SOC2:")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


def _framework_variants() -> st.SearchStrategy[bytes]:
    good = {
        "framework": "soc2",
        "name": "SOC 2",
        "version": "2017",
        "categories": [],
        "requirements": [{"ref": "SOC2:CC6.1", "title": "t", "controls": ["C"], "checks": [CHECK]}],
        "controls": {"C": {"title": "c", "kind": "automated", "evidence": None}},
    }
    mutated = st.tuples(st.sampled_from(sorted(good)), _JSON).map(lambda kv: {**good, kv[0]: kv[1]})
    return st.one_of(
        st.binary(max_size=64),
        _JSON.map(lambda v: json.dumps(v).encode()),
        mutated.map(lambda v: json.dumps(v).encode()),
    )


@pytest.fixture
def bundle_dir(carried: Path, tmp_path: Path) -> tuple[Path, Path]:
    return carried, tmp_path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_framework_variants())
def test_any_framework_json_gets_a_named_problem_never_a_traceback(bundle_dir: tuple[Path, Path], data: bytes) -> None:
    carried, tmp = bundle_dir
    out = tmp / "framework.zip"
    rewrite(carried, out, {"framework.json": data})
    report = verify_bundle(out)
    if data == _member(carried, "framework.json"):
        assert report.ok
        return
    assert not report.ok
    assert all("verification stopped" not in str(i) for i in report.issues), report.issues
    assert any(
        str(i).startswith(("file framework.json", "file report.html", "file summary/", "file oscal/", "file logs/"))
        for i in report.issues
    ), report.issues
