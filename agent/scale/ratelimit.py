"""Rate limits shared by worker processes on any number of machines, through one Redis (config
``scale.redis``).

Two limits, each decided atomically by one Lua script on the Redis server, on the server's clock
(``TIME``), so workers whose clocks disagree still agree on the limit:

- ``SharedLimiter``: a token bucket per (account, region, service): up to ``burst`` calls at once,
  then ``rate`` calls a second. Rates and bursts are per service (``{"iam": 5, "s3": 20, "default":
  10}``). ``try_acquire`` never waits and returns 0 when granted, else the seconds until a token is
  there; ``acquire`` sleeps those seconds (up to a timeout). A refused call takes nothing.
- ``StsBudget``: at most ``per_hour`` AssumeRole calls per organisation in any rolling hour (a
  sliding-window log, exact, unlike a bucket that would allow twice its size across an hour), so one
  sweep cannot exhaust the organisation's STS quota. Past it, ``take`` returns False and ``require``
  raises ``StsBudgetExhausted`` (with the seconds until room comes back); it never waits.

Keys (``PREFIX`` defaults to ``posture-agent``; each component percent-encoded, see ``component``):

- ``PREFIX:rl:ACCOUNT:REGION:SERVICE``: a hash {tokens, ts}; expires once it would be full again.
- ``PREFIX:sts:ORGANISATION``: a sorted set, one member per call granted in the last window.

They hold account ids, region, service and organisation names: no credential, no URL. Every worker
must be configured with the same rates (each call applies the caller's rate to the shared state).

Failure: Redis unreachable, refusing the login or answering an error raises ``RateLimitUnavailable``
(one line naming the server, never its password): callers fail closed (the unit is retried or
recorded as an error), never call the cloud unthrottled. Needs Redis 5 or later (a script that
writes after reading ``TIME``).
"""

from __future__ import annotations

import math
import random
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import redis
from redis.commands.core import Script

from agent.errors import AgentError

__all__ = [
    "DEFAULT",
    "DEFAULT_PREFIX",
    "RateLimitError",
    "RateLimitUnavailable",
    "SharedLimiter",
    "StsBudget",
    "StsBudgetExhausted",
    "bucket_key",
    "component",
    "connect",
    "sts_key",
]

DEFAULT = "default"  # the key of a rate or burst mapping that applies to every service it does not name
DEFAULT_PREFIX = "posture-agent"
MAX_COMPONENT = 256  # characters of an account, region, service or organisation name
MAX_STS_PER_HOUR = 100_000  # one sorted-set member per call in the window
_PREFIX = re.compile(r"[A-Za-z0-9._/-]+(:[A-Za-z0-9._/-]+)*")
_TTL_CAP_MS = 10 * 365 * 86400 * 1000  # a bucket untouched this long starts full again
_TIMEOUT_S = 5.0

# KEYS[1] the bucket; ARGV rate (tokens/s), burst, cost, ttl_ms. Returns the wait in seconds as a string
# ("0" when granted; a Lua number would be truncated to an integer on the way back).
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
  ts = now
end
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return string.format('%.17g', wait)
"""

# KEYS[1] the organisation's log; ARGV limit, count, window_us, a unique id. Scores are microseconds of
# server time (exact in a double). Returns the wait in seconds as a string, "0" when granted.
_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now - window))
local used = redis.call('ZCARD', KEYS[1])
if used + count <= limit then
  for i = 1, count do
    redis.call('ZADD', KEYS[1], string.format('%.17g', now), ARGV[4] .. ':' .. i)
  end
  redis.call('PEXPIRE', KEYS[1], string.format('%d', math.floor(window / 1000) + 1000))
  return '0'
end
local nth = redis.call('ZRANGE', KEYS[1], used + count - limit - 1, used + count - limit - 1, 'WITHSCORES')
return string.format('%.17g', (tonumber(nth[2]) + window - now) / 1000000)
"""


class RateLimitError(AgentError):
    """Base of the shared rate limits' errors."""


class RateLimitUnavailable(RateLimitError):
    """Redis cannot be used: unreachable, no answer in time, refused login, an error answer, a bad URL."""


