"""posture_verify.coverage.compute: a pure function of records, the same for the exporter and the verifier;
any records give a coverage or a ValueError/KeyError/TypeError the verifier names, never another exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from posture_verify.coverage import Scope, ScopeControl, ScopeRequirement, compute

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
SCOPE = Scope(
    "soc2",
    "SOC 2",
    "2017",
    (),
    (
        ScopeRequirement("SOC2:CC6.1", "Logical access", ("CRYPTO", "POLICY"), ("aws.check",)),
        ScopeRequirement("SOC2:CC7.2", "Monitoring", ("CRYPTO",), ("aws.check",)),
    ),
    {"CRYPTO": ScopeControl("CRYPTO", "Encryption", True), "POLICY": ScopeControl("POLICY", "Policy", False, "a pdf")},
)


def _runs(n: int) -> list[dict[str, object]]:
    return [{"source": "prod", "finished_at": T0 + i * STEP, "status": "complete"} for i in range(n)]


def _event(at: datetime, status: str) -> dict[str, object]:
    return {
        "uid": "u1",
        "source": "prod",
        "check_id": "aws.check",
        "resource_id": "r1",
        "status": status,
        "message": status,
        "at": at,
    }


def test_passing_only_when_the_state_at_the_start_is_known() -> None:
    end = T0 + 8 * STEP
    known = compute(SCOPE, start=T0, end=end, runs=_runs(9), events=[_event(T0, "pass")])
    cc72 = next(r for r in known.requirements if r["requirement"] == "SOC2:CC7.2")
    assert cc72["status"] == "passing"
    unknown = compute(SCOPE, start=T0, end=end, runs=_runs(9), events=[_event(T0, "pass")], start_known=False)
    cc72 = next(r for r in unknown.requirements if r["requirement"] == "SOC2:CC7.2")
    assert cc72["status"] == "partly" and "history pruned before it" in cc72["reason"]


def test_a_carried_failure_is_open_at_the_start_and_counted_from_it() -> None:
    end = T0 + 8 * STEP
    carried = [{**_event(T0, "fail"), "account": "a"}]
    cov = compute(SCOPE, start=T0, end=end, runs=_runs(9), events=[_event(T0 + 2 * STEP, "pass")], carried=carried)
    [failure] = cov.checks["aws.check"].failures
    assert failure.open_at_start and failure.detected_at == T0 and failure.fixed_at == T0 + 2 * STEP
    assert failure.time_to_remediate == 2 * STEP
    # the same records as strings, as a bundle holds them: the same coverage
    text = compute(
        SCOPE,
        start=T0,
        end=end,
        runs=[
            {**r, "finished_at": r["finished_at"].isoformat()}  # type: ignore[union-attr]
            for r in _runs(9)
        ],
        events=[{**_event(T0 + 2 * STEP, "pass"), "at": (T0 + 2 * STEP).isoformat()}],
        carried=carried,
    )
    assert text.to_dict() == cov.to_dict()


_TIME = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 2, 1), timezones=st.just(UTC))
_STATUS = st.sampled_from(["pass", "fail", "error", "gone", "excepted", "not_applicable", "weird"])
_EVENT = st.fixed_dictionaries(
    {
        "uid": st.sampled_from(["u1", "u2", "u3"]),
        "source": st.sampled_from(["a", "b"]),
        "check_id": st.sampled_from(["aws.check", "other"]),
        "resource_id": st.text(max_size=5),
        "status": _STATUS,
        "message": st.text(max_size=5),
        "at": _TIME,
    }
)
_RUN = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["a", "b", "c"]),
        "finished_at": _TIME,
        "status": st.sampled_from(["complete", "failed", "partial"]),
    }
)
_DOC = st.fixed_dictionaries(
    {
        "id": st.integers(1, 5),
        "control_id": st.sampled_from(["POLICY", "CRYPTO", "X"]),
        "filename": st.text(max_size=5),
        "sha256": st.just("0" * 64),
        "owner": st.just("o"),
        "attached_at": _TIME,
        "review_every_days": st.integers(0, 400),
        "next_review": _TIME,
    }
)
_EXC = st.fixed_dictionaries(
    {
        "id": st.integers(1, 5),
        "check_id": st.sampled_from(["aws.check", "other"]),
        "resource_pattern": st.just("*"),
        "owner": st.just("o"),
        "reason": st.just("r"),
        "created_at": _TIME,
        "expires_at": _TIME,
    }
)


@settings(max_examples=200, deadline=None)
@given(
    start=_TIME,
    length=st.integers(-3600, 40 * 86400),
    runs=st.lists(_RUN, max_size=12),
    events=st.lists(_EVENT, max_size=12),
    carried=st.lists(_EVENT, max_size=3),
    docs=st.lists(_DOC, max_size=4),
    excs=st.lists(_EXC, max_size=3),
    known=st.booleans(),
)
def test_any_records_give_a_coverage(
    start: datetime,
    length: int,
    runs: list[dict[str, object]],
    events: list[dict[str, object]],
    carried: list[dict[str, object]],
    docs: list[dict[str, object]],
    excs: list[dict[str, object]],
    known: bool,
) -> None:
    cov = compute(
        SCOPE,
        start=start,
        end=start + timedelta(seconds=length),
        runs=runs,
        events=events,
        carried=carried,
        documents=docs,
        exceptions=excs,
        start_known=known,
    )
    statuses = {r["status"] for r in cov.requirements}
    assert statuses <= {"passing", "failing", "partly", "not evidenced", "not assessed"}
    assert cov.to_dict()["framework"] == "soc2"
    if not known:
        assert all(r["automated"] is None or r["automated"]["status"] != "passing" for r in cov.requirements)
