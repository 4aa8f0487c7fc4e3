"""Retries for the collectors' HTTP clients (Azure Graph/ARM, Fleet), on tenacity.

A response the policy deems transient (429, 5xx) or a transport error is tried again after the
server's ``Retry-After`` (capped) or else an exponential backoff with jitter, for a bounded number
of attempts and never past an overall deadline: a server that keeps saying "later" costs a scan at
most ``deadline`` seconds per request, then the caller gets the last answer and records an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from dataclasses import dataclass, field

import httpx
import tenacity

from agent.retry_after import parse_retry_after

__all__ = ["RetryPolicy", "send"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int  # attempts after the first
    max_wait: float  # cap of one wait, Retry-After included
    deadline: float = 300.0  # no retry starts once this many seconds would have passed
    backoff: float = 0.5  # the first backoff without Retry-After; doubles each retry, plus jitter
    statuses: Container[int] = field(default_factory=lambda: range(500, 600))  # besides 429
    errors: tuple[type[BaseException], ...] = (httpx.TransportError,)


def _transient(policy: RetryPolicy) -> Callable[[object], bool]:
    def check(result: object) -> bool:
        return isinstance(result, httpx.Response) and (
            result.status_code == 429 or result.status_code in policy.statuses
        )

    return check


def _waiter(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential_jitter(multiplier=policy.backoff, max=policy.max_wait, jitter=policy.backoff)

    def wait(state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response = outcome.result()
            asked = parse_retry_after(
                response.headers.get("Retry-After"), cap=policy.max_wait, now=response.headers.get("Date")
            )
            if asked is not None:
                return asked  # the server's pacing, as it is: jitter would only ever make it early
        return backoff(state)

    return wait


def _log_retry(operation: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        assert outcome is not None
        why = type(outcome.exception()).__name__ if outcome.failed else f"HTTP {outcome.result().status_code}"
        seconds = state.next_action.sleep if state.next_action else 0.0
        log.info("retrying", extra={"operation": operation, "why": why, "seconds": round(seconds, 3)})

    return before_sleep


def _last_outcome(state: tenacity.RetryCallState) -> httpx.Response:
    """Out of attempts or time: the caller gets the last response, or the last error raised."""
    assert state.outcome is not None
    response: httpx.Response = state.outcome.result()
    return response


def send(
    attempt: Callable[[], httpx.Response],
    policy: RetryPolicy,
    *,
    operation: str,
    sleep: Callable[[float], object],
) -> httpx.Response:
    """``attempt()`` until it answers something not transient, or the policy gives up.

    ``attempt`` does one request and its bookkeeping (cancellation check, API-call metric); any
    exception outside ``policy.errors`` (Cancelled, the read-only guard) ends the call at once.
    ``sleep`` may return early, e.g. an Event's wait on cancellation: the next attempt then stops.
    """

    def pause(seconds: float) -> None:
        sleep(seconds)

    retrying = tenacity.Retrying(
        sleep=pause,
        stop=tenacity.stop_after_attempt(policy.retries + 1) | tenacity.stop_before_delay(policy.deadline),
        wait=_waiter(policy),
        retry=tenacity.retry_if_exception_type(policy.errors) | tenacity.retry_if_result(_transient(policy)),
        before_sleep=_log_retry(operation),
        retry_error_callback=_last_outcome,
    )
    response: httpx.Response = retrying(attempt)
    return response
