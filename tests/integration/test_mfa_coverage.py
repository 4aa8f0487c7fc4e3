"""MFA coverage on /metrics (agent/mfa_coverage.py), from real cycles: the Okta source against the fake
Okta org over TLS and an AWS source against moto, scraped by a real Prometheus: per source and
overall, machine identities and inactive accounts left out, unknown never counted as covered, and a
cycle that could not read the identities leaving the last complete tally in place."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from posture_demo.fake_okta import FakeOkta
from prometheus_client.parser import text_string_to_metric_families
from test_prometheus import PROMETHEUS, prometheus_scraping

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.http import AgentHTTPServer
from agent.identity import identity_of
from agent.store import Store
from collectors.aws.config import AwsSource
from collectors.okta.config import OktaSource

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(PROMETHEUS is None, reason="LOUD SKIP: prometheus is not installed"),
]


@pytest.fixture
def okta() -> Iterator[FakeOkta]:
    server = FakeOkta(page_size=2).start()
    try:
        yield server
    finally:
        server.stop()


def _iam(aws: str) -> None:
    iam = boto3.client("iam", endpoint_url=aws)
    for name in ("alice", "bob"):  # console users: people
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9!")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    iam.create_user(UserName="deploy-bot")  # keys only: a machine identity, not counted
    iam.create_access_key(UserName="deploy-bot")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name.startswith(("posture_identities", "posture_mfa_coverage"))
    }


def _query(port: int, query: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=5)
            if r.status_code == 200 and r.json()["data"]["result"]:
                return list(r.json()["data"]["result"])
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return []


def test_mfa_coverage_per_source_and_overall_reaches_prometheus(aws: str, okta: FakeOkta, tmp_path: Path) -> None:
    _iam(aws)
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.upgrade()
    pipeline = Pipeline(parse_config("{}", env={}), store)
    okta_src = OktaSource.model_validate({**okta.source_config(), "name": "okta"})
    aws_src = AwsSource(name="aws", provider="aws", regions=["us-east-1"], endpoint_url=aws, services=["iam"])
    okta_run = pipeline.run_cycle(okta_src)
    assert okta_run.ok, okta_run.error
    assert pipeline.run_cycle(aws_src).ok

    # what the Okta collector says of each user, counted by hand: active humans by MFA state
    views = [identity_of(r) for s in okta_run.snapshots for r in s.resources]
    people = [v for v in views if v is not None and v.active and v.human]
    want_okta = {
        "yes": sum(v.mfa is True for v in people),
        "no": sum(v.mfa is False for v in people),
        "unknown": sum(v.mfa is None for v in people),
    }
    assert want_okta["yes"] and want_okta["no"]  # the seeded org has both

    server = AgentHTTPServer("127.0.0.1", 0, pipeline.metrics.registry, lambda: (True, {}))
    server.start()
    try:
        host, port = server.address
        got = _samples(httpx.get(f"http://{host}:{port}/metrics").text)
        for state, n in want_okta.items():
            assert got[("posture_identities", (("mfa", state), ("provider", "okta"), ("source", "okta")))] == n
        aws_counts = {
            state: got[("posture_identities", (("mfa", state), ("provider", "aws"), ("source", "aws")))]
            for state in ("yes", "no", "unknown")
        }
        assert aws_counts == {"yes": 1, "no": 1, "unknown": 0}  # alice and bob; the bot is no person
        assert got[("posture_mfa_coverage_ratio", (("source", "aws"),))] == 0.5
        okta_total = sum(want_okta.values())
        assert got[("posture_mfa_coverage_ratio", (("source", "okta"),))] == pytest.approx(
            want_okta["yes"] / okta_total
        )
        overall = (want_okta["yes"] + 1) / (okta_total + 2)
        assert got[("posture_mfa_coverage_overall_ratio", ())] == pytest.approx(overall)

        # a cycle that cannot read the users keeps the last complete tally
        okta.fail(r"^/api/v1/users$", 500, times=-1)
        unread = pipeline.run_cycle(okta_src)
        okta.clear_faults()
        assert any(e.resource_type == "okta.user" for s in unread.snapshots for e in s.errors) or not unread.ok
        again = _samples(httpx.get(f"http://{host}:{port}/metrics").text)
        assert again == got

        with prometheus_scraping(host, port, tmp_path) as prom_port:
            result = _query(prom_port, "posture_mfa_coverage_overall_ratio")
            assert result and float(result[0]["value"][1]) == pytest.approx(overall)  # type: ignore[index]
            per_source = _query(prom_port, 'sum(posture_identities{mfa="yes"}) / sum(posture_identities)')
            assert per_source and float(per_source[0]["value"][1]) == pytest.approx(overall)  # type: ignore[index]
    finally:
        server.stop()
        store.close()
