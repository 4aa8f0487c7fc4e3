"""`posture-agent demo`: a fake AWS organisation on loopback and the real agent watching it.

Its evidence is anchored as an auditor would ask (docs/evidence.md, "Anchoring"): each checkpoint is
timestamped by a local RFC 3161 TSA (OpenSSL's, deploy/demo/posture_demo/tsa.py, when openssl is installed) and
copied to an S3 bucket with Object Lock in an "auditor" account of its moto."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from agent.config import Config, parse_duration
from agent.cycle import Pipeline
from agent.daemon import Daemon
from agent.logs import configure_logging
from agent.store import Store

__all__ = [
    "DEMO_ANCHOR_ACCOUNT",
    "DEMO_ANCHOR_BUCKET",
    "DEMO_USERS",
    "DemoCloud",
    "command",
    "console_users",
    "demo_config",
    "run_demo",
]

# the auditor's account and bucket in the demo's moto: not a member of the demo organisation, so the
# collector never sees it; the agent writes there through a role, as it would cross-account
DEMO_ANCHOR_ACCOUNT = "999988887777"
DEMO_ANCHOR_BUCKET = "posture-demo-anchors"
DEMO_ANCHOR_PREFIX = "posture-agent"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoCloud:
    """Every provider on loopback: moto (with a proxy for what moto lacks) and a seeded AWS
    organisation, a fake GCP organisation (Cloud Asset API), a fake Azure tenant (Entra ID login,
    Graph and ARM over TLS) with Intune devices, a fake Okta org (management API over TLS), a fake Google
    Workspace (OAuth token endpoint and Directory API over TLS, a throwaway service-account key), a fake
    GitHub organisation (REST API v3 with its paging and rate-limit headers, read with a token), a fake
    Fleet server with laptops, the organisation's servers through SSM (inventory and Patch Manager
    served by the proxy), and a staff roster with its identity map for the people ledger
    (posture_demo/people_data.py, written to a temporary directory)."""

    def __init__(self) -> None:
        # Process-local dummy credentials: the demo must never reach a real cloud account.
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            os.environ.pop(var, None)
        os.environ.update(
            AWS_ACCESS_KEY_ID="demo",
            AWS_SECRET_ACCESS_KEY="demo",
            AWS_DEFAULT_REGION="us-east-1",
            MOTO_EC2_LOAD_DEFAULT_AMIS="false",
        )
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        self._proxy: Any = None
        self._azure: Any = None
        self._okta: Any = None
        self._workspace: Any = None
        self._github: Any = None
        self.tsa: Any = None  # posture_demo.tsa.LocalTsa, None without openssl
        self.moto_url = ""
        self.endpoint = ""
        self.org: Any = None
        self.other_sources: list[dict[str, Any]] = []  # GCP, Azure, endpoint sources as config data

    def start(self) -> None:
        from posture_demo import (
            fake_azure,
            fake_devices,
            fake_gcp,
            fake_github,
            fake_googleworkspace,
            fake_okta,
            people_data,
        )
        from posture_demo.awsproxy import AwsProxy
        from posture_demo.seed import seed_organisation

        self._moto.start()
        host, port = self._moto.get_host_and_port()
        moto_url = self.moto_url = f"http://{host}:{port}"
        # moto's state is per process: start from an empty cloud even if moto ran here before
        httpx.post(f"{moto_url}/moto-api/reset", timeout=30).raise_for_status()
        self.org = seed_organisation(moto_url)
        self._start_witnesses()
        self._proxy = AwsProxy(moto_url, **self.org.proxy_fixtures())
        self._proxy.start()
        self.endpoint = self._proxy.url
        self._azure = fake_azure.FakeAzure(fake_azure.demo_tenant()).start()
        self._okta = fake_okta.FakeOkta().start()
        self._workspace = fake_googleworkspace.FakeWorkspace().start()  # its key: made now, in its temp dir
        self._github = fake_github.FakeGitHub().start()
        self.other_sources = [
            fake_gcp.source_config(fake_gcp.start()),
            self._azure.source_config(),
            self._azure.intune_config(),
            self._okta.source_config(),
            self._workspace.source_config(),
            self._github.source_config(),
            *fake_devices.source_configs(fake_devices.start()),
            fake_devices.ssm_source_config(self.endpoint),
            # last: the people ledger reads what the identity sources above stored (the daemon waits for them)
            people_data.source_config(Path(tempfile.mkdtemp(prefix="demo-people-"))),
        ]

    def _start_witnesses(self) -> None:
        """The auditor's Object Lock bucket in moto, and a local TSA when openssl is installed."""
        import boto3

        from posture_demo import tsa

        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=self.moto_url)
        creds = sts.assume_role(RoleArn=self.anchor_role, RoleSessionName="demo-auditor")["Credentials"]
        boto3.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=self.moto_url,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).create_bucket(Bucket=DEMO_ANCHOR_BUCKET, ObjectLockEnabledForBucket=True)
        if tsa.available():
            self.tsa = tsa.LocalTsa("posture-agent demo TSA").start()
        else:
            print(
                "posture-agent demo: openssl is not installed, so the demo runs without an RFC 3161 timestamping "
                "authority; checkpoints are witnessed by the Object Lock bucket only",
                flush=True,
            )

    @property
    def anchor_role(self) -> str:
        return f"arn:aws:iam::{DEMO_ANCHOR_ACCOUNT}:role/PostureAgentAnchor"

    @property
    def anchor_url(self) -> str:
        return f"s3://{DEMO_ANCHOR_BUCKET}/{DEMO_ANCHOR_PREFIX}"

    def anchors(self) -> dict[str, Any]:
        """The demo's evidence.anchors: its TSA (when running) and the auditor's bucket."""
        return {
            "every": "10s",
            "tsa": [{"url": self.tsa.url}] if self.tsa is not None else [],
            "s3": {
                "bucket": DEMO_ANCHOR_BUCKET,
                "prefix": DEMO_ANCHOR_PREFIX,
                "region": "us-east-1",
                "endpoint_url": self.moto_url,
                "role_arn": self.anchor_role,
                "retain_days": 400,
            },
        }

    def stop(self) -> None:
        from posture_demo import fake_devices, fake_gcp

        if self.tsa is not None:
            self.tsa.stop()
        fake_gcp.stop()
        fake_devices.stop()
        if self._azure is not None:
            self._azure.stop()
        if self._okta is not None:
            self._okta.stop()
        if self._workspace is not None:
            self._workspace.stop()
        if self._github is not None:
            self._github.stop()
        if self._proxy is not None:
            self._proxy.stop()
        self._moto.stop()


