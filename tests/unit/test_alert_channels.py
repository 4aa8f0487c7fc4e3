"""Slack rendering and escaping, webhook signatures, routing, exceptions: plain data only."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from agent.alerts import slack, webhook
from agent.alerts.model import Alert
from agent.alerts.routing import channels_for
from agent.config import parse_config
from agent.exceptions import ExceptionRule, apply_exceptions
from agent.models import Finding, Severity, Status


def _alert(**kw: object) -> Alert:
    base: dict[str, object] = dict(
        kind="failure",
        title="Regressed: S3 buckets block public access",
        severity="high",
        transition="regressed",
        provider="aws",
        account="111111111111",
        region="us-east-1",
        check_id="aws.s3.x",
        resource_id="arn:aws:s3:::b",
        previous_status="pass",
        status="fail",
        controls=("SOC2:CC6.1",),
        frameworks=("soc2",),
    )
    base.update(kw)
    return Alert(**base)  # type: ignore[arg-type]


def test_escape_neutralises_mentions_and_links() -> None:
    evil = "<!channel> @here <@U123|boss> <https://evil.example|click> a&b @everyone"
    out = slack.escape(evil)
    assert "<" not in out and ">" not in out
    assert "&lt;!channel&gt;" in out and "a&amp;b" in out
    assert "@here" not in out and "@everyone" not in out and "@\u200bhere" in out


def test_slack_payload_carries_no_live_markup_from_resources() -> None:
    payload = slack.render(
        _alert(
            resource_id="arn:aws:s3:::x<!here>`y",
            message="policy allows <@U1> @channel",
            changes=('Policy: "a" -> "<https://x|y>"',),
            remediation="Do <this>",
            link="https://posture.example.com/?a=1&b=2",
        )
    )
    text = json.dumps(payload, ensure_ascii=False)
    for bad in ("<!here>", "<@U1>", "@channel", "<https://x|y>", "<this>"):
        assert bad not in text
    assert "`arn:aws:s3:::x&lt;!here&gt;ˋy`" in text  # inline code cannot be broken out of
    assert "<https://posture.example.com/?a=1&amp;b=2|Open in posture-agent>" in text
    sections = [b for b in payload["blocks"] if b["type"] == "section" and "text" in b]
    assert all(s["text"]["verbatim"] for s in sections)
    assert payload["blocks"][0]["type"] == "header"
    assert "Controls affected" in text and "SOC2:CC6.1" in text and "Remediation" in text


def test_webhook_signature_round_trip_and_replay_window() -> None:
    body = webhook.render(_alert(), "delivery-1")
    headers = webhook.sign("k", body, timestamp=1_700_000_000)
    ts, sig = headers["X-Posture-Timestamp"], headers["X-Posture-Signature"]
    expected = hmac.new(b"k", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert sig == f"v1={expected}"
    assert webhook.verify_signature("k", body, ts, sig, now=1_700_000_100)
    assert not webhook.verify_signature("k", body, ts, sig, now=1_700_000_301)  # replayed too late
    assert not webhook.verify_signature("other", body, ts, sig, now=1_700_000_000)
    assert not webhook.verify_signature("k", body + b" ", ts, sig, now=1_700_000_000)
    assert not webhook.verify_signature("k", body, None, sig)
    assert webhook.verify_signature("k", body, ts, f"v1=00, {sig}", now=1_700_000_000)  # rotation
    assert json.loads(body)["delivery"] == "delivery-1"


def test_routing_defaults_and_filters() -> None:
    cfg = parse_config(
        "alerts:\n  channels:\n    - {name: a, type: webhook, url: 'http://x'}\n"
        "    - {name: b, type: webhook, url: 'http://y'}\n",
        env={},
    ).alerts
    assert channels_for(_alert(severity="medium"), cfg) == ["a", "b"]
    assert channels_for(_alert(severity="low"), cfg) == []
    routed = parse_config(
        "alerts:\n  channels:\n    - {name: a, type: webhook, url: 'http://x'}\n"
        "    - {name: b, type: webhook, url: 'http://y'}\n"
        "  routes:\n    - {channel: a, min_severity: critical}\n"
        "    - {channel: b, frameworks: [iso27001], providers: [aws], accounts: ['111111111111']}\n"
        "    - {channel: b, min_severity: low, accounts: ['222222222222']}\n",
        env={},
    ).alerts
    assert channels_for(_alert(severity="critical"), routed) == ["a"]
    assert channels_for(_alert(severity="critical", frameworks=("soc2", "iso27001")), routed) == ["a", "b"]
    assert channels_for(_alert(severity="low", account="222222222222"), routed) == ["b"]
    assert channels_for(_alert(kind="test", severity="info"), routed) == ["a", "b"]


def test_route_to_unknown_channel_is_a_config_error() -> None:
    import pytest

    from agent.errors import ConfigError

    with pytest.raises(ConfigError, match="not in alerts.channels"):
        parse_config("alerts:\n  routes:\n    - {channel: nope}\n", env={})


def _finding(rid: str, status: Status) -> Finding:
    return Finding(
        uid=rid,
        check_id="aws.s3.x",
        resource_id=rid,
        resource_type="aws.s3.bucket",
        provider="aws",
        account="1",
        region="us-east-1",
        status=status,
        severity=Severity.HIGH,
        message="open",
        requirements=(),
        evaluated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_exceptions_apply_to_failures_until_expiry() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    rule = ExceptionRule(
        id=7,
        check_id="aws.s3.x",
        resource_pattern="arn:aws:s3:::pub-*",
        reason="site",
        owner="bob",
        created_at=now,
        expires_at=now + timedelta(days=30),
    )
    fs = [
        _finding("arn:aws:s3:::pub-1", Status.FAIL),
        _finding("arn:aws:s3:::pub-2", Status.PASS),
        _finding("arn:aws:s3:::priv", Status.FAIL),
    ]
    out = apply_exceptions(fs, [rule], now)
    assert [f.status for f in out] == [Status.EXCEPTED, Status.PASS, Status.FAIL]
    assert out[0].message.startswith("excepted (was fail) by exception #7 of bob") and out[0].message.endswith("open")
    assert rule.state(now) == "active" and rule.state(now + timedelta(days=25)) == "expiring"
    later = apply_exceptions(fs, [rule], now + timedelta(days=30))
    assert [f.status for f in later] == [Status.FAIL, Status.PASS, Status.FAIL]
