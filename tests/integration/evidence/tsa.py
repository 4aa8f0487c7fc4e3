"""Real external witnesses for tests: OpenSSL's TSA on loopback and an Object Lock bucket in moto.

Import the fixtures into a test module (``from tests.integration.evidence.tsa import tsa, ...``):

- ``tsa``: a running :class:`posture_demo.tsa.LocalTsa` (``openssl ts -reply`` behind http.server) for the
  session; ``tsa.ca_pem`` is its root, ``tsa_cert`` that root as a file for ``--tsa-cert``.
- ``rogue_tsa``: a second TSA with a root of its own, which the auditor does not pin.
- ``anchor_bucket``: an Object Lock bucket (created with ObjectLockEnabledForBucket) in moto, in an
  "auditor" account of its own, reached by the agent through ``role_arn``; an :class:`AnchorBucket`
  with the config the agent takes (``anchors_config``), the ``--anchor-bucket`` URL and a boto3
  client of the auditor's account to inspect or meddle with.

``anchored(store, anchors, checkpoints)`` writes the seeded history and checkpoints, each anchored right
away as the daemon does (``at``: the agent's clock, to fabricate history with it set back).
``both_clis(bundle, args, tmp)`` runs `posture-agent evidence verify` and the standalone
`python -m posture_verify` (only its own dependencies importable) on a bundle and asserts they agree.

No test code fakes a witness: the tokens are OpenSSL's, the bucket is moto's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from posture_demo.tsa import LocalTsa

from agent.config import AnchorsConfig
from agent.evidence.anchoring import Anchorer
from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.models import utcnow
from agent.store import Store
from tests.integration.evidence.helpers import bucket, cycle, seed

ROOT = Path(__file__).resolve().parents[3]
AGENT_CLI = Path(sys.executable).parent / "posture-agent"
AUDITOR_ACCOUNT = "210987654321"
ANCHOR_ROLE = f"arn:aws:iam::{AUDITOR_ACCOUNT}:role/PostureAgentAnchor"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _need_openssl() -> None:
    if shutil.which("openssl") is None:
        msg = "openssl is not installed (Debian: apt-get install openssl); the RFC 3161 tests need its TSA"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(f"LOUD SKIP: {msg}")


@pytest.fixture(scope="session")
def tsa() -> Iterator[LocalTsa]:
    _need_openssl()
    with LocalTsa("posture-agent test TSA") as t:
        yield t


@pytest.fixture(scope="session")
def rogue_tsa() -> Iterator[LocalTsa]:
    _need_openssl()
    with LocalTsa("operator's own TSA") as t:
        yield t


@pytest.fixture
def tsa_cert(tsa: LocalTsa, tmp_path: Path) -> Path:
    return tsa.write_ca(tmp_path / "tsa-root.pem")


@dataclass
class AnchorBucket:
    endpoint: str
    bucket: str
    prefix: str
    s3: Any  # boto3 S3 client of the auditor's account

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "region": "us-east-1",
            "endpoint_url": self.endpoint,
            "role_arn": ANCHOR_ROLE,
            "retain_days": 30,
            **extra,
        }

    def anchors_config(self, tsa_urls: list[str] | None = None, **extra: Any) -> AnchorsConfig:
        return AnchorsConfig.model_validate({"tsa": [{"url": u} for u in tsa_urls or []], "s3": self.config(**extra)})

    def object_keys(self) -> list[str]:
        out = self.s3.list_object_versions(Bucket=self.bucket, Prefix=self.prefix + "/")
        return sorted({v["Key"] for v in out.get("Versions", [])})


def auditor_session(endpoint: str) -> boto3.Session:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=ANCHOR_ROLE, RoleSessionName="auditor")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


@pytest.fixture
def anchor_bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> AnchorBucket:
    """A fresh Object Lock bucket in the auditor's account (moto keeps a locked version forever)."""
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    s3 = auditor_session(moto_server).client("s3", endpoint_url=moto_server)
    name = f"anchors-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return AnchorBucket(endpoint=moto_server, bucket=name, prefix="posture", s3=s3)


def both_clis(bundle: Path, args: Sequence[str], blockdir: Path) -> tuple[int, list[str], str]:
    """`posture-agent evidence verify` and `python -m posture_verify` (only its own dependencies
    importable) on one bundle: the same exit status, problems and closing line. Returns them."""
    from tests.contract.test_verifier_standalone import BLOCKER

    (blockdir / "sitecustomize.py").write_text(BLOCKER)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(blockdir), str(ROOT / "deploy" / "verifier")]),
        "PYTHONNOUSERSITE": "1",
    }
    alone = subprocess.run(
        [sys.executable, "-m", "posture_verify", str(bundle), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    agent = subprocess.run(
        [str(AGENT_CLI), "evidence", "verify", str(bundle), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in alone.stderr + agent.stderr, alone.stderr + agent.stderr
    lines = alone.stdout.splitlines()
    assert agent.returncode == alone.returncode, (agent.stdout, agent.stderr, alone.stdout, alone.stderr)
    agent_problems = [x.removeprefix("FAIL ") for x in agent.stderr.splitlines() if x.startswith("FAIL ")]
    assert agent_problems == lines[:-1], (agent_problems, lines)
    assert agent.stdout.strip() == lines[-1]
    return alone.returncode, lines[:-1], alone.stderr


def anchored(
    store: Store, anchors: AnchorsConfig, checkpoints: int = 3, *, at: datetime | None = None, key: Signer | None = None
) -> list[dict[str, Any]]:
    """The seeded history, then ``checkpoints`` checkpoints each anchored right away, as the daemon
    does; ``at``: the agent's clock (default: the real one)."""
    seed(store)
    anchorer = Anchorer(store, anchors)
    rows = []
    try:
        for i in range(checkpoints):
            when = (at + i * timedelta(minutes=20)) if at is not None else utcnow()
            cycle(store, when, [bucket("b0"), bucket("b1")])
            rows.append(checkpoint_now(store, when, key))
            result = anchorer.run(now=when)
            assert result.failed == 0 and result.anchored >= 1, result
    finally:
        anchorer.close()
    return rows