class StsBudgetExhausted(RateLimitError):
    """The organisation's AssumeRole budget for the rolling hour is spent."""

    def __init__(self, organisation: str, per_hour: int, retry_after: float) -> None:
        self.organisation = organisation
        self.per_hour = per_hour
        self.retry_after = retry_after
        super().__init__(
            f"STS budget of organisation {organisation!r} spent ({per_hour} AssumeRole calls an hour): "
            f"room again in {retry_after:.0f} s"
        )


# -- keys -----------------------------------------------------------------------------------------


def component(value: str, what: str = "component") -> str:
    """One key component: letters, digits, ``.``, ``_``, ``-`` and ``~`` as they are, every other
    character percent-encoded (UTF-8), so no value can contain the ``:`` separator, a glob character or
    a Redis Cluster hash tag, and two different values never give the same key. Raises ValueError for
    an empty value or one longer than MAX_COMPONENT characters."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"the {what} of a rate-limit key must be a non-empty string")
    if len(value) > MAX_COMPONENT:
        raise ValueError(f"the {what} of a rate-limit key is longer than {MAX_COMPONENT} characters")
    return quote(value, safe="", encoding="utf-8", errors="surrogatepass")


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or len(prefix) > 100 or not _PREFIX.fullmatch(prefix):
        raise ValueError(
            "a rate-limit key prefix is 1 to 100 characters: letters, digits, '.', '_', '/', '-', and ':' between them"
        )
    return prefix


def bucket_key(prefix: str, account: str, region: str, service: str) -> str:
    """``PREFIX:rl:ACCOUNT:REGION:SERVICE``, each of the three encoded by ``component``."""
    parts = (component(account, "account"), component(region, "region"), component(service, "service"))
    return f"{_check_prefix(prefix)}:rl:{':'.join(parts)}"


def sts_key(prefix: str, organisation: str) -> str:
    """``PREFIX:sts:ORGANISATION``, the organisation encoded by ``component``."""
    return f"{_check_prefix(prefix)}:sts:{component(organisation, 'organisation')}"


# -- connecting -----------------------------------------------------------------------------------


def _shown_url(url: str) -> str:
    """The URL without its user and password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an invalid Redis URL)"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _where(client: Any) -> str:
    kwargs: dict[str, Any] = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


def connect(url: str, *, timeout: float = _TIMEOUT_S) -> redis.Redis:
    """A client for ``url`` (``redis://HOST:6379/DB``, ``rediss://`` for TLS, ``unix://PATH``) whose
    connection attempts and answers are bounded by ``timeout`` seconds. Connects lazily."""
    try:
        return redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, health_check_interval=30
        )
    except (ValueError, redis.RedisError) as exc:
        raise RateLimitUnavailable(f"invalid Redis URL {_shown_url(url)}: {exc}") from None


def _client(client: redis.Redis | str) -> redis.Redis:
    return connect(client) if isinstance(client, str) else client


def _run(script: Script, client: redis.Redis, key: str, args: list[Any]) -> float:
    """Run ``script`` on ``key`` (EVALSHA, loading it on a NOSCRIPT answer); the wait it returns."""
    try:
        answer = script(keys=[key], args=args, client=client)
    except redis.AuthenticationError as exc:
        raise RateLimitUnavailable(f"Redis at {_where(client)} refused the login: {exc}") from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise RateLimitUnavailable(f"cannot reach Redis at {_where(client)}: {exc}") from None
    except redis.RedisError as exc:
        raise RateLimitUnavailable(f"Redis at {_where(client)} answered an error: {exc}") from None
    return float(answer)


def _positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, not {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out) or out <= 0:
        raise ValueError(f"{what} must be a finite number above 0, not {value!r}")
    return out


def _per_service(value: float | Mapping[str, float], what: str) -> dict[str, float]:
    if isinstance(value, Mapping):
        if DEFAULT not in value:
            raise ValueError(f"{what} per service needs a {DEFAULT!r} entry for the services it does not name")
        out = {}
        for service, v in value.items():
            if not isinstance(service, str) or not service:
                raise ValueError(f"{what}: a service name must be a non-empty string, not {service!r}")
            out[service] = _positive(v, f"{what} of {service!r}")
        return out
    return {DEFAULT: _positive(value, what)}


# -- the limits -----------------------------------------------------------------------------------


