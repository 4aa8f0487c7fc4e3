"""End to end: the real AWS collector against moto, drift induced with boto3 between cycles,
alerts delivered to a local Slack sink by the real dispatcher."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from alert_sinks import SlackSink

from agent.alerts.dispatcher import Dispatcher
from agent.config import parse_config
from agent.cycle import Pipeline
from agent.store import Store
from collectors.aws.config import AwsSource

PAB = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _titles(sink: SlackSink, prefix: str) -> list[str]:
    return [d["blocks"][0]["text"]["text"] for d in sink.received if d["blocks"][0]["text"]["text"].startswith(prefix)]


def _settle(disp: Dispatcher, sink: SlackSink) -> None:
    for _ in range(200):  # until the outbox is empty, then one more pass for anything late
        disp.run_once()
        if not disp._gauge.get(("slack", "pending")):
            break
        time.sleep(0.05)
    disp.run_once()


def test_bucket_made_public_alerts_once_then_resolves(aws: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="e2e-data")
    s3.put_public_access_block(Bucket="e2e-data", PublicAccessBlockConfiguration=dict.fromkeys(PAB, True))
    sink = SlackSink()
    with sink.serve() as url:
        monkeypatch.setenv("E2E_SLACK", url)
        cfg = parse_config(
            "alerts:\n  digest_threshold: 1000\n  channels:\n"
            "    - {name: slack, type: slack, webhook_url: 'env:E2E_SLACK'}\n",
            env={},
        )
        store = Store(f"sqlite:///{tmp_path / 'e2e.db'}")
        store.upgrade()
        pipeline = Pipeline(cfg, store)
        disp = Dispatcher.for_pipeline(pipeline, base_delay=0.05, max_delay=0.2)
        assert disp is not None
        source = AwsSource(name="t", provider="aws", regions=["us-east-1"], endpoint_url=aws)
        try:
            first = pipeline.run_cycle(source)
            assert first.ok, first.error
            _settle(disp, sink)
            baseline = len(sink.received)
            assert not _titles(sink, "Regressed")

            s3.put_public_access_block(
                Bucket="e2e-data",
                PublicAccessBlockConfiguration={**dict.fromkeys(PAB, True), "BlockPublicAcls": False},
            )
            pipeline.run_cycle(source)
            _settle(disp, sink)
            regressed = _titles(sink, "Regressed")
            assert len(regressed) == 1, regressed
            assert "Block Public Access" in regressed[0]
            msg = str(sink.received[-1])
            assert "arn:aws:s3:::e2e-data" in msg and "BlockPublicAcls: true -&gt; false" in msg

            pipeline.run_cycle(source)  # still public: nothing new
            _settle(disp, sink)
            assert len(_titles(sink, "Regressed")) == 1

            s3.put_public_access_block(Bucket="e2e-data", PublicAccessBlockConfiguration=dict.fromkeys(PAB, True))
            pipeline.run_cycle(source)
            _settle(disp, sink)
            assert len(_titles(sink, "Resolved")) == 1
            assert len(sink.received) == baseline + 2
        finally:
            disp.stop()
            store.close()
