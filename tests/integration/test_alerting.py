"""Drift events, the outbox and delivery through real HTTP sinks, on SQLite and PostgreSQL.

Cycles are recorded with plain snapshots straight into the store (no fake collector): the
evaluation, exceptions, drift and outbox code are the real ones, hooked in by Pipeline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from alert_sinks import Reply, SlackSink, WebhookSink
from sqlalchemy import select

from agent.alerts.dispatcher import Dispatcher
from agent.config import parse_config
from agent.cycle import CycleResult, Pipeline
from agent.exceptions import add_exception
from agent.models import Resource, Snapshot, Status, utcnow
from agent.store import RunRecord, Store, outbox
from agent.store.alerting import drift_events
from agent.store.schema import evidence_log
from checks.base import Context, Remediation, Severity, Verdict, check

ACCOUNT = "111111111111"


@check(
    id="aws.s3.test_private",
    title="Test buckets block public ACLs",
    severity=Severity.HIGH,
    resource_type="aws.s3.bucket",
    rationale="test",
    remediation=Remediation(console="Turn on Block Public Access.", cli="aws s3api put-public-access-block"),
)
def _private(bucket: Resource, ctx: Context) -> Verdict:
    on = bucket.attributes["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    return Verdict(Status.PASS if on else Status.FAIL, "public ACLs blocked" if on else "public ACLs allowed")


def bucket(name: str, public: bool = False, account: str = ACCOUNT) -> Resource:
    return Resource(
        provider="aws",
        account=account,
        region="us-east-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        attributes={"PublicAccessBlockConfiguration": {"BlockPublicAcls": not public}},
    )


def record(pipeline: Pipeline, resources: list[Resource], source: str = "t") -> CycleResult:
    """One cycle of plain data through the real evaluate, record (store, drift, alerts) and publish stages."""
    now = utcnow()
    by_account: dict[str, list[Resource]] = {}
    for r in resources:
        by_account.setdefault(r.account, []).append(r)
    snaps = [
        Snapshot(source=source, provider="aws", account=a, started_at=now, finished_at=now, resources=tuple(rs))
        for a, rs in sorted(by_account.items())
    ]
    run = RunRecord(
        id=uuid.uuid4().hex,
        source=source,
        provider="aws",
        started_at=now,
        finished_at=now,
        status="complete",
        detail={},
    )
    results = [(s, pipeline.evaluate(s)) for s in snaps]
    assert pipeline.store is not None
    writes, drift = pipeline.record(run, results)
    findings = [f for _, fs in results for f in fs]
    res = CycleResult(run=run, snapshots=snaps, findings=findings, writes=writes, drift=drift)
    pipeline.publish(res, 0.0)
    return res


def make(
    store: Store, urls: dict[str, str], extra: str = "", monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[Pipeline, Dispatcher]:
    channels = []
    for name, url in urls.items():
        var = f"HOOK_{name.upper()}"
        assert monkeypatch is not None
        monkeypatch.setenv(var, url)
        if name.startswith("slack"):
            channels.append(f"    - {{name: {name}, type: slack, webhook_url: 'env:{var}'}}")
        else:
            monkeypatch.setenv("HOOK_SECRET", "s3cret")
            channels.append(f"    - {{name: {name}, type: webhook, url: 'env:{var}', secret: 'env:HOOK_SECRET'}}")
    text = "alerts:\n  channels:\n" + "\n".join(channels) + "\n" + extra
    cfg = parse_config(text + "external_url: https://posture.example.com\n", env={})
    pipeline = Pipeline(cfg, store, checks={_private.id: _private})
    disp = Dispatcher.for_pipeline(pipeline, base_delay=0.05, max_delay=0.2, poll_interval=0.05)
    assert disp is not None
    return pipeline, disp


def drain(disp: Dispatcher, until: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        disp.run_once()
        if until():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
def slack_sink() -> Iterator[tuple[SlackSink, str]]:
    sink = SlackSink()
    with sink.serve() as url:
        yield sink, url


def kinds(sink: SlackSink | WebhookSink) -> list[str]:
    out = []
    for doc in sink.received:
        out.append(doc["alert"]["transition"] if "alert" in doc else doc["blocks"][0]["text"]["text"].split(":")[0])
    return out


def test_one_regression_then_one_resolution(store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sink, url = slack_sink
    pipeline, disp = make(store, {"slack": url}, monkeypatch=monkeypatch)
    try:
        record(pipeline, [bucket("a"), bucket("b")])
        disp.run_once()
        assert sink.received == []  # passing resources: baseline, nothing to say
        record(pipeline, [bucket("a", public=True), bucket("b")])
        drain(disp, lambda: len(sink.received) == 1)
        for _ in range(3):  # still failing: never repeated
            record(pipeline, [bucket("a", public=True), bucket("b")])
            disp.run_once()
        assert len(sink.received) == 1
        msg = sink.received[0]
        assert msg["blocks"][0]["text"]["text"].startswith("Regressed: Test buckets block public ACLs")
        flat = str(msg)
        assert "PublicAccessBlockConfiguration.BlockPublicAcls: true -&gt; false" in flat
        assert "111111111111 / us-east-1" in flat and "Turn on Block Public Access." in flat
        assert "https://posture.example.com/?check=aws.s3.test_private" in flat
        record(pipeline, [bucket("a"), bucket("b")])
        drain(disp, lambda: len(sink.received) == 2)
        assert sink.received[1]["blocks"][0]["text"]["text"].startswith("Resolved: ")
        record(pipeline, [bucket("a"), bucket("b")])
        disp.run_once()
        assert len(sink.received) == 2
    finally:
        disp.stop()
    with store.engine.connect() as conn:
        kinds_ = [r.kind for r in conn.execute(select(drift_events).order_by(drift_events.c.id))]
        chain = [r.kind for r in conn.execute(select(evidence_log.c.kind))]
    assert kinds_ == ["modified", "regressed", "modified", "resolved"]
    assert chain.count("alert") == 2 and chain.count("drift") == 2
    m = pipeline.metrics.registry
    assert m.get_sample_value("posture_alerts_sent_total", {"channel": "slack"}) == 2
    assert m.get_sample_value("posture_drift_events_total", {"kind": "regressed", "check": _private.id}) == 1
    assert (
        m.get_sample_value(
            "posture_resource_changes_total",
            {"provider": "aws", "resource_type": "aws.s3.bucket", "change": "modified"},
        )
        == 2
    )


def test_channel_down_for_many_cycles_gets_each_message_once(
    store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, url = slack_sink
    # however slow the machine makes the outage, no message runs out of attempts before it ends
    pipeline, disp = make(store, {"slack": url}, extra="  max_attempts: 100000\n", monkeypatch=monkeypatch)
    record(pipeline, [bucket(n) for n in "abcde"])
    sink.down = True
    disp.start()
    try:
        for i in range(5):  # one regression per cycle while the channel is down
            record(pipeline, [bucket(x, public=x in "abcde"[: i + 1]) for x in "abcde"])
            time.sleep(0.15)
        assert sink.received == [] and sink.attempts >= 3
        sink.down = False
        deadline = time.monotonic() + 15
        while len(sink.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # any duplicate would arrive now
    finally:
        disp.stop()
    resources = [d["blocks"][1]["fields"][0]["text"] for d in sink.received]
    assert len(resources) == 5 and len(set(resources)) == 5
    assert [r.split("`")[1] for r in resources] == [f"arn:aws:s3:::{n}" for n in "abcde"]  # in order
    assert (
        pipeline.metrics.registry.get_sample_value(
            "posture_alerts_failed_total", {"channel": "slack", "reason": "http_5xx"}
        )
        >= 1
    )


def test_a_message_waiting_out_its_backoff_is_not_overtaken(
    store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later message that never failed still waits for the earlier one of its channel."""
    sink, url = slack_sink
    pipeline, disp = make(store, {"slack": url}, monkeypatch=monkeypatch)
    try:
        record(pipeline, [bucket("a"), bucket("b")])
        sink.down = True
        record(pipeline, [bucket("a", public=True), bucket("b")])
        disp.run_once()  # a fails and waits out its backoff
        sink.down = False
        record(pipeline, [bucket("a", public=True), bucket("b", public=True)])
        with store.engine.connect() as conn:
            (a,) = [r for r in outbox.list_rows(conn, ("pending",)) if r.attempts == 1]
            waiting = a.next_attempt_at - timedelta(microseconds=1)
            assert [r.alert.resource_id for r in outbox.due(conn, waiting)] == []
        # a fresh dispatcher knows nothing of the hold: only the outbox keeps b back
        _, fresh = make(store, {"slack": url}, monkeypatch=monkeypatch)
        try:
            fresh.run_once(now=waiting)
            assert sink.received == []
            fresh.run_once(now=a.next_attempt_at + timedelta(seconds=1))
        finally:
            fresh.stop()
    finally:
        disp.stop()
    sent = [d["blocks"][1]["fields"][0]["text"].split("`")[1] for d in sink.received]
    assert sent == ["arn:aws:s3:::a", "arn:aws:s3:::b"]


