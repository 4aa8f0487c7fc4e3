"""The mappings loader (schema, dangling and duplicate ids, coverage rules) and the status rules."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from agent.errors import ConfigError
from agent.mappings import load_mappings, mappings_dir, schema
from agent.posture import control_states, coverage, evaluate_posture
from tests.unit.checks.casekit import declared_check_ids

# The AWS checks the mappings must cover: every id checks/aws declares, read from its source (not
# imported, so these tests do not depend on the checks' code; no list or count to keep in step).
AWS_CHECK_IDS = declared_check_ids("checks.aws")

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_aws_check_ids_are_the_aws_catalog() -> None:
    """What the count of the old hand-kept list guarded: no AWS check is left out of these tests."""
    from agent.registry import checks_in

    assert {c.id for c in checks_in("checks.aws")} == AWS_CHECK_IDS


# -- the real files ------------------------------------------------------------------------------


def _live_check_ids() -> frozenset[str]:
    """Every check the registry finds (AWS plus the other providers' catalogs)."""
    from agent.registry import load_checks

    return AWS_CHECK_IDS | frozenset(load_checks())


def test_real_mappings_load_against_the_known_check_ids() -> None:
    m = load_mappings(known_checks=_live_check_ids())
    assert set(m.frameworks) == {"soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa"}
    assert 50 <= len(m.controls) <= 200  # AWS, Azure, GCP and endpoint controls


def test_schemas_are_valid_json_schema_and_real_files_conform() -> None:
    base = mappings_dir()
    for name in ("controls", "framework"):
        jsonschema.Draft202012Validator.check_schema(schema(name))
    jsonschema.validate(yaml.safe_load((base / "controls.yaml").read_text()), schema("controls"))
    for f in sorted((base / "frameworks").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(f.read_text()), schema("framework"))


def test_every_known_check_maps_to_a_control_and_a_soc2_criterion() -> None:
    m = load_mappings(known_checks=_live_check_ids())
    assert m.checks() >= AWS_CHECK_IDS
    assert m.unmapped_checks(AWS_CHECK_IDS, "soc2") == []
    for chk in AWS_CHECK_IDS:  # also in the default scope (security only)
        assert any(t.startswith("SOC2:") for t in m.tags_for(chk, ("soc2",), ("security",))), chk


def test_every_azure_check_maps_to_a_soc2_criterion() -> None:
    azure = frozenset(c for c in _live_check_ids() if c.startswith("azure."))
    assert azure == declared_check_ids("checks.azure")  # the whole Azure catalog, not a vacuous subset
    m = load_mappings(known_checks=_live_check_ids())
    assert m.unmapped_checks(azure, "soc2") == []


# -- synthetic mapping directories ---------------------------------------------------------------

CONTROLS = """\
version: 1
controls:
  - id: AC-MFA
    title: MFA for people
    description: Every person signs in with a second factor.
    kind: automated
    checks: [aws.iam.console_user_mfa]
  - id: AC-KEYS
    title: Keys rotated
    description: Long-lived keys are replaced regularly.
    kind: automated
    checks: [aws.iam.access_key_rotated_90d, aws.iam.single_active_access_key]
  - id: POL-SEC
    title: Security policy
    description: Management approves a security policy.
    kind: manual
    evidence: Information security policy
    review_every: 365d
"""

SOC2 = """\
framework: {id: soc2, prefix: SOC2, name: SOC 2, version: "2017"}
requirements:
  - {id: CC6.1, category: security, title: Logical access, controls: [AC-MFA, AC-KEYS]}
  - {id: CC5.3, category: security, title: Policies, controls: [POL-SEC]}
  - {id: CC6.4, category: security, title: Physical access, controls: []}
  - {id: A1.2, category: availability, title: Backups, controls: [AC-KEYS]}
"""

ISO = """\
framework: {id: iso27001, prefix: ISO27001, name: ISO 27001, version: "2022"}
requirements:
  - {id: A.8.5, title: Secure authentication, controls: [AC-MFA, POL-SEC]}
"""

KNOWN = {"aws.iam.console_user_mfa", "aws.iam.access_key_rotated_90d", "aws.iam.single_active_access_key"}


def write(tmp: Path, controls: str = CONTROLS, **frameworks: str) -> Path:
    (tmp / "frameworks").mkdir(parents=True, exist_ok=True)
    (tmp / "controls.yaml").write_text(textwrap.dedent(controls))
    for fid, text in (frameworks or {"soc2": SOC2, "iso27001": ISO}).items():
        (tmp / "frameworks" / f"{fid}.yaml").write_text(textwrap.dedent(text))
    return tmp


def problems(tmp: Path, known: Any = KNOWN) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_mappings(tmp, known_checks=known)
    return [str(p) for p in exc.value.problems]


def test_synthetic_mappings_load(tmp_path: Path) -> None:
    m = load_mappings(write(tmp_path), known_checks=KNOWN)
    assert list(m.frameworks) == ["soc2", "iso27001"]
    assert m.controls["POL-SEC"].review_every == timedelta(days=365)
    assert m.controls_for_check("aws.iam.single_active_access_key") == ("AC-KEYS",)


def test_unknown_key_is_a_schema_error_with_file_and_line(tmp_path: Path) -> None:
    bad = CONTROLS.replace("    kind: manual\n", "    kind: manual\n    owner: someone\n")
    out = problems(write(tmp_path, bad))
    assert len(out) == 1
    assert out[0].startswith(f"{tmp_path / 'controls.yaml'}:17: controls[2].owner: ")
    assert "owner" in out[0] and "unknown key" in out[0]


def test_automated_control_without_checks_is_rejected(tmp_path: Path) -> None:
    bad = CONTROLS.replace("    checks: [aws.iam.console_user_mfa]\n", "")
    out = problems(write(tmp_path, bad))
    assert any("controls[0]" in p and "checks" in p for p in out), out


def test_manual_control_with_checks_is_rejected(tmp_path: Path) -> None:
    line = "    evidence: Information security policy\n"
    bad = CONTROLS.replace(line, line + "    checks: [aws.iam.console_user_mfa]\n")
    out = problems(write(tmp_path, bad))
    assert any("controls[2].checks" in p and "empty" in p for p in out), out


def test_bad_values_are_schema_errors(tmp_path: Path) -> None:
    bad = CONTROLS.replace("kind: manual", "kind: sometimes").replace("id: AC-KEYS", "id: ac keys")
    out = problems(write(tmp_path, bad))
    assert any(":8: controls[1].id:" in p for p in out), out
    assert any("controls[2].kind" in p and "sometimes" in p for p in out), out


def test_soc2_requirement_needs_a_category(tmp_path: Path) -> None:
    soc2 = SOC2.replace("category: security, title: Policies", "title: Policies")
    out = problems(write(tmp_path, soc2=soc2, iso27001=ISO))
    assert any("soc2.yaml:4: requirements[1]" in p and "category" in p for p in out), out


def test_duplicate_control_id(tmp_path: Path) -> None:
    bad = CONTROLS.replace("id: AC-KEYS", "id: AC-MFA")
    out = problems(write(tmp_path, bad))
    assert (
        f"{tmp_path / 'controls.yaml'}:8: controls[1].id: duplicate control id 'AC-MFA' "
        "(first defined on line 3)" in out
    )


def test_duplicate_requirement_id(tmp_path: Path) -> None:
    out = problems(write(tmp_path, soc2=SOC2.replace("id: CC5.3", "id: CC6.1"), iso27001=ISO))
    assert any("soc2.yaml:4: requirements[1].id: duplicate requirement id 'CC6.1'" in p for p in out), out


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    bad = CONTROLS.replace("    kind: manual\n", "    kind: manual\n    kind: manual\n")
    out = problems(write(tmp_path, bad))
    assert out == [f"{tmp_path / 'controls.yaml'}:17: duplicate key 'kind'"]


def test_unknown_control_in_framework_names_file_and_line(tmp_path: Path) -> None:
    out = problems(write(tmp_path, soc2=SOC2, iso27001=ISO.replace("POL-SEC", "POL-NOPE")))
    assert out == [
        f"{tmp_path / 'frameworks' / 'iso27001.yaml'}:3: requirements[0].controls[1]: "
        "requirement A.8.5: unknown control id 'POL-NOPE'"
    ]


def test_unknown_check_id_names_file_and_line(tmp_path: Path) -> None:
    bad = CONTROLS.replace("aws.iam.single_active_access_key", "aws.iam.single_key_typo")
    out = problems(write(tmp_path, bad))
    assert out == [
        f"{tmp_path / 'controls.yaml'}:12: controls[1].checks[1]: "
        "control AC-KEYS: unknown check id 'aws.iam.single_key_typo'"
    ]


def test_check_ids_not_validated_without_a_registry(tmp_path: Path) -> None:
    bad = CONTROLS.replace("aws.iam.single_active_access_key", "aws.iam.single_key_typo")
    assert "aws.iam.single_key_typo" in load_mappings(write(tmp_path, bad), known_checks=None).checks()


def test_control_mapped_to_no_requirement(tmp_path: Path) -> None:
    extra = CONTROLS + (
        "  - id: ORPHAN-ONE\n"
        "    title: Nobody needs me\n"
        "    description: A control no framework refers to.\n"
        "    kind: manual\n"
        "    evidence: Something\n"
    )
    out = problems(write(tmp_path, extra))
    assert out == [
        f"{tmp_path / 'controls.yaml'}:19: ORPHAN-ONE: control ORPHAN-ONE is mapped to no framework requirement"
    ]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    out = problems(write(tmp_path, soc2=SOC2 + "  - {id: [\n", iso27001=ISO))
    assert len(out) == 1 and "soc2.yaml:" in out[0] and "YAML syntax" in out[0]


def test_file_name_must_match_framework_id(tmp_path: Path) -> None:
    out = problems(write(tmp_path, soc2=SOC2, hipaa=ISO))
    assert any("hipaa.yaml:1: framework.id" in p and "iso27001.yaml" in p for p in out), out


def test_tags_for_respects_frameworks_and_categories(tmp_path: Path) -> None:
    m = load_mappings(write(tmp_path), known_checks=KNOWN)
    assert m.tags_for("aws.iam.access_key_rotated_90d") == ("SOC2:CC6.1",)
    assert m.tags_for("aws.iam.access_key_rotated_90d", ("soc2",), ("security", "availability")) == (
        "SOC2:A1.2",
        "SOC2:CC6.1",
    )
    assert m.tags_for("aws.iam.console_user_mfa", ("soc2", "iso27001")) == ("ISO27001:A.8.5", "SOC2:CC6.1")
    assert m.tags_for("aws.iam.console_user_mfa", ("iso27001",)) == ("ISO27001:A.8.5",)
    assert m.tags_for("aws.unknown.check", ("soc2", "iso27001")) == ()
    # security is always in scope
    assert m.tags_for("aws.iam.console_user_mfa", ("soc2",), ("availability",)) == ("SOC2:CC6.1",)


def test_coverage_counts(tmp_path: Path) -> None:
    m = load_mappings(write(tmp_path), known_checks=KNOWN)
    assert coverage(m, "soc2", ("security",)) == {"requirements": 3, "automated": 1, "manual": 1, "unsupported": 1}
    assert coverage(m, "soc2", ("security", "availability"))["automated"] == 2
    assert coverage(m, "iso27001", ())["automated"] == 1


# -- status rules --------------------------------------------------------------------------------


def f(check: str, status: str, resource: str = "r1", message: str = "") -> dict[str, Any]:
    return {"check_id": check, "status": status, "resource_id": resource, "message": message}


def ev(control: str, attached: datetime, days: int = 365, id_: int = 1, name: str = "policy.pdf") -> dict[str, Any]:
    return {
        "id": id_,
        "control_id": control,
        "filename": name,
        "sha256": "0" * 64,
        "owner": "Jane",
        "attached_at": attached,
        "next_review": attached + timedelta(days=days),
    }


@pytest.fixture
def m(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_mappings(write(tmp_path), known_checks=KNOWN)


MFA, ROT = "aws.iam.console_user_mfa", "aws.iam.access_key_rotated_90d"
ONE = "aws.iam.single_active_access_key"


def states(
    m: Any,
    findings: list[dict[str, Any]],
    evidence: list[dict[str, Any]] | None = None,
    categories: tuple[str, ...] = ("security",),
) -> dict[str, Any]:
    p = evaluate_posture(m, findings, evidence or [], frameworks=("soc2",), categories=categories, now=NOW)
    return {rs.requirement.id: rs for rs in p.requirements["soc2"]}


def test_control_status_rules(m: Any) -> None:
    cs = control_states(m, [f(MFA, "pass"), f(MFA, "not_applicable", "r2")], [], NOW)
    assert cs["AC-MFA"].status == "pass"
    assert cs["AC-KEYS"].status == "no_data"
    cs = control_states(m, [f(ROT, "pass"), f(ONE, "error", "r2", "denied")], [], NOW)
    assert cs["AC-KEYS"].status == "error" and "denied" in cs["AC-KEYS"].reason
    rows = [f(ROT, "fail"), f(ONE, "error", "r2"), f(ONE, "fail", "r1"), f(ROT, "fail", "r3")]
    cs = control_states(m, rows, [], NOW)
    assert cs["AC-KEYS"].status == "fail"
    assert cs["AC-KEYS"].failing_resources == {"r1", "r3"}
    assert cs["AC-KEYS"].reason.startswith("2 failing resources")


def test_requirement_passes_when_every_control_passes(m: Any) -> None:
    rs = states(m, [f(MFA, "pass"), f(ROT, "pass"), f(ONE, "pass")])["CC6.1"]
    assert (rs.status, rs.kind, rs.failing_resources) == ("pass", "automated", 0)
    assert set(rs.checks) == {MFA, ROT, ONE}


def test_requirement_fails_when_any_control_fails(m: Any) -> None:
    rs = states(m, [f(MFA, "fail", "alice"), f(MFA, "fail", "bob"), f(ROT, "error"), f(ONE, "pass")])["CC6.1"]
    assert rs.status == "fail" and rs.failing_resources == 2
    assert any(r.startswith("AC-MFA: 2 failing resources") for r in rs.reasons)


def test_requirement_error_when_a_check_could_not_be_evaluated(m: Any) -> None:
    assert states(m, [f(MFA, "pass"), f(ROT, "error")])["CC6.1"].status == "error"


def test_requirement_no_data_and_partial_data(m: Any) -> None:
    assert states(m, [])["CC6.1"].status == "no_data"
    # a control with nothing to test beside one that passed does not block
    assert states(m, [f(MFA, "pass")])["CC6.1"].status == "pass"


def test_requirement_without_controls_is_unsupported(m: Any) -> None:
    rs = states(m, [])["CC6.4"]
    assert (rs.status, rs.kind, rs.checks) == ("unsupported", "unsupported", ())


def test_manual_requirement_missing_current_overdue_and_latest(m: Any) -> None:
    rs = states(m, [])["CC5.3"]
    assert (rs.status, rs.kind) == ("fail", "manual")
    assert rs.reasons == ["POL-SEC: no evidence attached (expected: Information security policy)"]
    assert states(m, [], [ev("POL-SEC", NOW - timedelta(days=10))])["CC5.3"].status == "pass"
    overdue = states(m, [], [ev("POL-SEC", NOW - timedelta(days=400))])["CC5.3"]
    assert overdue.status == "fail"
    assert "was due for review on 2025-04-27" in overdue.reasons[0]
    # the latest attachment is in force, whatever the order
    both = [ev("POL-SEC", NOW - timedelta(days=5), id_=2, name="new.pdf"), ev("POL-SEC", NOW - timedelta(days=400))]
    assert states(m, [], both)["CC5.3"].status == "pass"


def test_failing_manual_control_fails_an_automated_requirement(tmp_path: Path) -> None:
    m = load_mappings(write(tmp_path), known_checks=KNOWN)
    p = evaluate_posture(m, [f(MFA, "pass")], [], frameworks=("iso27001",), categories=(), now=NOW)
    (rs,) = p.requirements["iso27001"]
    assert (rs.status, rs.kind) == ("fail", "automated")
    assert rs.reasons == ["POL-SEC: no evidence attached (expected: Information security policy)"]


def test_out_of_scope_categories_are_hidden(m: Any) -> None:
    assert "A1.2" not in states(m, [])
    assert "A1.2" in states(m, [], categories=("availability",))


def test_posture_serialises_to_json(m: Any) -> None:
    p = evaluate_posture(
        m, [f(MFA, "fail")], [ev("POL-SEC", NOW)], frameworks=("soc2",), categories=("security",), now=NOW
    )
    doc = json.loads(json.dumps([rs.to_dict() for rs in p.requirements["soc2"]]))
    cc61 = next(d for d in doc if d["id"] == "CC6.1")
    assert cc61["ref"] == "SOC2:CC6.1" and cc61["failing_resources"] == 1
    assert p.summary("soc2")["total"] == 3


def test_a_cloud_specific_benchmark_counts_only_its_providers_checks() -> None:
    """IAM-USER-MFA is tested by AWS and Azure checks; an Azure failure must not fail CIS AWS 1.10."""
    real = load_mappings()
    azure_mfa, aws_mfa = "azure.entra.user_mfa_registered", "aws.iam.console_user_mfa"
    assert real.frameworks["cis_aws"].providers == ("aws",)
    assert not any(t.startswith("CIS-AWS:") for t in real.tags_for(azure_mfa, ("soc2", "cis_aws")))
    assert "CIS-AWS:1.10" in real.tags_for(aws_mfa, ("soc2", "cis_aws"))
    p = evaluate_posture(
        real,
        [f(azure_mfa, "fail"), f(aws_mfa, "pass", "r2")],
        [],
        frameworks=("soc2", "cis_aws"),
        categories=("security",),
        now=NOW,
    )
    cis = {rs.requirement.id: rs for rs in p.requirements["cis_aws"]}["1.10"]
    soc2 = {rs.requirement.id: rs for rs in p.requirements["soc2"]}["CC6.1"]
    assert cis.status == "pass" and azure_mfa not in cis.checks and aws_mfa in cis.checks
    assert soc2.status == "fail" and azure_mfa in soc2.checks
    req = next(r for r in real.frameworks["cis_aws"].requirements if r.id == "1.10")
    assert azure_mfa not in real.requirement_checks(req)