def demo_config(
    endpoint: str,
    db_url: str,
    listen: str,
    interval: str,
    other_sources: Sequence[dict[str, Any]] = (),
    anchors: dict[str, Any] | None = None,
    signing_key: str | None = None,
    alert_channels: Sequence[dict[str, Any]] = (),
    console_users: Sequence[dict[str, Any]] = (),
) -> Config:
    """The demo's configuration: every source collected every ``interval``; ``anchors``: its
    evidence.anchors (DemoCloud.anchors()); ``signing_key``: a secret reference to its Ed25519 key;
    ``alert_channels``: its alerts.channels (AlertSink.channel()); ``console_users``: its web console's
    users (console_users()), the console then served next to /metrics."""
    schedule = {"interval": interval}
    aws = {
        "name": "demo-org",
        "provider": "aws",
        "organization": True,
        "role_name": "OrganizationAccountAccessRole",
        "regions": ["us-east-1", "eu-west-1"],
        "endpoint_url": endpoint,
        "schedule": schedule,
    }
    return Config.model_validate(
        {
            "database": db_url,
            "listen": listen,
            "workers": 3,
            "scope": {
                "frameworks": ["soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa"],
                "soc2_categories": ["security", "availability", "confidentiality"],
            },
            "sources": [aws, *({**src, "schedule": schedule} for src in other_sources)],
            # plain HTTP sessions are allowed on loopback only: elsewhere the console needs TLS in front
            **(
                {"console": {"enabled": True, "users": list(console_users), "secure_cookies": not _loopback(listen)}}
                if console_users
                else {}
            ),
            # one digest per source for the first cycle's many new failures, single alerts for the drift
            **({"alerts": {"channels": list(alert_channels), "digest_threshold": 5}} if alert_channels else {}),
            # checkpoints every 2 minutes, each anchored within seconds: a bundle exported soon after the start
            # already has witnessed checkpoints
            **(
                {
                    "evidence": {
                        "checkpoint_every": "2m",
                        "anchors": anchors,
                        **({"signing_key": signing_key} if signing_key else {}),
                    }
                }
                if anchors
                else {}
            ),
        }
    )


