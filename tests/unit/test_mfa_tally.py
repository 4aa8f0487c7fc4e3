"""The MFA coverage tally (agent/mfa_coverage.py) over arbitrary identities: only active human identities
count, an unknown MFA state is never covered, an identity type not (completely) collected leaves no
tally, and the exported ratios are exactly yes / all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agent.metrics import AgentMetrics
from agent.mfa_coverage import MfaCoverage, tally
from agent.models import CollectionError, Resource, Snapshot
from collectors.okta.config import OktaSource

NOW = datetime(2026, 12, 1, tzinfo=UTC)
identities = st.fixed_dictionaries(
    {
        "email": st.none() | st.emails(),
        "login": st.text(max_size=8),
        "active": st.booleans(),
        "human": st.booleans(),
        "admin": st.booleans(),
        "mfa": st.none() | st.booleans(),
    }
)
odd = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)


def _user(n: int, identity: Any, rtype: str = "okta.user") -> Resource:
    return Resource(
        provider="okta", account="acme", region="global", type=rtype, id=f"u{n}", attributes={"identity": identity}
    )


def _snap(resources: list[Resource], errors: tuple[CollectionError, ...] = ()) -> Snapshot:
    return Snapshot(
        source="okta",
        provider="okta",
        account="acme",
        started_at=NOW,
        finished_at=NOW,
        resources=tuple(resources),
        errors=errors,
    )


@given(st.lists(identities, max_size=30))
def test_only_active_humans_count_and_unknown_is_never_covered(people: list[dict[str, Any]]) -> None:
    t = tally([_snap([_user(i, p) for i, p in enumerate(people)])], frozenset({"okta.user"}))
    assert t is not None and t.provider == "okta"
    counted = [p for p in people if p["active"] and p["human"]]
    assert t.counts == {
        "yes": sum(p["mfa"] is True for p in counted),
        "no": sum(p["mfa"] is False for p in counted),
        "unknown": sum(p["mfa"] is None for p in counted),
    }


@given(st.lists(odd | identities, max_size=10))
def test_odd_identity_records_never_raise(records: list[Any]) -> None:
    t = tally([_snap([_user(i, r) for i, r in enumerate(records)])], frozenset({"okta.user"}))
    assert t is not None and t.total <= len(records)


def test_a_source_that_could_not_read_its_identities_has_no_tally() -> None:
    error = CollectionError(
        service="okta",
        operation="ListUsers",
        region="global",
        code="500",
        message="HTTP 500",
        resource_type="okta.user",
    )
    assert tally([_snap([_user(1, {"active": True, "human": True, "mfa": True})], (error,))]) is None
    assert (
        tally([_snap([Resource(provider="aws", account="1", region="us-east-1", type="aws.s3.bucket", id="b")])])
        is None
    )  # no identity type
    other = CollectionError(
        service="s3",
        operation="ListBuckets",
        region="us-east-1",
        code="500",
        message="x",
        resource_type="aws.s3.bucket",
    )
    assert tally([_snap([_user(1, {"active": True, "human": True, "mfa": False, "login": "a"})], (other,))]) is not None


@given(
    st.dictionaries(
        st.sampled_from(["okta", "gws", "github"]), st.lists(identities, min_size=1, max_size=8), min_size=1
    )
)
def test_exported_ratios_are_yes_over_all(sources: dict[str, list[dict[str, Any]]]) -> None:
    metrics = AgentMetrics(CollectorRegistry())
    coverage = MfaCoverage(metrics)
    for name, people in sources.items():
        source = OktaSource.model_validate(
            {"name": name, "provider": "okta", "org_url": "https://acme.okta.com", "token": "env:T"}
        )
        coverage.observe(source, [_snap([_user(i, p) for i, p in enumerate(people)])])
    samples = {
        (s.name, s.labels.get("source", ""), s.labels.get("mfa", "")): s.value
        for fam in text_string_to_metric_families(generate_latest(metrics.registry).decode())
        for s in fam.samples
    }
    yes = total = 0
    for name, people in sources.items():
        counted = [p for p in people if p["active"] and p["human"]]
        covered = sum(p["mfa"] is True for p in counted)
        assert samples[("posture_identities", name, "yes")] == covered
        if counted:
            assert samples[("posture_mfa_coverage_ratio", name, "")] == covered / len(counted)
        else:
            assert ("posture_mfa_coverage_ratio", name, "") not in samples  # no ratio of nobody
        yes, total = yes + covered, total + len(counted)
    if total:
        assert samples[("posture_mfa_coverage_overall_ratio", "", "")] == yes / total