class SharedLimiter:
    """Token buckets per (account, region, service), shared through Redis by every worker that uses
    the same ``prefix``. ``rate_per_second`` and ``burst`` are a number for every service or a mapping
    by service name with a ``"default"`` entry. A burst below 1 would never grant a call: refused."""

    def __init__(
        self,
        client: redis.Redis | str,
        *,
        rate_per_second: float | Mapping[str, float],
        burst: float | Mapping[str, float],
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.prefix = _check_prefix(prefix)
        self._rates = _per_service(rate_per_second, "rate_per_second")
        self._bursts = _per_service(burst, "burst")
        for service, b in self._bursts.items():
            if b < 1:
                raise ValueError(f"the burst of {service!r} is below 1: no call could ever be granted")
        self._client = _client(client)
        self._script = self._client.register_script(_BUCKET)

    def __repr__(self) -> str:
        return f"SharedLimiter({_where(self._client)}, prefix={self.prefix!r})"

    def limits(self, service: str) -> tuple[float, float]:
        """(rate per second, burst) of ``service``."""
        return (self._rates.get(service, self._rates[DEFAULT]), self._bursts.get(service, self._bursts[DEFAULT]))

    def key(self, account: str, region: str, service: str) -> str:
        return bucket_key(self.prefix, account, region, service)

    def try_acquire(self, account: str, region: str, service: str, *, cost: float = 1) -> float:
        """Take ``cost`` tokens if they are there: 0.0 when granted, else the seconds until they will be
        (nothing is taken then). Never waits."""
        rate, burst = self.limits(service)
        cost = _positive(cost, "cost")
        if cost > burst:
            raise ValueError(f"a cost of {cost} exceeds the burst of {service!r} ({burst}): never granted")
        ttl_ms = min(_TTL_CAP_MS, math.ceil(burst / rate * 1000) + 1000)
        key = self.key(account, region, service)
        return max(0.0, _run(self._script, self._client, key, [repr(rate), repr(burst), repr(cost), ttl_ms]))

    def acquire(self, account: str, region: str, service: str, *, timeout: float, cost: float = 1) -> bool:
        """Take ``cost`` tokens, sleeping the waits the bucket names, for at most ``timeout`` seconds:
        True when granted, False when the tokens cannot come in time (returned at once when the wait
        already exceeds what is left, rather than sleeping for nothing)."""
        end = time.monotonic() + max(0.0, timeout)
        while True:
            wait = self.try_acquire(account, region, service, cost=cost)
            if wait <= 0:
                return True
            left = end - time.monotonic()
            if wait > left:
                return False
            # a little jitter, so workers woken together do not all ask at the same instant
            time.sleep(min(left, wait * (1 + random.random() / 10)))


class StsBudget:
    """At most ``per_hour`` AssumeRole calls for ``organisation`` in any rolling ``window`` (an hour),
    counted across every worker that uses the same ``prefix``. Never waits."""

    def __init__(
        self,
        client: redis.Redis | str,
        organisation: str,
        per_hour: int,
        *,
        prefix: str = DEFAULT_PREFIX,
        window: float = 3600.0,
    ) -> None:
        if isinstance(per_hour, bool) or not isinstance(per_hour, int) or not 1 <= per_hour <= MAX_STS_PER_HOUR:
            raise ValueError(f"per_hour must be a whole number from 1 to {MAX_STS_PER_HOUR}, not {per_hour!r}")
        self.organisation = organisation
        self.per_hour = per_hour
        self.window = _positive(window, "window")
        self.key = sts_key(prefix, organisation)
        self._client = _client(client)
        self._script = self._client.register_script(_WINDOW)

    def __repr__(self) -> str:
        return f"StsBudget({self.organisation!r}, {self.per_hour}/h at {_where(self._client)})"

    def try_take(self, count: int = 1) -> float:
        """Spend ``count`` calls if the window has room: 0.0 when granted, else the seconds until it will
        have (nothing is spent then)."""
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= self.per_hour:
            raise ValueError(f"count must be a whole number from 1 to {self.per_hour}, not {count!r}")
        args = [self.per_hour, count, math.ceil(self.window * 1_000_000), uuid.uuid4().hex]
        return max(0.0, _run(self._script, self._client, self.key, args))

    def take(self, count: int = 1) -> bool:
        """True when ``count`` calls are granted, False past the budget."""
        return self.try_take(count) <= 0

    def require(self, count: int = 1) -> None:
        """Spend ``count`` calls or raise ``StsBudgetExhausted``."""
        wait = self.try_take(count)
        if wait > 0:
            raise StsBudgetExhausted(self.organisation, self.per_hour, wait)
