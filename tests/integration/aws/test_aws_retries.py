"""Retries over the wire (moto behind the awsproxy's faults): throttling is ridden out, an error that
repeats fails fast, and whatever still fails is a collection error, never a pass."""

from __future__ import annotations

from awstest_helpers import context, make_source, seeder
from posture_demo.awsproxy import AwsProxy, Fault

from collectors.aws import collect
from collectors.aws.retries import ERROR_ATTEMPTS, THROTTLE_ATTEMPTS

BUCKETS = [f"retry-bucket-{i}" for i in range(5)]


def attempts(proxy: AwsProxy, operation: str) -> int:
    return sum(1 for r in list(proxy.seen) if r.operation == operation)


def seed_buckets(aws: str) -> None:
    s3 = seeder(aws)("s3")
    for name in BUCKETS:
        s3.create_bucket(Bucket=name)


def test_throttling_is_ridden_out(proxy: AwsProxy, aws: str) -> None:
    # more throttled answers in a row than any other error gets retries (up to THROTTLE_ATTEMPTS;
    # three keeps the test's backoff short)
    throttled = 3
    assert ERROR_ATTEMPTS < throttled + 1 < THROTTLE_ATTEMPTS
    proxy.add_fault(
        Fault(
            service="ec2",
            operation="GetEbsEncryptionByDefault",
            status=400,
            code="ThrottlingException",
            times=throttled,
        )
    )
    (snap,) = collect(make_source(services=["ec2"], regions=["us-east-1"]), context())
    assert snap.errors == ()
    assert snap.of_type("aws.ec2.settings")[0].errors == {}
    assert attempts(proxy, "GetEbsEncryptionByDefault") == throttled + 1


def test_a_passing_5xx_gets_one_short_retry(proxy: AwsProxy, aws: str) -> None:
    proxy.add_fault(
        Fault(service="logs", operation="DescribeLogGroups", status=503, code="ServiceUnavailable", times=1)
    )
    (snap,) = collect(make_source(services=["logs"], regions=["us-east-1"]), context())
    assert snap.errors == ()
    assert attempts(proxy, "DescribeLogGroups") == ERROR_ATTEMPTS


def test_an_error_that_repeats_fails_fast_and_is_recorded(proxy: AwsProxy, aws: str) -> None:
    seed_buckets(aws)
    proxy.add_fault(Fault(service="s3", operation="GetBucketEncryption", status=500, code="InternalError"))
    # one worker: the buckets' detail calls run one after another, so the count below is exact
    (snap,) = collect(make_source(services=["s3"], regions=["us-east-1"], max_workers=1), context())
    buckets = {r.name: r for r in snap.of_type("aws.s3.bucket")}
    assert set(BUCKETS) <= set(buckets)
    for name in BUCKETS:  # each bucket says what is missing; a check on it reports error, not pass
        assert buckets[name].errors["Encryption"].startswith("InternalError"), buckets[name].errors
    # the first call: its retry; every later one: no retry, the client remembers the failure
    assert attempts(proxy, "GetBucketEncryption") == len(buckets) + ERROR_ATTEMPTS - 1


def test_a_success_ends_the_fail_fast(proxy: AwsProxy, aws: str) -> None:
    seed_buckets(aws)
    # fails twice (the first bucket's call and its retry), then works: later buckets are complete
    proxy.add_fault(Fault(service="s3", operation="GetBucketVersioning", status=500, code="InternalError", times=2))
    (snap,) = collect(make_source(services=["s3"], regions=["us-east-1"], max_workers=1), context())
    failed = [r.name for r in snap.of_type("aws.s3.bucket") if "Versioning" in r.errors]
    assert len(failed) == 1
    assert attempts(proxy, "GetBucketVersioning") == len(snap.of_type("aws.s3.bucket")) + 1


def test_a_unit_past_its_deadline_makes_no_more_calls(proxy: AwsProxy, aws: str) -> None:
    seed_buckets(aws)
    # the listing alone outlasts the unit's 10 s: every detail call after it is not made
    proxy.add_fault(Fault(service="s3", operation="ListBuckets", status=None, delay=11, times=1))
    source = make_source(services=["s3"], regions=["us-east-1"], unit_timeout="10s")
    (snap,) = collect(source, context())
    buckets = snap.of_type("aws.s3.bucket")
    assert {b.name for b in buckets} >= set(BUCKETS)
    for bucket in buckets:
        assert all(e.startswith("UnitDeadline") for e in bucket.errors.values()), bucket.errors
        assert "Encryption" in bucket.errors
    assert attempts(proxy, "GetBucketEncryption") == 0
