"""Delivers the alert outbox: a thread, exponential backoff with jitter, Retry-After, parking.

Per channel, messages go out in outbox order; a failure holds that channel back (the rest of its
queue waits, other channels carry on) until the backoff expires, so a channel that was down gets
every message exactly once, in order, when it comes back. Webhook URLs and secrets are revealed
only at send time and never logged or stored; errors are recorded as status codes and exception
class names.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client.core import GaugeMetricFamily

from agent.alerts import slack, webhook
from agent.alerts.model import Alert
from agent.config import AlertsConfig, Secret, SlackChannel, WebhookChannel
from agent.metrics import AgentMetrics
from agent.models import utcnow
from agent.retry_after import parse_retry_after
from agent.store import Store, outbox

if TYPE_CHECKING:
    from agent.cycle import Pipeline

__all__ = ["Delivery", "Dispatcher", "deliver"]

log = logging.getLogger("agent.alerts")

PERMANENT = frozenset({400, 413, 422})  # the payload itself is refused: retrying cannot help
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Delivery:
    ok: bool
    status: int | None  # HTTP status, None for a network error
    error: str = ""
    retry_after: float | None = None

    @property
    def permanent(self) -> bool:
        return self.status in PERMANENT

    @property
    def reason(self) -> str:
        """Bounded label value for metrics."""
        if self.status is None:
            return "network"
        if self.status == 429:
            return "http_429"
        return "http_5xx" if self.status >= 500 else "http_4xx"


def _reveal(value: Secret | str) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def deliver(client: httpx.Client, channel: SlackChannel | WebhookChannel, alert: Alert, delivery_id: str) -> Delivery:
    """POST one alert to one channel."""
    try:
        if isinstance(channel, SlackChannel):
            resp = client.post(channel.webhook_url.reveal(), json=slack.render(alert))
        else:
            body = webhook.render(alert, delivery_id)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "posture-agent",
                "X-Posture-Delivery": delivery_id,
            }
            if channel.secret is not None:
                headers.update(webhook.sign(channel.secret.reveal(), body))
            resp = client.post(_reveal(channel.url), content=body, headers=headers)
    except httpx.HTTPError as exc:
        # the exception text can carry the URL (a secret): keep only its class
        return Delivery(False, None, f"network error: {type(exc).__name__}")
    except Exception as exc:  # e.g. the secret's env var is unset
        return Delivery(False, None, f"cannot send: {type(exc).__name__}: {exc}")
    if 200 <= resp.status_code < 300:
        return Delivery(True, resp.status_code)
    detail = resp.text[:200].strip()
    return Delivery(
        False,
        resp.status_code,
        f"HTTP {resp.status_code}: {detail}",
        parse_retry_after(resp.headers.get("Retry-After"), cap=MAX_RETRY_AFTER, now=utcnow())
        if resp.status_code in (429, 503)
        else None,
    )


class Dispatcher:
    """Drains the outbox in a background thread; ``run_once`` does one pass (tests, CLI)."""

    def __init__(
        self,
        store: Store,
        config: AlertsConfig,
        metrics: AgentMetrics,
        *,
        wake: threading.Event | None = None,
        poll_interval: float = 5.0,
        base_delay: float = 5.0,
        max_delay: float = 900.0,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        self.channels = {c.name: c for c in config.channels}
        self.wake = wake or threading.Event()
        self.poll_interval = poll_interval
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), follow_redirects=False
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._held: dict[str, datetime] = {}  # channel -> not before (after a failure)
        self._lock = threading.Lock()
        self._gauge: dict[tuple[str, str], int] = {}
        # None: always; else drained only while it says so (the leading scheduler of a scaled deployment)
        self.active: Callable[[], bool] | None = None
        for name in self.channels:
            metrics.alerts_sent.labels(name)
        metrics.add_family_source(self._families)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None or not self.channels:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="alerts-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.active is None or self.active():
                    self.run_once()
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("alert dispatch pass failed")
            self.wake.wait(self._next_wait())
            self.wake.clear()

    def _next_wait(self) -> float:
        with self._lock:
            held = list(self._held.values())
        if not held:
            return self.poll_interval
        soonest = (min(held) - utcnow()).total_seconds()
        return max(0.01, min(self.poll_interval, soonest))

    # -- one pass --------------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> int:
        """Try every due message once (respecting per-channel hold); returns how many were sent."""
        now = now or utcnow()
        sent = 0
        with self.store.engine.connect() as conn:
            rows = outbox.due(conn, now)
        blocked: set[str] = set()
        for row in rows:
            if self._stop.is_set():
                break
            held = self._held.get(row.channel)
            if row.channel in blocked or (held is not None and held > now):
                continue
            channel = self.channels.get(row.channel)
            if channel is None:
                self._park(row, row.attempts, "channel no longer configured")
                continue
            result = deliver(self._client, channel, row.alert, row.dedup_key)
            if result.ok:
                self._sent(row)
                with self._lock:
                    self._held.pop(row.channel, None)
                sent += 1
            else:
                blocked.add(row.channel)
                self._failed(row, result)
        self.refresh_gauges()
        return sent

    def _sent(self, row: outbox.OutboxRow) -> None:
        at = utcnow()
        with self.store.transaction() as conn:  # the store's lock: one writer of the evidence chain at a time
            outbox.mark_sent(conn, row.id, at)
            self.store.append_evidence(
                conn,
                at=at,
                kind="alert",
                ref=f"alert:{row.id}",
                content={
                    "outbox_id": row.id,
                    "channel": row.channel,
                    "kind": row.kind,
                    "dedup_key": row.dedup_key,
                    "check_id": row.alert.check_id,
                    "resource_id": row.alert.resource_id,
                    "transition": row.alert.transition,
                    "attempts": row.attempts + 1,
                    "payload_sha256": hashlib.sha256(row.alert.to_json().encode()).hexdigest(),
                },
            )
        self.metrics.alerts_sent.labels(row.channel).inc()
        log.info("alert sent", extra={"channel": row.channel, "outbox_id": row.id, "kind": row.kind})

    def _failed(self, row: outbox.OutboxRow, result: Delivery) -> None:
        self.metrics.alerts_failed.labels(row.channel, result.reason).inc()
        now = utcnow()
        # rate limiting is the channel pacing us, not the message failing: no attempt is spent
        attempts = row.attempts if result.status == 429 else row.attempts + 1
        log.warning(
            "alert delivery failed",
            extra={
                "channel": row.channel,
                "outbox_id": row.id,
                "status": result.status,
                "error": result.error,
                "attempts": attempts,
            },
        )
        too_old = now - row.created_at >= self.config.max_age
        if result.permanent or attempts >= self.config.max_attempts or too_old:
            self._park(row, attempts, result.error)
            return
        if result.retry_after is not None:
            delay = min(result.retry_after, MAX_RETRY_AFTER)
        else:
            # exponential backoff, "equal jitter": between half and all of the capped exponential
            cap = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
            delay = cap / 2 + random.uniform(0, cap / 2)
        nxt = now + timedelta(seconds=delay)
        with self.store.transaction() as conn:
            outbox.mark_failed(conn, row.id, attempts=attempts, next_attempt_at=nxt, error=result.error)
            outbox.park_stale(
                conn,
                row.channel,
                now - self.config.max_age,
                f"undelivered for over {self.config.max_age}; last error: {result.error}",
            )
        with self._lock:
            self._held[row.channel] = nxt

    def _park(self, row: outbox.OutboxRow, attempts: int, error: str) -> None:
        with self.store.transaction() as conn:
            outbox.park(conn, row.id, attempts=attempts, error=error)
        log.error("alert parked", extra={"channel": row.channel, "outbox_id": row.id, "error": error})

    # -- metrics ---------------------------------------------------------------------------------

    def refresh_gauges(self) -> None:
        with self.store.engine.connect() as conn:
            counts = outbox.counts(conn)
        with self._lock:
            self._gauge = counts

    def _families(self) -> Iterator[GaugeMetricFamily]:
        fam = GaugeMetricFamily(
            "posture_alerts_outbox_messages",
            "Alert messages waiting (pending) or given up on (parked), per channel.",
            labels=["channel", "state"],
        )
        with self._lock:
            counts = dict(self._gauge)
        for name in sorted(set(self.channels) | {c for c, _ in counts}):
            for state in ("pending", "parked"):
                fam.add_metric([name, state], counts.get((name, state), 0))
        yield fam

    @classmethod
    def for_pipeline(cls, pipeline: Pipeline, **kw: Any) -> Dispatcher | None:
        """The dispatcher of a Pipeline that has a store and alert channels, else None."""
        store, config = pipeline.store, pipeline.config
        if store is None or not config.alerts.channels:
            return None
        return cls(store, config.alerts, pipeline.metrics, wake=pipeline.alerts_wake, **kw)
