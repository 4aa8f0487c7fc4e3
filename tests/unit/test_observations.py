"""Observations (attribute paths that tick with time) stay out of stored bodies, hashes and drift, while
checks still judge them and findings record the values that decided them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.drift import diff_resources
from agent.evaluate import evaluate
from agent.models import Finding, Resource, Severity, Snapshot, Status
from agent.observations import parse_path, strip_observations, validate_paths
from agent.registry import load_checks
from collectors.aws.table import TABLE as AWS_TABLE
from collectors.azure.arm import TABLE as ARM_TABLE
from collectors.azure.entra import USER_OBSERVATIONS
from collectors.endpoints.device import OBSERVATIONS as DEVICE_OBSERVATIONS
from collectors.endpoints.device import device_resource
from collectors.gcp.types import ASSET_TYPES
from collectors.gcp.types import OBSERVATIONS as GCP_OBSERVATIONS

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _trail(**status: Any) -> Resource:
    return Resource(
        provider="aws",
        account="111122223333",
        region="us-east-1",
        type="aws.cloudtrail.trail",
        id="arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
        name="main",
        attributes={
            "TrailARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
            "IsMultiRegionTrail": True,
            "Status": {"IsLogging": True, **status},
        },
        observations=("Status.LatestDeliveryTime", "Status.LatestCloudWatchLogsDeliveryTime"),
    )


# -- paths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.", "[]", "a.[]", "a[]"])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_path(path)


def test_strip_paths_through_lists_and_missing_keys() -> None:
    attrs = {"Status": {"T": 1, "On": True}, "L": [{"a": 1, "t": 2}, {"a": 3}, "x"], "k": 5}
    out = strip_observations(attrs, ["Status.T", "L[].t", "absent.deep", "k.not_a_dict"])
    assert out == {"Status": {"On": True}, "L": [{"a": 1}, {"a": 3}, "x"], "k": 5}
    assert attrs["Status"] == {"T": 1, "On": True} and attrs["L"][0] == {"a": 1, "t": 2}  # input untouched


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)
_key = st.text(alphabet="abc", min_size=1, max_size=2)
_path = st.lists(st.tuples(_key, st.booleans()), min_size=1, max_size=3).map(
    lambda steps: ".".join(k + ("[]" if many and i < len(steps) - 1 else "") for i, (k, many) in enumerate(steps))
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_key, _json, max_size=4), st.lists(_path, max_size=3))
def test_strip_never_changes_its_input_and_is_idempotent(attrs: dict[str, Any], paths: list[str]) -> None:
    before = copy.deepcopy(attrs)
    once = strip_observations(attrs, paths)
    assert attrs == before
    assert strip_observations(once, paths) == once


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(st.none(), st.text(max_size=30), st.integers(), st.booleans()),
    st.one_of(st.none(), st.text(max_size=30), st.integers(), st.booleans()),
)
def test_observation_values_never_change_the_body_or_its_hash(a: Any, b: Any) -> None:
    first, second = _trail(LatestDeliveryTime=a), _trail(LatestDeliveryTime=b)
    assert first.canonical() == second.canonical() and first.content_hash == second.content_hash
    assert b'LatestDeliveryTime":' not in first.canonical()  # named in "observations", its value left out
    assert diff_resources([first], [second]) == []


# -- declarations ------------------------------------------------------------------------------------


def test_every_declared_path_is_valid_and_every_type_is_known() -> None:
    declared = {
        **{r.type: r.observations for r in AWS_TABLE},
        **{r.type: r.observations for r in ARM_TABLE},
        "azure.entra.user": USER_OBSERVATIONS,
        "endpoint.device": DEVICE_OBSERVATIONS,
        **GCP_OBSERVATIONS,
    }
    for rtype, paths in declared.items():
        assert validate_paths(paths) == tuple(sorted(set(paths))), rtype
    assert set(GCP_OBSERVATIONS) <= set(ASSET_TYPES.values())
    # the ticking fields seen in the demo and named by the issue are declared
    aws = {r.type: set(r.observations) for r in AWS_TABLE}
    assert "LatestRestorableTime" in aws["aws.rds.instance"]
    assert {"Status.LatestDeliveryTime", "Status.LatestDeliveryAttemptTime"} <= aws["aws.cloudtrail.trail"]
    assert "LastPingDateTime" in aws["aws.ssm.managed_instance"]
    assert "Credentials.access_key_1_last_used_date" in aws["aws.iam.user"]
    assert "last_seen" in DEVICE_OBSERVATIONS


def test_checks_still_read_what_is_declared_an_observation() -> None:
    """A declared path is left out of bodies, not out of what checks see: the live resource keeps it."""
    r = _trail(LatestDeliveryTime="2026-11-30T11:00:00Z")
    assert r.attributes["Status"]["LatestDeliveryTime"] == "2026-11-30T11:00:00Z"
    assert Resource.from_dict(r.to_dict()).attributes == r.attributes


# -- drift -------------------------------------------------------------------------------------------


def test_configuration_change_is_drift_observation_change_is_not() -> None:
    old = _trail(LatestDeliveryTime="2026-11-30T10:00:00Z")
    new = Resource(
        **{
            **old.__dict__,
            "attributes": {
                **old.attributes,
                "IsMultiRegionTrail": False,
                "Status": {"IsLogging": True, "LatestDeliveryTime": "2026-11-30T11:00:00Z"},
            },
        }
    )
    [change] = diff_resources([old], [new])
    assert [str(c) for c in change.changes] == ["IsMultiRegionTrail: true -> false"]


def test_body_stored_before_the_declaration_is_not_drift() -> None:
    """A store written before a type declared its observations holds them in the body: comparing
    that body with a new one shows no change (the upgrade is silent)."""
    new = _trail(LatestDeliveryTime="2026-11-30T11:00:00Z")
    legacy = Resource(
        **{
            **new.__dict__,
            "observations": (),
            "attributes": {
                **new.attributes,
                "Status": {"IsLogging": True, "LatestDeliveryTime": "2026-11-01T00:00:00Z"},
            },
        }
    )
    assert legacy.content_hash != new.content_hash
    assert diff_resources([legacy], [new]) == []


# -- findings ----------------------------------------------------------------------------------------


def _finding(message: str, observed: str = "") -> Finding:
    return Finding(
        uid="u",
        check_id="c.d.e",
        resource_id="r",
        resource_type="t",
        provider="aws",
        account="a",
        region="r",
        status=Status.PASS,
        severity=Severity.LOW,
        message=message,
        requirements=(),
        evaluated_at=NOW,
        observed=observed,
    )


def test_recorded_message_carries_the_observation_and_compares_without_it() -> None:
    first = _finding("device x checked in within 14 days", "last check-in 2026-11-30T11:00:00Z")
    later = _finding("device x checked in within 14 days", "last check-in 2026-11-30T11:15:00Z")
    assert first.recorded_message == "device x checked in within 14 days (observed: last check-in 2026-11-30T11:00:00Z)"
    assert later.same_message(first.recorded_message)
    assert not _finding("device x checked in within 30 days", "x").same_message(first.recorded_message)
    assert not _finding("device x checked in within 14 days").same_message(first.recorded_message)
    assert _finding("plain").same_message("plain") and not _finding("plain").same_message("plain (observed: 1)")


def _device(seen: datetime) -> Resource:
    return device_resource(
        source_kind="fleet",
        account="fleet.example",
        device_id="7",
        hostname="alice-mbp",
        platform="macos",
        last_seen=seen.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _evaluate(resource: Resource, check_id: str, now: datetime) -> Finding:
    checks = [load_checks()[check_id]]
    snap = Snapshot(
        source="s",
        provider=resource.provider,
        account=resource.account,
        started_at=now - timedelta(minutes=1),
        finished_at=now,
        resources=(resource,),
        errors=(),
    )
    [finding] = [f for f in evaluate(snap, checks) if f.resource_id == resource.id]
    return finding


def test_freshness_check_flips_on_an_observation_alone() -> None:
    """The device's body (and hash) is the same whether it checked in an hour or twenty days ago;
    the check still judges the live value, and its messages hold no ticking value."""
    fresh, fresher, stale = (
        _device(NOW - timedelta(hours=1)),
        _device(NOW - timedelta(minutes=5)),
        _device(NOW - timedelta(days=20)),
    )
    assert fresh.content_hash == fresher.content_hash == stale.content_hash
    a, b = _evaluate(fresh, "endpoint.device.checked_in", NOW), _evaluate(fresher, "endpoint.device.checked_in", NOW)
    assert a.status == b.status == Status.PASS and a.message == b.message and a.observed != b.observed
    c = _evaluate(stale, "endpoint.device.checked_in", NOW)
    assert c.status == Status.FAIL and (NOW - timedelta(days=20)).date().isoformat() in c.message
    # failing on, a day later: same message, so no new event
    assert _evaluate(stale, "endpoint.device.checked_in", NOW + timedelta(days=1)).message == c.message


def test_trail_delivery_freshness_flips_on_an_observation_alone() -> None:
    ok = _trail(LatestCloudWatchLogsDeliveryTime="2026-11-30T11:00:00Z")
    stale = _trail(LatestCloudWatchLogsDeliveryTime="2026-11-27T11:00:00Z")
    ok = Resource(**{**ok.__dict__, "attributes": {**ok.attributes, "CloudWatchLogsLogGroupArn": "arn:lg"}})
    stale = Resource(**{**stale.__dict__, "attributes": {**stale.attributes, "CloudWatchLogsLogGroupArn": "arn:lg"}})
    assert ok.content_hash == stale.content_hash
    assert _evaluate(ok, "aws.cloudtrail.cloudwatch_logs", NOW).status == Status.PASS
    assert _evaluate(stale, "aws.cloudtrail.cloudwatch_logs", NOW).status == Status.FAIL
