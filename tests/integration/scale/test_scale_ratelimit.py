"""Rate limits shared through Redis (agent/scale/ratelimit.py) on the real server. Buckets refill at
0.0001 token a second (one token in about three hours), so what a test counts never depends on how
fast the machine runs; nothing asserts on timing. Every test uses a key prefix of its own."""

from __future__ import annotations

import math
import multiprocessing
import time
from typing import Any
from urllib.parse import unquote

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.scale.ratelimit import (
    MAX_COMPONENT,
    RateLimitUnavailable,
    SharedLimiter,
    StsBudget,
    StsBudgetExhausted,
    bucket_key,
    component,
    sts_key,
)

SLOW = 0.0001  # tokens a second: no refill within a test


def granted(limiter: SharedLimiter, *key: str, attempts: int) -> int:
    return sum(limiter.try_acquire(*key) == 0 for _ in range(attempts))


def test_a_burst_is_granted_exactly_then_refused_with_a_wait(redis_base: str, redis_prefix: str) -> None:
    limiter = SharedLimiter(redis_base, rate_per_second=SLOW, burst=5, prefix=redis_prefix)
    assert granted(limiter, "111122223333", "us-east-1", "ec2", attempts=12) == 5
    wait = limiter.try_acquire("111122223333", "us-east-1", "ec2")
    assert wait > 3600  # about 1 / SLOW seconds: a wait, not a grant
    assert limiter.acquire("111122223333", "us-east-1", "ec2", timeout=0) is False
    assert limiter.acquire("111122223333", "us-east-1", "ec2", timeout=1) is False  # refused at once, no sleep


def test_acquire_sleeps_the_wait_the_bucket_names(redis_base: str, redis_prefix: str) -> None:
    limiter = SharedLimiter(redis_base, rate_per_second=50, burst=1, prefix=redis_prefix)
    assert all(limiter.acquire("1", "eu-west-1", "s3", timeout=60) for _ in range(4))


def test_rates_and_bursts_per_service_with_a_default(redis_base: str, redis_prefix: str) -> None:
    limiter = SharedLimiter(
        redis_base,
        rate_per_second={"iam": SLOW, "default": SLOW},
        burst={"iam": 2, "s3": 7, "default": 4},
        prefix=redis_prefix,
    )
    assert limiter.limits("iam") == (SLOW, 2) and limiter.limits("kms") == (SLOW, 4)
    assert granted(limiter, "1", "us-east-1", "iam", attempts=10) == 2
    assert granted(limiter, "1", "us-east-1", "s3", attempts=10) == 7
    assert granted(limiter, "1", "us-east-1", "kms", attempts=10) == 4


def test_different_keys_are_independent(redis_base: str, redis_prefix: str) -> None:
    limiter = SharedLimiter(redis_base, rate_per_second=SLOW, burst=3, prefix=redis_prefix)
    assert granted(limiter, "1", "us-east-1", "iam", attempts=5) == 3
    for key in (("1", "us-east-1", "s3"), ("1", "eu-west-1", "iam"), ("2", "us-east-1", "iam")):
        assert granted(limiter, *key, attempts=5) == 3, key
    other = SharedLimiter(redis_base, rate_per_second=SLOW, burst=3, prefix=f"{redis_prefix}:other")
    assert granted(other, "1", "us-east-1", "iam", attempts=5) == 3  # another prefix, another deployment


def grab(url: str, prefix: str, start: Any, attempts: int, out: Any) -> None:
    """In a child process: its own client, the same bucket as its sibling."""
    limiter = SharedLimiter(url, rate_per_second=SLOW, burst=25, prefix=prefix)
    start.wait(60)
    out.put(granted(limiter, "111122223333", "us-east-1", "iam", attempts=attempts))