# Known demo passwords (printed by the demo; hashed with scrypt when it starts, never stored in clear)
DEMO_USERS = (
    ("demo-operator", "operator", "demo operator password"),
    ("demo-auditor", "auditor", "demo auditor password"),
)


def _loopback(listen: str) -> bool:
    from agent.console.register import is_loopback

    return is_loopback(listen.rpartition(":")[0].strip("[]"))


def console_users(today: date) -> list[dict[str, Any]]:
    """The demo console's operator and auditor (SOC 2, a period around today), their passwords hashed now."""
    from agent.console.passwords import hash_password

    out: list[dict[str, Any]] = []
    for name, role, password in DEMO_USERS:
        user: dict[str, Any] = {"name": name, "role": role, "password_hash": hash_password(password)}
        if role == "auditor":
            user |= {"period": {"from": today - timedelta(days=30), "to": today + timedelta(days=60)}}
            user |= {"frameworks": ["soc2"]}
        out.append(user)
    return out


def command(name: str) -> str:
    """How to type ``name`` (posture-agent, posture-verify) so that this installation's runs: the bare name
    when PATH finds this one (an activated virtualenv, an installed package), else its path, relative to the
    current directory when under it (``.venv/bin/posture-agent``). Found next to the running program
    (sys.argv[0]) or the interpreter (sys.executable), whose directory holds a virtualenv's scripts."""
    exe = _installed(name)
    if exe is None:
        return name
    found = shutil.which(name)
    if found is not None and os.path.samefile(found, exe):
        return name
    return shlex.quote(_shown(exe))


def _installed(name: str) -> Path | None:
    dirs = [Path(os.path.abspath(sys.executable)).parent]  # not resolved: a venv's python is a symlink
    if sys.argv and Path(sys.argv[0]).name.startswith("posture-"):
        dirs.insert(0, Path(os.path.abspath(sys.argv[0])).parent)
    for d in dirs:
        exe = d / name
        if exe.is_file() and os.access(exe, os.X_OK):
            return exe
    return None


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when under it (with ./ when in it), else absolute."""
    try:
        rel = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(rel) if len(rel.parts) > 1 else f"./{rel}"


def _activate_hint(agent: str) -> str:
    """A line on activating the virtualenv, when the commands are printed with their path."""
    exe = _installed("posture-agent")
    if exe is None or agent == "posture-agent":
        return ""
    activate = exe.parent / "activate"
    how = f"; or first: source {shlex.quote(_shown(activate))}" if activate.is_file() else ""
    return f"  (commands are printed with their path, as their directory is not on PATH{how})\n"


def run_demo(*, interval: str, drift_every: str, listen: str, data_dir: Path | None) -> int:
    from posture_demo.alert_sink import DEMO_CHANNEL, AlertSink
    from posture_demo.seed import Drifter

    configure_logging("info", "auto")
    base = data_dir or Path(os.environ.get("POSTURE_DATA_DIR") or Path.home() / ".local/share/posture-agent")
    demo_dir = base / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # a new fake organisation: start a new store too
    demo_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{demo_dir / 'posture.db'}"
    print("posture-agent demo: starting a fake AWS organisation (moto) on loopback...", flush=True)
    cloud = DemoCloud()
    cloud.start()
    sink = AlertSink(demo_dir / "alerts.jsonl").start()
    key_ref, fingerprint = _demo_signing_key(demo_dir)
    cfg = demo_config(
        cloud.endpoint,
        db_url,
        listen,
        interval,
        cloud.other_sources,
        anchors=cloud.anchors(),
        signing_key=key_ref,
        alert_channels=[sink.channel(sink.write_secret(demo_dir / "webhook-secret"))],
        console_users=console_users(datetime.now(UTC).date()),
    )
    config_file = _write_config(cfg, demo_dir)
    witnesses = _write_witness_files(cloud, demo_dir, db_url, key_ref, fingerprint)
    store = Store(db_url)
    store.upgrade()
    daemon = Daemon(cfg, Pipeline(cfg, store))
    daemon.start()
    host, port = daemon.http.address
    members = ", ".join(cloud.org.members.values())
    agent, db, config = command("posture-agent"), shlex.quote(db_url), shlex.quote(str(config_file))
    print(
        f"""
  fake AWS endpoint : {cloud.endpoint}  (management {cloud.org.management}, members {members})
  other sources     : {", ".join(s.name for s in cfg.sources[1:])}  (fakes on loopback)
  metrics           : http://{host}:{port}/metrics
  health            : http://{host}:{port}/healthz  http://{host}:{port}/readyz
  web console       : http://{host}:{port}/console/  (read-only; sign in as {_logins()})
  evidence store    : {demo_dir / "posture.db"}
  config            : {config_file}  (SOC 2 categories {", ".join(cfg.scope.soc2_categories)})
  alerts            : a signed webhook to a receiver of the demo's, {sink.url}, which checks each
                      signature and prints what it receives here ("alert received"), also kept in
                      {demo_dir / "alerts.jsonl"}
  try               : {agent} findings --status fail --db {db}
                      {agent} controls --framework soc2 --config {config}
                      {agent} alerts pending --db {db}
                      {agent} alerts test {DEMO_CHANNEL} --config {config}
  collection every {interval}; a drift (bucket made public, MFA removed, then fixed) every {drift_every}.
{witnesses}
{_activate_hint(agent)}  Stop with Ctrl-C.
""",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    drifter = Drifter(cloud.org)
    period = parse_duration(drift_every).total_seconds()
    try:
        while not stop.wait(period):
            try:
                drifter.apply_next()
            except Exception as exc:  # the demo keeps going even if one change fails
                print(f"drift step failed: {exc}", flush=True)
    finally:
        daemon.stop()
        sink.stop()
        cloud.stop()
        store.close()
    return 0


def _logins() -> str:
    return " or ".join(f"{name} / {password!r}" for name, _, password in DEMO_USERS)


def _write_config(cfg: Config, demo_dir: Path) -> Path:
    """The demo's config as a file, for the commands that take --config (its scope, its alert channel)."""
    import yaml

    path = demo_dir / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True), sort_keys=False))
    return path


