"""The real mapping files: every framework complete, every control mapped, every live check mapped."""

from __future__ import annotations

import pytest

from agent.mappings import Mappings, check_provider, load_mappings
from agent.posture import coverage
from agent.registry import load_checks

SOC2_CRITERIA = {
    "security": [f"CC1.{i}" for i in range(1, 6)]
    + [f"CC2.{i}" for i in range(1, 4)]
    + [f"CC3.{i}" for i in range(1, 5)]
    + ["CC4.1", "CC4.2"]
    + [f"CC5.{i}" for i in range(1, 4)]
    + [f"CC6.{i}" for i in range(1, 9)]
    + [f"CC7.{i}" for i in range(1, 6)]
    + ["CC8.1", "CC9.1", "CC9.2"],
    "availability": ["A1.1", "A1.2", "A1.3"],
    "confidentiality": ["C1.1", "C1.2"],
    "processing_integrity": [f"PI1.{i}" for i in range(1, 6)],
    "privacy": [
        "P1.1",
        "P2.1",
        "P3.1",
        "P3.2",
        "P4.1",
        "P4.2",
        "P4.3",
        "P5.1",
        "P5.2",
        "P6.1",
        "P6.2",
        "P6.3",
        "P6.4",
        "P6.5",
        "P6.6",
        "P6.7",
        "P7.1",
        "P8.1",
    ],
}

AUTOMATED_SOC2 = [
    "CC6.1",
    "CC6.2",
    "CC6.3",
    "CC6.6",
    "CC6.7",
    "CC6.8",
    "CC7.1",
    "CC7.2",
    "CC7.3",
    "CC8.1",
    "A1.2",
    "C1.1",
]

POLICIES = [
    "information security",
    "access control",
    "password",
    "change management",
    "risk assessment",
    "logging and monitoring",
    "data classification",
    "incident response",
    "backup",
    "acceptable use",
    "business continuity",
    "vendor management",
]


@pytest.fixture(scope="module")
def live_checks() -> set[str]:
    return set(load_checks())


@pytest.fixture(scope="module")
def m(live_checks: set[str]) -> Mappings:
    # loads with the live registry: any check id a control names must exist
    return load_mappings(known_checks=live_checks)


def ids(m: Mappings, fid: str) -> list[str]:
    return [r.id for r in m.frameworks[fid].requirements]


def test_soc2_has_every_criterion_with_its_category(m: Mappings) -> None:
    got = {r.id: r.category for r in m.frameworks["soc2"].requirements}
    expected = {cid: cat for cat, cids in SOC2_CRITERIA.items() for cid in cids}
    assert got == expected
    assert len(got) == 61


def test_iso27001_has_all_93_annex_a_controls(m: Mappings) -> None:
    expected = (
        [f"A.5.{i}" for i in range(1, 38)]
        + [f"A.6.{i}" for i in range(1, 9)]
        + [f"A.7.{i}" for i in range(1, 15)]
        + [f"A.8.{i}" for i in range(1, 35)]
    )
    assert ids(m, "iso27001") == expected


def test_nist_covers_the_moderate_baseline_families(m: Mappings) -> None:
    got = ids(m, "nist80053")
    families = {i.split("-")[0] for i in got}
    assert {
        "AC",
        "AT",
        "AU",
        "CA",
        "CM",
        "CP",
        "IA",
        "IR",
        "MA",
        "MP",
        "PE",
        "PL",
        "PS",
        "RA",
        "SA",
        "SC",
        "SI",
        "SR",
    } <= families
    for cid in (
        "AC-2",
        "AC-6",
        "AU-2",
        "AU-9",
        "CM-8",
        "CP-9",
        "IA-2(1)",
        "IA-5",
        "IR-4",
        "RA-5",
        "SC-7",
        "SC-8",
        "SC-28",
        "SI-2",
        "SI-4",
    ):
        assert cid in got


def test_cis_aws_v3_recommendations(m: Mappings) -> None:
    got = ids(m, "cis_aws")
    assert [f"1.{i}" for i in range(1, 23)] == [i for i in got if i.startswith("1.")]
    assert [f"4.{i}" for i in range(1, 17)] == [i for i in got if i.startswith("4.")]
    for cid in (
        "2.1.1",
        "2.1.4",
        "2.2.1",
        "2.3.1",
        "2.3.3",
        "2.4.1",
        "3.1",
        "3.2",
        "3.3",
        "3.5",
        "3.7",
        "5.2",
        "5.4",
        "5.6",
    ):
        assert cid in got
        assert m.frameworks["cis_aws"].requirements[got.index(cid)].controls, f"CIS {cid} should be automated"