def test_two_processes_share_one_bucket(redis_base: str, redis_prefix: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=grab, args=(redis_base, redis_prefix, start, 40, out)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        start.set()
        counts = [out.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
                p.join(timeout=60)
    assert sum(counts) == 25, counts  # 80 attempts between them, exactly one burst granted
    assert all(p.exitcode == 0 for p in procs)


def test_the_sts_budget_refuses_past_its_budget(redis_base: str, redis_prefix: str) -> None:
    budget = StsBudget(redis_base, "o-a1b2c3d4e5", 10, prefix=redis_prefix)
    assert [budget.take() for _ in range(10)] == [True] * 10
    assert budget.take() is False
    with pytest.raises(StsBudgetExhausted, match=r"'o-a1b2c3d4e5' spent \(10 AssumeRole calls an hour\)") as err:
        budget.require()
    assert 0 < err.value.retry_after <= 3600
    # shared: a second worker's view of the same organisation is spent too; another organisation is not
    assert StsBudget(redis.Redis.from_url(redis_base), "o-a1b2c3d4e5", 10, prefix=redis_prefix).take() is False
    other = StsBudget(redis_base, "o-zzzzzzzzzz", 10, prefix=redis_prefix)
    assert other.take(7) and not other.take(4) and other.take(3) and not other.take()


def test_the_sts_window_gives_room_back_as_calls_age(redis_base: str, redis_prefix: str) -> None:
    """A window of a millisecond: polled (up to a generous deadline) until the first calls have aged out."""
    budget = StsBudget(redis_base, "o-short", 2, prefix=redis_prefix, window=0.001)
    assert budget.take(2)
    deadline = time.monotonic() + 60
    while not budget.take():
        assert time.monotonic() < deadline, "the window never gave room back"
        time.sleep(0.001)


def test_a_closed_redis_gives_a_named_error() -> None:
    closed = "redis://:hunter2@127.0.0.1:1/0"
    limiter = SharedLimiter(closed, rate_per_second=1, burst=1, prefix="p")
    with pytest.raises(RateLimitUnavailable, match=r"cannot reach Redis at redis://127\.0\.0\.1:1/0") as err:
        limiter.try_acquire("1", "us-east-1", "iam")
    assert "hunter2" not in str(err.value) and err.value.__cause__ is None
    with pytest.raises(RateLimitUnavailable, match="cannot reach Redis"):
        StsBudget(closed, "o-x", 5, prefix="p").take()
    with pytest.raises(RateLimitUnavailable, match="invalid Redis URL") as bad:
        SharedLimiter("http://user:hunter2@example.com/", rate_per_second=1, burst=1)
    assert "hunter2" not in str(bad.value)


# -- keys and configuration: no Redis needed -------------------------------------------------------------

names = st.text(min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(a=st.tuples(names, names, names), b=st.tuples(names, names, names))
def test_bucket_keys_never_collide_and_keep_their_shape(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    ka, kb = bucket_key("p:x", *a), bucket_key("p:x", *b)
    assert (ka == kb) == (a == b)
    head, sep, rest = ka.partition(":rl:")
    assert head == "p:x" and sep
    parts = rest.split(":")
    assert len(parts) == 3 and tuple(unquote(p, errors="surrogatepass") for p in parts) == a
    assert all(c.isascii() and c.isprintable() and c not in "{}*?[]\\ " for c in ka)


@settings(max_examples=200, deadline=None)
@given(a=names, b=names)
def test_sts_keys_never_collide_with_each_other_or_with_buckets(a: str, b: str) -> None:
    assert (sts_key("p", a) == sts_key("p", b)) == (a == b)
    assert sts_key("p", a) != bucket_key("p", a, a, a)


@settings(max_examples=20, deadline=None)
@given(value=st.one_of(st.just(""), st.text(min_size=MAX_COMPONENT + 1, max_size=MAX_COMPONENT + 5)))
def test_empty_or_overlong_components_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="rate-limit key"):
        component(value, "account")


@settings(max_examples=200, deadline=None)
@given(
    rates=st.dictionaries(names, st.floats(min_value=1e-6, max_value=1e6), max_size=5),
    default=st.floats(min_value=1e-6, max_value=1e6),
    burst=st.integers(min_value=1, max_value=10_000),
    service=names,
)
def test_any_positive_rate_per_service_is_taken(
    rates: dict[str, float], default: float, burst: int, service: str
) -> None:
    limiter = SharedLimiter(redis.Redis(), rate_per_second={**rates, "default": default}, burst=burst, prefix="p")
    rate, got_burst = limiter.limits(service)
    assert rate == (rates[service] if service in rates and service != "default" else default)
    assert got_burst == burst and math.isfinite(rate) and rate > 0


@pytest.mark.parametrize(
    ("rate", "burst", "prefix", "message"),
    [
        (0, 1, "p", "above 0"),
        (-1, 1, "p", "above 0"),
        (math.nan, 1, "p", "above 0"),
        (math.inf, 1, "p", "above 0"),
        (True, 1, "p", "must be a number"),
        ("5", 1, "p", "must be a number"),
        ({"iam": 5}, 1, "p", "'default' entry"),
        ({"iam": 0, "default": 1}, 1, "p", "of 'iam'"),
        (1, 0.5, "p", "below 1"),
        (1, {"iam": 0.5, "default": 1}, "p", "below 1"),
        (1, 1, "", "prefix"),
        (1, 1, "a:", "prefix"),
        (1, 1, "a*", "prefix"),
        (1, 1, "a b", "prefix"),
    ],
)
def test_bad_configuration_is_refused(rate: Any, burst: Any, prefix: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SharedLimiter(redis.Redis(), rate_per_second=rate, burst=burst, prefix=prefix)


def test_a_cost_above_the_burst_or_a_bad_budget_is_refused() -> None:
    limiter = SharedLimiter(redis.Redis(), rate_per_second=1, burst=2, prefix="p")
    with pytest.raises(ValueError, match="exceeds the burst"):
        limiter.try_acquire("1", "us-east-1", "iam", cost=3)
    for per_hour in (0, -1, 1.5, True, 100_001):
        with pytest.raises(ValueError, match="per_hour"):
            StsBudget(redis.Redis(), "o-x", per_hour)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        StsBudget(redis.Redis(), "o-x", 5).take(6)
