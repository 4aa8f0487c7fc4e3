"""Coverage over a synthetic day with a known agent outage and known failures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.evidence.coverage import compute_coverage, fmt_duration, fmt_pct, fmt_when
from agent.mappings import load_mappings
from agent.models import Finding, Severity, Snapshot, Status, finding_uid
from agent.store import RunRecord, Store
from tests.integration.evidence.helpers import CHECK, STEP, T0, bucket, cycle, seed
from tests.integration.evidence.test_report_documents import DAY, PERIOD, document_history


def test_outage_failures_and_remediation(store: Store) -> None:
    # 24 h of 15-minute cycles (96), agent down 06:00-09:00 (no runs), b1 failing 12:00-14:30
    for i in range(96):
        at = T0 + i * STEP
        if timedelta(hours=6) < at - T0 < timedelta(hours=9):
            continue
        failing = timedelta(hours=12) <= at - T0 < timedelta(hours=14, minutes=30)
        cycle(store, at, [bucket("b0"), bucket("b1", encrypted=not failing)])
    end = T0 + timedelta(hours=24)
    cov = compute_coverage(store, load_mappings(), "soc2", T0, end, intervals={"prod": STEP})
    src = cov.sources["prod"]
    assert src.scheduled == 96 and src.succeeded == 96 - 11
    assert [(g.start - T0, g.end - T0) for g in src.gaps] == [(timedelta(hours=6), timedelta(hours=9))]
    chk = cov.checks[CHECK]
    assert chk.unmonitored_pct == 12.5  # 3 h of 24, never credited as passing
    assert chk.fail_pct == round(100 * 2.5 / 24, 2)
    assert chk.pass_pct == round(100 - 12.5 - 100 * 2.5 / 24, 2)
    [failure] = chk.failures
    assert failure.detected_at == T0 + timedelta(hours=12)
    assert failure.time_to_remediate == timedelta(hours=2, minutes=30)
    req = next(r for r in cov.requirements if r["requirement"] == "SOC2:CC6.1")
    assert req["failures"] == 1 and req["mean_hours_to_remediate"] == 2.5 and req["gaps"] == 1


def test_unchanged_rescan_adds_no_bodies(store: Store) -> None:
    estate = [bucket(f"b{i}") for i in range(20)]
    cycle(store, T0, estate)
    with store.engine.connect() as conn:
        import sqlalchemy as sa

        before = conn.execute(sa.text("SELECT COUNT(*) FROM blobs")).scalar()
    cycle(store, T0 + STEP, estate)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM blobs")).scalar() == before


# -- honest statuses: manual documents in force, automated parts, combinations -------------------


def _req(cov: Any, ref: str) -> dict[str, Any]:
    return next(r for r in cov.requirements if r["requirement"] == ref)


def test_manual_criterion_without_a_document_is_not_evidenced(store: Store) -> None:
    seed(store)  # one document, for POL-ACCESS only
    cov = compute_coverage(store, load_mappings(), "soc2", T0, T0 + timedelta(hours=2))
    cc11 = _req(cov, "SOC2:CC1.1")
    assert cc11["kind"] == "manual" and cc11["status"] == "not evidenced"
    # nothing was measured: no pass share and no unmonitored share pretending to be numbers
    assert cc11["pass_pct"] is None and cc11["unmonitored_pct"] is None and cc11["automated"] is None
    assert cc11["manual"]["evidenced_pct"] == 0.0
    assert "GOV-CODE-OF-CONDUCT had no document in force" in cc11["reason"]
    assert cov.manual["GOV-CODE-OF-CONDUCT"].status == "not evidenced"
    # attached 30 minutes into a 2-hour period: in force for 75% of it
    access = cov.manual["POL-ACCESS"]
    assert access.status == "partly evidenced" and access.evidenced_pct == 75.0
    assert [d.filename for d in access.documents] == ["access.pdf"]
    assert not any(r["status"] == "passing" and r["kind"] == "manual" for r in cov.requirements)


def test_documents_in_force_over_the_period(store: Store) -> None:
    ids = document_history(store)
    start, end = PERIOD
    cov = compute_coverage(store, load_mappings(), "soc2", start, end)
    conduct, nda = cov.manual["GOV-CODE-OF-CONDUCT"], cov.manual["HR-AGREEMENTS"]
    assert conduct.status == "evidenced" and [d.filename for d in conduct.documents] == ["conduct-2025.pdf"]
    # nda-v1 was replaced before the period; nda-v2 lapsed after 5 days; nda-v3 came on day 7
    assert [(d.filename, d.in_force_pct, d.lapsed_in_period) for d in nda.documents] == [
        ("nda-v2.pdf", 50.0, True),
        ("nda-v3.pdf", 30.0, False),
    ]
    assert nda.status == "partly evidenced" and nda.evidenced_pct == 80.0
    assert nda.intervals == [(start, T0 + 5 * DAY), (T0 + 7 * DAY, end)]
    cc11 = _req(cov, "SOC2:CC1.1")
    assert cc11["status"] == "partly" and cc11["manual"]["status"] == "partly evidenced"
    assert cc11["manual"]["evidenced_pct"] == 80.0
    assert "80%" in cc11["reason"] and "nda-v2.pdf due 2026-01-06" in cc11["reason"]
    assert _req(cov, "SOC2:CC1.3")["status"] == "passing"  # GOV-ROLES: roles.pdf the whole period
    assert _req(cov, "SOC2:CC1.2")["status"] == "not evidenced"
    # the last three days: every manual control of CC1.1 had a document in force the whole time
    late = compute_coverage(store, load_mappings(), "soc2", T0 + 7 * DAY, end)
    assert _req(late, "SOC2:CC1.1")["status"] == "passing"
    assert {d.id for d in late.manual["HR-AGREEMENTS"].documents} == {ids["nda-v3.pdf"]}


def test_mixed_requirement_shows_both_parts(store: Store) -> None:
    seed(store)
    cov = compute_coverage(store, load_mappings(), "soc2", T0, T0 + timedelta(hours=2))
    cc61 = _req(cov, "SOC2:CC6.1")
    assert cc61["kind"] == "mixed" and cc61["status"] == "failing"
    assert cc61["automated"]["status"] == "failing" and cc61["manual"]["status"] == "not evidenced"
    assert cc61["reason"].startswith("Automated: 1 failure in the period, all remediated")
    assert "Manual: " in cc61["reason"] and "POL-ACCESS had a document in force for 75%" in cc61["reason"]


def test_unsupported_requirement_is_not_assessed(store: Store) -> None:
    seed(store)
    mappings = load_mappings()
    cov = compute_coverage(store, mappings, "iso27001", T0, T0 + timedelta(hours=2))
    unsupported = [r for r in cov.requirements if r["kind"] == "unsupported"]
    assert unsupported and all(r["status"] == "not assessed" for r in unsupported)
    assert all(r["pass_pct"] is None and r["evidenced_pct"] is None for r in unsupported)


def _day(store: Store, outage: tuple[timedelta, timedelta] | None = None) -> None:
    for i in range(96):
        at = T0 + i * STEP
        if outage and outage[0] < at - T0 < outage[1]:
            continue
        cycle(store, at, [bucket("b0")])


@pytest.mark.parametrize(
    ("outage", "expected"),
    [
        (None, "passing"),  # the last 15 minutes after the last cycle are within the interval, not a gap
        ((timedelta(hours=6), timedelta(hours=9)), "partly monitored"),  # 12.5% unmonitored > 1%
    ],
)
def test_automated_part_threshold(store: Store, outage: Any, expected: str) -> None:
    _day(store, outage)
    cov = compute_coverage(store, load_mappings(), "soc2", T0, T0 + timedelta(hours=24), intervals={"prod": STEP})
    auto = _req(cov, "SOC2:CC6.1")["automated"]
    assert auto["status"] == expected, auto
    assert auto["fail_pct"] == 0.0 and (auto["unmonitored_pct"] == 0.0) is (outage is None)


def test_requirement_share_is_the_worst_check_at_each_instant(store: Store) -> None:
    # two checks of CC6.1 failing at different times: the requirement fails during both stretches
    other = "aws.ec2.volume_encrypted"
    mappings = load_mappings()
    assert other in _req(compute_coverage(store, mappings, "soc2", T0, T0 + STEP), "SOC2:CC6.1")["checks"]
    for i in range(8):
        at = T0 + i * STEP
        res = bucket("b0")
        findings = [
            Finding(
                uid=finding_uid(chk, res.id),
                check_id=chk,
                resource_id=res.id,
                resource_type=res.type,
                provider="aws",
                account=res.account,
                region=res.region,
                status=Status.FAIL if bad else Status.PASS,
                severity=Severity.HIGH,
                message="m",
                requirements=(),
                evaluated_at=at,
                source="prod",
            )
            for chk, bad in ((CHECK, i in (2, 3)), (other, i in (5, 6)))
        ]
        snap = Snapshot(
            source="prod",
            provider="aws",
            account=res.account,
            started_at=at,
            finished_at=at,
            resources=(res,),
            errors=(),
        )
        store.record_cycle(
            RunRecord(
                id=uuid.uuid4().hex, source="prod", provider="aws", started_at=at, finished_at=at, status="complete"
            ),
            [(snap, findings)],
        )
    cov = compute_coverage(store, mappings, "soc2", T0, T0 + 8 * STEP, intervals={"prod": STEP})
    auto = _req(cov, "SOC2:CC6.1")["automated"]
    assert cov.checks[CHECK].fail_pct == 25.0 and cov.checks[other].fail_pct == 25.0
    assert auto["fail_pct"] == 50.0 and auto["pass_pct"] == 50.0  # min/max of the checks would say 25/75


def test_numbers_for_people() -> None:
    assert [fmt_pct(x) for x in (100, 99.96, 87.5, 12.0, 0.04, 0, None)] == [
        "100%",
        "99.9%",
        "87.5%",
        "12%",
        "<0.1%",
        "0%",
        "n/a",
    ]
    assert fmt_duration(timedelta(hours=3, minutes=20)) == "3 h 20 min"
    assert fmt_duration(timedelta(days=2)) == "2 days"
    assert fmt_duration(timedelta(days=1, hours=4)) == "1 day 4 h"
    assert fmt_duration(timedelta(minutes=45)) == "45 min" and fmt_duration(timedelta(seconds=30)) == "30 s"
    assert fmt_when(datetime(2026, 3, 1, 14, 0, tzinfo=UTC)) == "2026-03-01 14:00 UTC"


def test_coverage_command_reports_the_statuses(store: Store) -> None:
    document_history(store)
    result = CliRunner().invoke(
        app, ["evidence", "coverage", "--from", "2026-01-01", "--to", "2026-01-10", "--db", store.url]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    by_ref = {r["requirement"]: r for r in out["requirements"]}
    assert by_ref["SOC2:CC1.1"]["status"] == "partly" and by_ref["SOC2:CC1.3"]["status"] == "passing"
    assert by_ref["SOC2:CC1.2"]["status"] == "not evidenced" and by_ref["SOC2:CC1.2"]["pass_pct"] is None
    assert sum(out["statuses"].values()) == len(out["requirements"]) and out["statuses"]["passing"] >= 1
    assert {m["control_id"]: m["status"] for m in out["manual_controls"]}["HR-AGREEMENTS"] == "partly evidenced"
