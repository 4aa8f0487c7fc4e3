"""The collectors' shared retry loop: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors import Cancelled, CollectContext
from collectors.http_retry import RetryPolicy, send

Answer = httpx.Response | Exception


def scripted(
    answers: Iterable[Answer], ctx: CollectContext | None = None
) -> tuple[Callable[[], httpx.Response], list[int]]:
    """An attempt function giving these answers in turn (the last one for ever), and its call count."""
    script, calls = list(answers), [0]

    def attempt() -> httpx.Response:
        if ctx is not None:
            ctx.check_cancelled()
        answer = script[min(calls[0], len(script) - 1)]
        calls[0] += 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    return attempt, calls


def reply(status: int, retry_after: str | None = None, date: str | None = None) -> httpx.Response:
    # bytes, as they come off the wire: any text a server might send
    headers = {k: v.encode() for k, v in (("Retry-After", retry_after), ("Date", date)) if v is not None}
    return httpx.Response(status, headers=headers)


def run(answers: Iterable[Answer], policy: RetryPolicy) -> tuple[httpx.Response, list[float], int]:
    waits: list[float] = []
    attempt, calls = scripted(answers)
    response = send(attempt, policy, operation="test", sleep=waits.append)
    return response, waits, calls[0]


def test_retry_after_is_waited_out_as_the_server_asked() -> None:
    response, waits, calls = run([reply(429, "2"), reply(200)], RetryPolicy(retries=3, max_wait=60))
    assert response.status_code == 200 and waits == [2.0] and calls == 2


def test_an_http_date_is_measured_against_the_response_date() -> None:
    late = reply(503, "Sun, 02 Mar 2025 10:00:07 GMT", date="Sun, 02 Mar 2025 10:00:00 GMT")
    _, waits, _ = run([late, reply(200)], RetryPolicy(retries=3, max_wait=60))
    assert waits == [7.0]


def test_retry_after_is_capped_by_max_wait() -> None:
    _, waits, _ = run([reply(429, "86400"), reply(200)], RetryPolicy(retries=3, max_wait=30))
    assert waits == [30.0]


def test_without_retry_after_the_backoff_grows_with_jitter_and_attempts_are_bounded() -> None:
    response, waits, calls = run([reply(500)], RetryPolicy(retries=4, max_wait=3.0, backoff=0.5))
    assert response.status_code == 500 and calls == 5  # the last answer, for the caller to report
    assert len(waits) == 4
    for n, wait in enumerate(waits):
        low = min(0.5 * 2**n, 3.0)
        assert low <= wait <= min(low + 0.5, 3.0)


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404])
def test_answers_that_are_not_transient_are_returned_at_once(status: int) -> None:
    response, waits, calls = run([reply(status), reply(200)], RetryPolicy(retries=3, max_wait=60))
    assert response.status_code == status and waits == [] and calls == 1


def test_only_the_policys_statuses_and_429_are_retried() -> None:
    policy = RetryPolicy(retries=3, max_wait=60, statuses=frozenset({502, 503, 504}))
    assert run([reply(500), reply(200)], policy)[0].status_code == 500
    assert run([reply(429, "0"), reply(503, "0"), reply(200)], policy)[0].status_code == 200


def test_transport_errors_are_retried_then_raised() -> None:
    boom = httpx.ConnectError("refused")
    response, waits, calls = run([boom, reply(200)], RetryPolicy(retries=2, max_wait=1))
    assert response.status_code == 200 and calls == 2
    with pytest.raises(httpx.ConnectError):
        run([boom], RetryPolicy(retries=2, max_wait=1))


def test_other_exceptions_end_the_call_without_a_retry() -> None:
    attempt, calls = scripted([Cancelled("collection cancelled"), reply(200)])
    with pytest.raises(Cancelled):
        send(attempt, RetryPolicy(retries=3, max_wait=1), operation="test", sleep=lambda s: None)
    assert calls[0] == 1


def test_a_retry_after_past_the_deadline_gives_up_instead_of_waiting() -> None:
    response, waits, calls = run([reply(429, "100"), reply(200)], RetryPolicy(retries=5, max_wait=120, deadline=60))
    assert response.status_code == 429 and waits == [] and calls == 1


def test_the_deadline_bounds_the_whole_call_in_real_time() -> None:
    attempt, calls = scripted([reply(503, "0.2")])
    t0 = time.monotonic()
    response = send(attempt, RetryPolicy(retries=50, max_wait=1, deadline=0.5), operation="test", sleep=time.sleep)
    assert response.status_code == 503 and 2 <= calls[0] <= 3  # not 51
    assert time.monotonic() - t0 < 1.0  # the deadline, plus slack for a loaded machine


def test_cancellation_cuts_a_long_wait_short() -> None:
    ctx = CollectContext()
    attempt, calls = scripted([reply(429, "30"), reply(200)], ctx)
    threading.Timer(0.2, ctx.cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        send(attempt, RetryPolicy(retries=3, max_wait=60), operation="test", sleep=ctx.cancel.wait)
    assert time.monotonic() - t0 < 5 and calls[0] == 1


statuses = st.sampled_from([200, 404, 429, 500, 502, 503, 504])
headers = st.one_of(st.none(), st.text(max_size=40), st.integers(0, 10**6).map(str))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(statuses, headers), min_size=1, max_size=30),
    st.integers(0, 10),
    st.floats(0.0, 600.0),
)
def test_waits_and_attempts_stay_within_the_policy(
    script: list[tuple[int, str | None]], retries: int, max_wait: float
) -> None:
    policy = RetryPolicy(retries=retries, max_wait=max_wait, deadline=1e9)
    response, waits, calls = run([reply(s, h) for s, h in script], policy)
    assert 1 <= calls <= retries + 1 and len(waits) == calls - 1
    assert all(0.0 <= w <= max_wait for w in waits)
    settled = [i for i, (status, _) in enumerate(script) if status < 429]  # the last answer repeats for ever
    assert calls == min(retries + 1, settled[0] + 1 if settled else retries + 1)
    assert response.status_code == script[min(calls, len(script)) - 1][0]
