"""Drift: attribute-level diffs and transition classification over plain data."""

from __future__ import annotations

from agent.drift import ABSENT, classify, diff_attributes, diff_manifests, diff_resources
from agent.models import FindingChange, Resource


def _bucket(name: str, **attrs: object) -> Resource:
    return Resource(
        provider="aws",
        account="111111111111",
        region="us-east-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        attributes=attrs,
    )


def test_attribute_paths_and_values() -> None:
    old = {
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True},
        "Tags": [{"Key": "env", "Value": "prod"}],
    }
    new = {
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": False, "IgnorePublicAcls": True},
        "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "x"}],
        "Versioning": "Enabled",
    }
    changes, truncated = diff_attributes(old, new)
    assert not truncated
    text = [str(c) for c in changes]
    assert "PublicAccessBlockConfiguration.BlockPublicAcls: true -> false" in text
    assert 'Tags[1]: (absent) -> {"Key": "team", "Value": "x"}' in text
    assert 'Versioning: (absent) -> "Enabled"' in text
    assert len(changes) == 3
    removed = diff_attributes({"A": 1}, {})[0]
    assert removed[0].new is ABSENT and removed[0].to_dict() == {"path": "A", "old": 1}


def test_type_change_is_a_change() -> None:
    assert [str(c) for c in diff_attributes({"A": True}, {"A": 1})[0]] == ["A: true -> 1"]


def test_huge_diff_is_truncated() -> None:
    changes, truncated = diff_attributes({f"k{i}": i for i in range(1000)}, {})
    assert truncated and len(changes) == 200


def test_resources_added_removed_modified() -> None:
    prev = [_bucket("a", V=1), _bucket("b", V=1), _bucket("c", V=1)]
    cur = [_bucket("a", V=1), _bucket("b", V=2), _bucket("d", V=1)]
    out = {(c.kind, c.resource_id): c for c in diff_resources(prev, cur)}
    assert set(out) == {
        ("added", "arn:aws:s3:::d"),
        ("removed", "arn:aws:s3:::c"),
        ("modified", "arn:aws:s3:::b"),
    }
    assert [str(x) for x in out[("modified", "arn:aws:s3:::b")].changes] == ["V: 1 -> 2"]
    assert diff_manifests({"x": "1"}, {"x": "1"}) == ([], [], [])


def _ch(prev: str | None, now: str) -> FindingChange:
    return FindingChange(uid="u", check_id="aws.s3.x", resource_id="r", previous_status=prev, status=now, finding=None)


def test_classify_transitions() -> None:
    assert classify(_ch("pass", "fail")) == "regressed"
    assert classify(_ch("excepted", "fail")) == "regressed"  # an exception expired
    assert classify(_ch(None, "fail")) == "new_failing"
    assert classify(_ch("fail", "pass")) == "resolved"
    assert classify(_ch("fail", "not_applicable")) == "resolved"
    assert classify(_ch("pass", "error")) == "error"
    assert classify(_ch("fail", "gone")) == "gone"
    assert classify(_ch("fail", "excepted")) == "excepted"
    assert classify(_ch(None, "pass")) is None
    assert classify(_ch("error", "pass")) is None
