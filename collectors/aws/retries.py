"""Retries that ride throttling and fail fast on errors that repeat.

botocore's standard and adaptive modes give every retryable error the same budget: with 8 attempts,
an operation that answers HTTP 500 every time (not enabled in a region, not implemented by an
emulator, one broken endpoint) costs seconds of backoff per call and per region. Here:

- throttling keeps botocore's adaptive behaviour: up to ``THROTTLE_ATTEMPTS`` attempts with
  exponential backoff and the client-side rate limiter (installed by the ``adaptive`` mode);
- any other retryable error (5xx, a dropped connection) gets one short retry; when the call still
  fails, the client remembers the operation, and its later calls fail at once, until a call of that
  operation succeeds;
- no retry starts once ``CALL_DEADLINE_S`` have passed since the call's first failure.

A call that gives up raises as before: the unit records a collection error, never a pass.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.retries import quota, special, standard

__all__ = ["CALL_DEADLINE_S", "ERROR_ATTEMPTS", "THROTTLE_ATTEMPTS", "install_retries"]

THROTTLE_ATTEMPTS = 8
ERROR_ATTEMPTS = 2
CALL_DEADLINE_S = 60.0
_STARTED = "posture_first_failure"


class _Conditions(standard.BaseRetryableChecker):  # type: ignore[misc]
    def __init__(self, throttling: standard.ThrottlingErrorDetector) -> None:
        self._throttling = throttling
        self._retryable = standard.OrRetryChecker(
            [
                standard.TransientRetryableChecker(),
                standard.ModeledRetryableChecker(),
                special.RetryIDPCommunicationError(),
                special.RetryDDBChecksumError(),
            ]
        )
        self._failing: set[str] = set()  # operations that failed after their retry on this client
        self._lock = threading.Lock()

    def is_retryable(self, context: Any) -> bool:
        started = context.request_context.setdefault(_STARTED, time.monotonic())
        if time.monotonic() - started > CALL_DEADLINE_S:
            return False
        if self._throttling.is_throttling_error_from_context(context):
            return bool(context.attempt_number < THROTTLE_ATTEMPTS)
        if not self._retryable.is_retryable(context):
            return False
        operation = context.operation_model.name if context.operation_model is not None else ""
        with self._lock:
            if operation in self._failing:
                return False  # it failed the same way before: fail fast
            if context.attempt_number >= ERROR_ATTEMPTS:
                self._failing.add(operation)
                return False
        return True

    def succeeded(self, operation: str) -> None:
        with self._lock:
            self._failing.discard(operation)


def install_retries(client: Any) -> None:
    """Replace the client's retry decision (botocore's ``retry-config-<service>`` handler) with ours.
    The client must be created with ``retries={"mode": "adaptive"}`` so that its rate limiter stays."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    adapter = standard.RetryEventAdapter()
    throttling = standard.ThrottlingErrorDetector(adapter)
    conditions = _Conditions(throttling)
    retry_quota = standard.RetryQuotaChecker(quota.RetryQuota(), throttling)
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=conditions,
            retry_backoff=standard.ExponentialBackoff(service_name=service, throttling_detector=throttling),
        ),
        retry_event_adapter=adapter,
        retry_quota=retry_quota,
        service_name=service,
    )
    events.register(f"needs-retry.{service}", handler.needs_retry, unique_id=f"posture-retries-{service}")

    def after_call(http_response: Any, model: Any, context: Any, **_: Any) -> None:
        retry_quota.release_retry_quota(context, http_response)
        if http_response is not None and http_response.status_code < 300:
            conditions.succeeded(model.name)

    events.register(f"after-call.{service}", after_call, unique_id=f"posture-retries-after-{service}")
