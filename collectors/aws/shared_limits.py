"""An AWS source's ``rate_limit``: every call of its clients first takes a token from the bucket of
its (account, region, service) in Redis, shared with every other process collecting the source
(agent/scale/ratelimit.py); every AssumeRole first takes one from the organisation's hourly budget.

Fail closed: a token not had within ``wait``, a spent budget or an unusable Redis make the call a
collection error (its checks then say ``error``); a call is never made unthrottled.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError

from collectors.aws.config import AwsRateLimit, AwsSource

__all__ = ["LimitsUnavailable", "RateLimited", "SharedLimits", "StsBudgetSpent"]


class RateLimited(BotoCoreError):  # type: ignore[misc]
    fmt = "no rate-limit token for {service} in {region} within {seconds:.0f}s (rate_limit.wait); call not made"


class StsBudgetSpent(BotoCoreError):  # type: ignore[misc]
    fmt = "the organisation's AssumeRole budget ({per_hour} an hour, rate_limit.sts_per_hour) is spent; call not made"


class LimitsUnavailable(BotoCoreError):  # type: ignore[misc]
    fmt = "rate limits unavailable ({reason}); call not made"


class SharedLimits:
    """The limiter and budget of one source, connected on first use (in the collecting process)."""

    def __init__(self, spec: AwsRateLimit, prefix: str) -> None:
        self.spec = spec
        self.prefix = prefix
        self._lock = threading.Lock()
        self._limiter: Any = None
        self._budgets: dict[str, Any] = {}
        self._client: Any = None

    @classmethod
    def of(cls, source: AwsSource) -> SharedLimits | None:
        if source.rate_limit is None:
            return None
        return cls(source.rate_limit, prefix=source.rate_limit.prefix)

    def _redis(self) -> Any:
        from agent.scale.ratelimit import connect

        if self._client is None:
            self._client = connect(self.spec.redis.reveal())
        return self._client

    def _shared_limiter(self) -> Any:
        from agent.scale.ratelimit import SharedLimiter

        with self._lock:
            if self._limiter is None:
                self._limiter = SharedLimiter(
                    self._redis(), rate_per_second=self.spec.per_second, burst=self.spec.burst, prefix=self.prefix
                )
            return self._limiter

    def install(self, client: Any, account: str, region: str) -> None:
        """Every call of ``client`` (pages and retries' first attempts included) takes its token first."""
        service = client.meta.service_model.service_name
        wait = self.spec.wait.total_seconds()

        def take(**_: Any) -> None:
            from agent.scale.ratelimit import RateLimitError

            try:
                granted = self._shared_limiter().acquire(account or "caller", region, service, timeout=wait)
            except RateLimitError as exc:
                raise LimitsUnavailable(reason=str(exc)) from None
            if not granted:
                raise RateLimited(service=service, region=region, seconds=wait)

        client.meta.events.register("before-call", take)

    def before_assume_role(self, organisation: str) -> None:
        """Take one AssumeRole from the organisation's budget, or raise (a BotoCoreError: the account
        is then unreachable, with this reason)."""
        per_hour = self.spec.sts_per_hour
        if per_hour is None:
            return
        from agent.scale.ratelimit import RateLimitError, StsBudget

        try:
            with self._lock:
                budget = self._budgets.get(organisation)
                if budget is None:
                    budget = self._budgets[organisation] = StsBudget(
                        self._redis(), organisation, per_hour, prefix=self.prefix
                    )
            taken = budget.take()
        except RateLimitError as exc:
            raise LimitsUnavailable(reason=str(exc)) from None
        if not taken:
            raise StsBudgetSpent(per_hour=per_hour)