# Every recommendation number of CIS Microsoft Azure Foundations v3.0.0, in benchmark order (no
# section 1; 3.1.2 "Defender Plan: APIs" holds no recommendation in this version).
CIS_AZURE_V3 = (
    [f"2.1.{i}" for i in range(1, 5)]
    + [f"2.2.{i}" for i in range(1, 9)]
    + [f"2.{i}" for i in range(3, 27)]
    + ["3.1.1.1", "3.1.1.2"]
    + [f"3.1.3.{i}" for i in range(1, 6)]
    + [f"3.1.4.{i}" for i in range(1, 4)]
    + ["3.1.5.1", "3.1.6.1"]
    + [f"3.1.7.{i}" for i in range(1, 5)]
    + ["3.1.8.1", "3.1.9.1"]
    + [f"3.1.{i}" for i in range(10, 17)]
    + ["3.2.1"]
    + [f"3.3.{i}" for i in range(1, 9)]
    + [f"4.{i}" for i in range(1, 18)]
    + [f"5.1.{i}" for i in range(1, 8)]
    + [f"5.2.{i}" for i in range(1, 9)]
    + [f"5.3.{i}" for i in range(1, 5)]
    + [f"5.4.{i}" for i in range(1, 4)]
    + [f"6.1.{i}" for i in range(1, 7)]
    + [f"6.2.{i}" for i in range(1, 11)]
    + ["6.3.1", "6.4", "6.5"]
    + [f"7.{i}" for i in range(1, 8)]
    + [f"8.{i}" for i in range(1, 12)]
    + [f"9.{i}" for i in range(1, 13)]
    + ["10.1"]
)
# the recommendations whose own Azure checks exist (mappings/frameworks/cis_azure.yaml)
CIS_AZURE_AUTOMATED = (
    "2.2.4",
    "2.2.7",
    "2.12",
    "2.14",
    "2.15",
    "2.16",
    "2.26",
    "3.1.3.1",
    "3.1.4.1",
    "3.1.5.1",
    "3.1.6.1",
    "3.1.7.1",
    "3.1.7.2",
    "3.1.7.3",
    "3.1.7.4",
    "3.1.8.1",
    "3.1.9.1",
    "3.1.12",
    "3.1.13",
    "3.1.14",
    "3.3.6",
    "4.2",
    "4.7",
    "4.16",
    "4.17",
    "5.1.1",
    "5.1.4",
    "5.1.5",
    "5.1.6",
    "6.1.1",
    "6.1.2",
    "6.1.4",
    "6.2.1",
    "6.2.2",
    "6.2.3",
    "6.2.4",
    "6.2.5",
    "6.2.6",
    "6.2.7",
    "6.2.8",
    "6.2.9",
    "6.2.10",
    "7.1",
    "7.2",
    "7.5",
    "2.1.2",
    "2.1.3",
    "2.2.5",
    "3.3.5",
    "4.1",
    "4.10",
    "4.15",
    "5.1.2",
    "5.1.7",
)

# Every recommendation number of CIS Google Cloud Platform Foundation v3.0.0, in benchmark order.
CIS_GCP_V3 = (
    [f"1.{i}" for i in range(1, 18)]
    + [f"2.{i}" for i in range(1, 17)]
    + [f"3.{i}" for i in range(1, 11)]
    + [f"4.{i}" for i in range(1, 13)]
    + ["5.1", "5.2"]
    + [f"6.1.{i}" for i in range(1, 4)]
    + [f"6.2.{i}" for i in range(1, 10)]
    + [f"6.3.{i}" for i in range(1, 8)]
    + [f"6.{i}" for i in range(4, 8)]
    + [f"7.{i}" for i in range(1, 5)]
    + ["8.1"]
)
# the recommendations whose own GCP checks exist (mappings/frameworks/cis_gcp.yaml)
CIS_GCP_AUTOMATED = (
    "1.2",
    "1.4",
    "1.5",
    "1.6",
    "1.7",
    "1.8",
    "1.10",
    "1.11",
    "1.13",
    "1.14",
    "1.15",
    "1.16",
    "2.1",
    "2.2",
    "2.3",
    "2.4",
    "2.5",
    "2.6",
    "2.7",
    "2.8",
    "2.9",
    "2.10",
    "2.11",
    "3.1",
    "3.6",
    "3.7",
    "3.8",
    "4.3",
    "4.5",
    "4.6",
    "4.8",
    "4.9",
    "5.2",
    "6.2.1",
    "6.2.2",
    "6.2.3",
    "6.2.4",
    "6.2.5",
    "6.2.6",
    "6.2.7",
    "6.2.8",
    "6.4",
    "6.6",
    "6.7",
    "4.2",
    "4.4",
    "5.1",
    "6.1.2",
    "6.1.3",
    "6.3.1",
    "6.3.2",
    "6.3.3",
    "6.3.4",
    "6.3.5",
    "6.3.6",
    "6.3.7",
)


