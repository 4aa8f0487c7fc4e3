"""A store filled by the real pipeline (the AWS collector against moto, two cycles with a bucket made
public in between, so a failing finding has drift), a manual document, and the console served on a
real port by the agent's HTTP server, with an operator and three auditors (period now, period ended,
period long ago)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import CollectorRegistry

from agent.config import Config, parse_config
from agent.console.passwords import hash_password
from agent.console.register import register_console
from agent.cycle import Pipeline
from agent.exceptions import add_exception
from agent.http import AgentHTTPServer
from agent.mappings import load_mappings
from agent.store import Store
from agent.store.manual import attach
from collectors.aws.config import AwsSource

PAB = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
PASSWORDS = {
    "olivia": "operator pass 1",
    "audrey": "auditor pass 2",
    "ended": "auditor pass 3",
    "oldie": "auditor pass 4",
}
PUBLIC_BUCKET = "arn:aws:s3:::console-public"
SESSION_SECRET = "s" * 48
SIGNING_KEY = (
    Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: conftest may be imported twice
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


@dataclass
class Served:
    url: str  # the console's root, ending in /console
    db: str
    store: Store
    config: Config
    hashes: dict[str, str]


def _config_text(db: str, hashes: dict[str, str], *, secure: bool) -> str:
    today = date.today()
    return f"""
database: {db}
scope: {{frameworks: [soc2, iso27001]}}
evidence: {{signing_key: env:CONSOLE_TEST_SIGNING_KEY, checkpoint_every: 1d}}
console:
  enabled: true
  secure_cookies: {str(secure).lower()}
  session_secret: env:CONSOLE_TEST_SECRET
  users:
    - {{name: olivia, role: operator, password_hash: "{hashes["olivia"]}"}}
    - name: audrey
      role: auditor
      password_hash: "{hashes["audrey"]}"
      period: {{from: {today - timedelta(days=30)}, to: {today + timedelta(days=30)}}}
      frameworks: [soc2]
    - name: ended
      role: auditor
      password_hash: "{hashes["ended"]}"
      period: {{from: {today - timedelta(days=30)}, to: {today - timedelta(days=1)}}}
      frameworks: [soc2]
    - name: oldie
      role: auditor
      password_hash: "{hashes["oldie"]}"
      period: {{from: 2020-01-01, to: 2020-12-31}}
      frameworks: [soc2]
"""


def _fill(store: Store, moto: str, tmp: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    for name in ("console-public", "console-private"):
        s3.create_bucket(Bucket=name)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict.fromkeys(PAB, True))
    pipeline = Pipeline(parse_config("{}", env={}), store)
    source = AwsSource(name="aws-test", provider="aws", regions=["us-east-1"], endpoint_url=moto, services=["s3"])
    first = pipeline.run_cycle(source)
    assert first.ok, first.error
    s3.put_public_access_block(
        Bucket="console-public", PublicAccessBlockConfiguration={**dict.fromkeys(PAB, True), "BlockPublicAcls": False}
    )
    second = pipeline.run_cycle(source)
    assert second.ok, second.error
    add_exception(
        store,
        check_id="aws.s3.bucket_public_access_block",
        resource_pattern="arn:aws:s3:::console-private",
        reason="legacy partner upload bucket, replaced in Q3",
        owner="head-of-infra@example.com",
        expires_at=now() + timedelta(days=60),
    )
    doc = tmp / "infosec-policy.pdf"
    doc.write_bytes(b"%PDF-1.4 the information security policy")
    attach(
        store,
        control_id="POL-INFOSEC",
        path=doc,
        owner="ciso@example.com",
        review_every=timedelta(days=365),
        controls=load_mappings().controls,
    )


@pytest.fixture(scope="package")
def filled(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    tmp = tmp_path_factory.mktemp("console-store")
    httpx.post(f"{moto_server}/moto-api/reset", timeout=30).raise_for_status()
    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            mp.delenv(var, raising=False)
        for var, value in {
            "AWS_ENDPOINT_URL": moto_server,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }.items():
            mp.setenv(var, value)
        db = f"sqlite:///{tmp / 'posture.db'}"
        store = Store(db)
        store.upgrade()
        _fill(store, moto_server, tmp)
        yield db, store
        store.close()


def serve(db: str, store: Store, *, secure: bool = False) -> tuple[AgentHTTPServer, Served]:
    os.environ["CONSOLE_TEST_SECRET"] = SESSION_SECRET
    os.environ["CONSOLE_TEST_SIGNING_KEY"] = SIGNING_KEY  # bundles exported from the console are signed
    hashes = {name: hash_password(pw, log2_n=14) for name, pw in PASSWORDS.items()}  # the real KDF, cheaper
    cfg = parse_config(_config_text(db, hashes, secure=secure), env={})
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}))
    assert register_console(http, cfg, store) is not None
    http.start()
    host, port = http.address
    return http, Served(f"http://{host}:{port}/console", db, store, cfg, hashes)


@pytest.fixture(scope="package")
def console(filled: tuple[str, Store]) -> Iterator[Served]:
    db, store = filled
    http, served = serve(db, store)
    try:
        yield served
    finally:
        http.stop()


def client(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.url.rsplit("/console", 1)[0], timeout=30, follow_redirects=False)


def csrf_of(page: str) -> str:
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def login(c: httpx.Client, name: str, password: str | None = None) -> httpx.Response:
    form = c.get("/console/login")
    assert form.status_code == 200
    return c.post(
        "/console/login",
        data={"csrf": csrf_of(form.text), "username": name, "password": password or PASSWORDS[name]},
    )


def now() -> datetime:
    return datetime.now(UTC)