def test_retry_after_and_parking(store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sink, url = slack_sink
    pipeline, disp = make(store, {"slack": url}, extra="  max_attempts: 3\n", monkeypatch=monkeypatch)
    try:
        record(pipeline, [bucket("a"), bucket("b")])
        sink.script = [Reply(429, "rate_limited", {"Retry-After": "1"})]
        record(pipeline, [bucket("a", public=True), bucket("b")])
        t0 = time.monotonic()
        disp.run_once()
        assert sink.received == []
        disp.run_once()  # held back by Retry-After
        assert sink.attempts == 1
        drain(disp, lambda: len(sink.received) == 1)
        assert time.monotonic() - t0 >= 0.9
        # a payload Slack refuses is parked at once; a 500 that never ends after max_attempts
        sink.script = [Reply(400, "invalid_payload")]
        record(pipeline, [bucket("a", public=True), bucket("b", public=True)])
        disp.run_once()
        with store.engine.connect() as conn:
            rows = outbox.list_rows(conn, ("parked",))
        assert len(rows) == 1 and "invalid_payload" in rows[0].last_error and rows[0].attempts == 1
        sink.down = True
        record(pipeline, [bucket("a"), bucket("b", public=True)])
        drain(disp, lambda: disp._gauge.get(("slack", "parked")) == 2)
        with store.engine.connect() as conn:
            parked = outbox.list_rows(conn, ("parked",))
        assert parked[-1].attempts == 3 and "500" in parked[-1].last_error
        assert (
            pipeline.metrics.registry.get_sample_value(
                "posture_alerts_outbox_messages", {"channel": "slack", "state": "parked"}
            )
            == 2
        )
    finally:
        disp.stop()
    assert url not in str([r.last_error for r in parked])


def test_storm_becomes_one_digest(store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sink, url = slack_sink
    pipeline, disp = make(store, {"slack": url}, monkeypatch=monkeypatch)
    try:
        record(pipeline, [bucket("seed")])
        record(
            pipeline,
            [bucket("seed")] + [bucket(f"b{i:03}", public=True, account="222222222222") for i in range(500)],
        )
        drain(disp, lambda: len(sink.received) >= 1)
        disp.run_once()
    finally:
        disp.stop()
    assert len(sink.received) == 1
    text = str(sink.received[0])
    assert "500 new failures in t" in text and "high: 500" in text


def test_signed_webhook_and_routing(store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sink, url = slack_sink
    hook = WebhookSink("s3cret")
    with hook.serve() as hook_url:
        routes = (
            "  routes:\n"
            "    - {channel: hook, min_severity: high, accounts: ['111111111111']}\n"
            "    - {channel: slack, min_severity: critical}\n"
        )
        pipeline, disp = make(store, {"slack": url, "hook": hook_url}, extra=routes, monkeypatch=monkeypatch)
        try:
            record(pipeline, [bucket("a"), bucket("z", account="333333333333")])
            record(pipeline, [bucket("a", public=True), bucket("z", public=True, account="333333333333")])
            drain(disp, lambda: len(hook.received) == 1)
            disp.run_once()
        finally:
            disp.stop()
    assert sink.received == []  # high < critical
    doc = hook.received[0]
    assert doc["type"] == "posture.failure" and doc["alert"]["resource_id"] == "arn:aws:s3:::a"
    assert doc["_headers"]["x-posture-signature"].startswith("v1=")
    assert doc["_headers"]["x-posture-delivery"] == doc["delivery"]


def test_exception_excepts_and_expiry_alerts(store: Store, slack_sink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sink, url = slack_sink
    pipeline, disp = make(store, {"slack": url}, monkeypatch=monkeypatch)
    try:
        record(pipeline, [bucket("a"), bucket("pub-1")])
        eid = add_exception(
            store,
            check_id=_private.id,
            resource_pattern="arn:aws:s3:::pub-*",
            reason="static website",
            owner="alice",
            expires_at=utcnow() + timedelta(days=3),
        )
        res = record(pipeline, [bucket("a"), bucket("pub-1", public=True)])
        drain(disp, lambda: len(sink.received) == 1)
        disp.run_once()
        # the only alert is the week-before expiry notice; the excepted failure does not alert
        assert len(sink.received) == 1 and "Exception #1 expires" in str(sink.received[0])
        assert eid == 1
        f = next(f for f in res.findings if f.resource_id.endswith("pub-1"))
        assert f.status == Status.EXCEPTED and "was fail" in f.message
        assert pipeline.metrics.registry.get_sample_value("posture_exceptions", {"state": "expiring"}) == 1
        counts = {(r["check_id"], r["status"]): r["count"] for r in store.finding_counts()}
        assert counts[(_private.id, "excepted")] == 1
        record(pipeline, [bucket("a"), bucket("pub-1", public=True)])
        disp.run_once()
        assert len(sink.received) == 1  # warned once only
    finally:
        disp.stop()
