"""The evaluator's fail-safe rules, over hand-built snapshots and checks."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.evaluate import evaluate
from agent.models import CollectionError, Resource, Snapshot, Status, canonical_json, finding_uid
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@check(
    id="aws.test.encrypted",
    title="t",
    severity=Severity.HIGH,
    resource_type="aws.test.thing",
    rationale="r",
    remediation=Remediation(console="c"),
    requires=("aws.test.other",),
)
def encrypted(r: Resource, ctx: Context) -> Verdict:
    return passed("encrypted") if need(r, "Encryption") else failed(f"{r.name} is not encrypted")


@check(
    id="aws.test.crashes",
    title="t",
    severity=Severity.LOW,
    resource_type="aws.test.thing",
    rationale="r",
    remediation=Remediation(console="c"),
)
def crashes(r: Resource, ctx: Context) -> Verdict:
    raise KeyError("boom")


def thing(name: str, region: str = "us-east-1", **attrs: object) -> Resource:
    errors = attrs.pop("errors", {})
    return Resource(
        provider="aws",
        account="111122223333",
        region=region,
        type="aws.test.thing",
        id=f"arn:aws:test:{region}:111122223333:thing/{name}",
        name=name,
        attributes=attrs,
        errors=errors,
    )  # type: ignore[arg-type]


def snap(*resources: Resource, errors: tuple[CollectionError, ...] = ()) -> Snapshot:
    return Snapshot(
        source="s",
        provider="aws",
        account="111122223333",
        started_at=T0,
        finished_at=T0,
        resources=resources,
        errors=errors,
    )


def statuses(findings):  # type: ignore[no-untyped-def]
    return {f.resource_id.rsplit("/", 1)[-1]: (f.status, f.message) for f in findings}


def test_pass_and_fail() -> None:
    got = statuses(evaluate(snap(thing("a", Encryption=True), thing("b", Encryption=False)), [encrypted]))
    assert got == {"a": (Status.PASS, "encrypted"), "b": (Status.FAIL, "b is not encrypted")}


def test_missing_attribute_is_error_never_pass() -> None:
    got = statuses(evaluate(snap(thing("a"), thing("b", errors={"Encryption": "AccessDenied: no"})), [encrypted]))
    assert got["a"] == (Status.ERROR, "Encryption was not collected")
    assert got["b"] == (Status.ERROR, "Encryption could not be read: AccessDenied: no")


def test_listing_error_gives_scope_error() -> None:
    err = CollectionError(
        service="test",
        operation="ListThings",
        region="eu-west-1",
        code="AccessDenied",
        message="denied",
        resource_type="aws.test.thing",
    )
    findings = evaluate(snap(thing("a", Encryption=True), errors=(err,)), [encrypted])
    scope = [f for f in findings if f.resource_id.startswith("scope:")]
    assert len(scope) == 1
    assert scope[0].resource_id == "scope:aws/111122223333/eu-west-1/aws.test.thing"
    assert scope[0].status == Status.ERROR and "AccessDenied" in scope[0].message


def test_required_input_missing_in_region_turns_results_to_error() -> None:
    err = CollectionError(
        service="test",
        operation="ListOthers",
        region="us-east-1",
        code="Throttling",
        message="slow down",
        resource_type="aws.test.other",
    )
    got = statuses(
        evaluate(
            snap(thing("a", Encryption=True), thing("b", "eu-west-1", Encryption=True), errors=(err,)), [encrypted]
        )
    )
    assert got["a"][0] == Status.ERROR and "input missing" in got["a"][1]
    assert got["b"][0] == Status.PASS  # the other region's input was collected


def test_crashing_check_is_error_not_exception() -> None:
    got = statuses(evaluate(snap(thing("a")), [crashes]))
    assert got["a"][0] == Status.ERROR and "KeyError" in got["a"][1]


def test_other_providers_checks_are_skipped_and_controls_attached() -> None:
    other = Snapshot(source="g", provider="gcp", account="p", started_at=T0, finished_at=T0)
    assert evaluate(other, [encrypted]) == []
    f = evaluate(snap(thing("a", Encryption=True)), [encrypted], requirements={encrypted.id: ("SOC2:CC6.1",)})[0]
    assert f.requirements == ("SOC2:CC6.1",) and f.uid == finding_uid(encrypted.id, f.resource_id)


def test_canonical_json_is_stable() -> None:
    a = thing("a", Encryption=True, Tags={"b": 1, "a": 2})
    b = thing("a", Tags={"a": 2, "b": 1}, Encryption=True)
    assert a.canonical() == b.canonical() and a.content_hash == b.content_hash
    assert canonical_json({"t": T0}) == b'{"t":"2026-03-01T00:00:00Z"}'


def test_a_required_type_the_source_does_not_collect_is_an_error_not_a_verdict() -> None:
    s = snap(thing("a", Encryption=True), thing("b", Encryption=False))
    found = evaluate(s, [encrypted], uncollected={"aws.test.other"})
    assert {f.status for f in found} == {Status.ERROR}
    assert all("aws.test.other, which this source does not collect" in f.message for f in found)
    # collected (even when empty): the check runs
    assert {f.status for f in evaluate(s, [encrypted], uncollected={"aws.unrelated"})} == {Status.PASS, Status.FAIL}
