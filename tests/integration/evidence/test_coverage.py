"""Coverage over a synthetic day with a known agent outage and known failures."""

from __future__ import annotations

from datetime import timedelta

from agent.evidence.coverage import compute_coverage
from agent.mappings import load_mappings
from agent.store import Store
from tests.integration.evidence.helpers import CHECK, STEP, T0, bucket, cycle


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