def _demo_signing_key(demo_dir: Path) -> tuple[str, str]:
    """The demo's Ed25519 signing key (made once, kept with its store): its reference and fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = demo_dir / "evidence-signing.pem"
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"file:{path}", hashlib.sha256(raw).hexdigest()


def _write_witness_files(cloud: DemoCloud, demo_dir: Path, db_url: str, key_ref: str, fingerprint: str) -> str:
    """What an auditor needs to check the demo's evidence: the key's fingerprint, the TSA's root
    certificate and a config for `evidence export`; returns the lines the demo prints about them."""
    import yaml

    config = demo_dir / "evidence.yaml"
    config.write_text(
        yaml.safe_dump({"database": db_url, "evidence": {"anchors": cloud.anchors(), "signing_key": key_ref}})
    )
    creds = "AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo"
    agent, verify = command("posture-agent"), command("posture-verify")
    tsa_cert = ""
    if cloud.tsa is not None:
        root = cloud.tsa.write_ca(demo_dir / "tsa-root.pem")
        tsa_cert = f" --tsa-cert {shlex.quote(str(root))}"
        tsa_line = f"RFC 3161 TSA {cloud.tsa.url} (OpenSSL's `openssl ts`; its root CA: {root})"
    else:
        tsa_line = "none: openssl is not installed (checkpoints are witnessed by the bucket only)"
    return f"""  witnesses         : timestamps: {tsa_line}
                      copies: {cloud.anchor_url} (Object Lock, compliance mode; moto account {DEMO_ANCHOR_ACCOUNT})
  verify a bundle   : while the demo runs (the bucket lives in its moto); a checkpoint every 2 minutes, each
                      witnessed within seconds
                      {creds} {agent} evidence export --config {shlex.quote(str(config))} -o bundle.zip
                      {creds} {verify} bundle.zip --key-fingerprint {fingerprint}{tsa_cert} \\
                          --anchor-bucket {cloud.anchor_url} \\
                          --s3-endpoint {cloud.moto_url}"""