def _assert_cis_cloud(m: Mappings, fid: str, provider: str, expected: list[str], automated: tuple[str, ...]) -> None:
    fw = m.frameworks[fid]
    assert fw.providers == (provider,)
    assert ids(m, fid) == expected
    by_id = {r.id: r for r in fw.requirements}
    for rid in automated:
        assert by_id[rid].controls, f"{fid} {rid} should be automated"
    for r in fw.requirements:
        decided_by = m.requirement_checks(r)
        # a listed control must bring at least one check of this cloud, or the requirement never has data
        assert bool(decided_by) == bool(r.controls), f"{fid} {r.id}: {r.controls} -> {decided_by}"
        assert all(check_provider(c) == provider for c in decided_by), f"{fid} {r.id}: {decided_by}"


def test_cis_azure_v3_recommendations(m: Mappings) -> None:
    assert len(CIS_AZURE_V3) == 159
    _assert_cis_cloud(m, "cis_azure", "azure", CIS_AZURE_V3, CIS_AZURE_AUTOMATED)


def test_cis_gcp_v3_recommendations(m: Mappings) -> None:
    assert len(CIS_GCP_V3) == 85
    _assert_cis_cloud(m, "cis_gcp", "gcp", CIS_GCP_V3, CIS_GCP_AUTOMATED)


def test_cis_cloud_benchmarks_ignore_other_clouds(m: Mappings) -> None:
    # NET-ADMIN-PORTS holds AWS, Azure and GCP checks; each CIS benchmark counts only its own cloud
    azure = next(r for r in m.frameworks["cis_azure"].requirements if r.id == "7.2")
    gcp = next(r for r in m.frameworks["cis_gcp"].requirements if r.id == "3.6")
    assert m.requirement_checks(azure) == ("azure.network.nsg_admin_ports_restricted",)
    assert m.requirement_checks(gcp) == ("gcp.compute.firewall_admin_ports_closed",)
    assert not any(
        t.startswith(("CIS-AZURE:", "CIS-AWS:"))
        for t in m.tags_for("gcp.compute.firewall_admin_ports_closed", ("cis_aws", "cis_azure", "cis_gcp"))
    )
    assert "CIS-GCP:3.6" in m.tags_for("gcp.compute.firewall_admin_ports_closed", ("cis_gcp",))


def test_hipaa_security_rule_standards(m: Mappings) -> None:
    got = ids(m, "hipaa")
    for sid in (
        "164.308(a)(1)(i)",
        "164.308(a)(1)(ii)(A)",
        "164.308(a)(5)(ii)(D)",
        "164.308(a)(7)(ii)(A)",
        "164.308(a)(8)",
        "164.308(b)(1)",
        "164.310(a)(1)",
        "164.310(d)(1)",
        "164.312(a)(1)",
        "164.312(b)",
        "164.312(c)(1)",
        "164.312(d)",
        "164.312(e)(1)",
    ):
        assert sid in got
    sections = {r.id.split("(")[0] for r in m.frameworks["hipaa"].requirements}
    assert sections == {"164.308", "164.310", "164.312"}
    assert all(r.implementation for r in m.frameworks["hipaa"].requirements)


def test_every_control_is_mapped_and_manual_controls_name_their_document(m: Mappings) -> None:
    for cid, c in m.controls.items():
        assert m.requirements_for_control(cid), cid
        if not c.automated:
            assert c.evidence and c.review_every, cid


def test_policies_are_modelled_as_manual_controls(m: Mappings) -> None:
    manual = " | ".join(f"{c.title} {c.evidence}".lower() for c in m.controls.values() if not c.automated)
    for policy in POLICIES:
        assert policy in manual, policy


def test_every_live_check_maps_to_a_soc2_criterion(m: Mappings, live_checks: set[str]) -> None:
    assert live_checks, "the check registry is empty"
    assert m.unmapped_checks(live_checks, "soc2") == []
    for chk in sorted(live_checks):
        assert m.tags_for(chk, ("soc2",), ("security",)), f"{chk} supports no security criterion"


def test_required_soc2_criteria_have_automated_coverage(m: Mappings) -> None:
    by_id = {r.id: r for r in m.frameworks["soc2"].requirements}
    for cid in AUTOMATED_SOC2:
        assert any(m.controls[c].automated for c in by_id[cid].controls), cid


def test_most_of_cc1_to_cc5_rests_on_manual_controls(m: Mappings) -> None:
    reqs = [r for r in m.frameworks["soc2"].requirements if r.id[:3] in ("CC1", "CC2", "CC3", "CC4", "CC5")]
    manual_only = [r for r in reqs if all(not m.controls[c].automated for c in r.controls)]
    assert len(manual_only) >= len(reqs) * 0.7


def test_coverage_is_reported_for_every_framework(m: Mappings) -> None:
    for fid in m.frameworks:
        cov = coverage(m, fid, ("security", "availability", "confidentiality", "processing_integrity", "privacy"))
        assert cov["automated"] + cov["manual"] + cov["unsupported"] == cov["requirements"] > 0
        assert cov["automated"] > 0
    assert coverage(m, "soc2", ("security",))["unsupported"] == 0
