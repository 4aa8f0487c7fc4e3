"""`posture-agent demo`: a fake AWS organisation on loopback and the real agent watching it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from agent.config import Config, parse_duration
from agent.cycle import Pipeline
from agent.daemon import Daemon
from agent.logs import configure_logging
from agent.store import Store

__all__ = ["DemoCloud", "run_demo"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoCloud:
    """Every provider on loopback: moto (with a proxy for what moto lacks) and a seeded AWS
    organisation, a fake GCP organisation (Cloud Asset API), a fake Azure tenant (Entra ID login,
    Graph and ARM over TLS) with Intune devices, a fake Fleet server with laptops, and the
    organisation's servers through SSM (inventory and Patch Manager served by the proxy)."""

    def __init__(self) -> None:
        # Process-local dummy credentials: the demo must never reach a real cloud account.
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            os.environ.pop(var, None)
        os.environ.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
                          AWS_DEFAULT_REGION="us-east-1", MOTO_EC2_LOAD_DEFAULT_AMIS="false")
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        self._proxy: Any = None
        self._azure: Any = None
        self.endpoint = ""
        self.org: Any = None
        self.other_sources: list[dict[str, Any]] = []  # GCP, Azure, endpoint sources as config data

    def start(self) -> None:
        from agent.demo import fake_azure, fake_devices, fake_gcp
        from agent.demo.awsproxy import AwsProxy
        from agent.demo.seed import seed_organisation

        self._moto.start()
        host, port = self._moto.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        # moto's state is per process: start from an empty cloud even if moto ran here before
        httpx.post(f"{moto_url}/moto-api/reset", timeout=30).raise_for_status()
        self.org = seed_organisation(moto_url)
        self._proxy = AwsProxy(moto_url, **self.org.proxy_fixtures())
        self._proxy.start()
        self.endpoint = self._proxy.url
        self._azure = fake_azure.FakeAzure(fake_azure.demo_tenant()).start()
        self.other_sources = [fake_gcp.source_config(fake_gcp.start()), self._azure.source_config(),
                              self._azure.intune_config(), *fake_devices.source_configs(fake_devices.start()),
                              fake_devices.ssm_source_config(self.endpoint)]

    def stop(self) -> None:
        from agent.demo import fake_devices, fake_gcp

        fake_gcp.stop()
        fake_devices.stop()
        if self._azure is not None:
            self._azure.stop()
        if self._proxy is not None:
            self._proxy.stop()
        self._moto.stop()


def demo_config(endpoint: str, db_url: str, listen: str, interval: str,
                other_sources: Sequence[dict[str, Any]] = ()) -> Config:
    """The demo's configuration: every source collected every ``interval``."""
    schedule = {"interval": interval}
    aws = {"name": "demo-org", "provider": "aws", "organization": True,
           "role_name": "OrganizationAccountAccessRole", "regions": ["us-east-1", "eu-west-1"],
           "endpoint_url": endpoint, "schedule": schedule}
    return Config.model_validate({
        "database": db_url,
        "listen": listen,
        "workers": 3,
        "scope": {"frameworks": ["soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa"],
                  "soc2_categories": ["security", "availability", "confidentiality"]},
        "sources": [aws, *({**src, "schedule": schedule} for src in other_sources)],
    })


def run_demo(*, interval: str, drift_every: str, listen: str, data_dir: Path | None) -> int:
    from agent.demo.seed import Drifter

    configure_logging("info", "auto")
    base = data_dir or Path(os.environ.get("POSTURE_DATA_DIR") or Path.home() / ".local/share/posture-agent")
    demo_dir = base / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # a new fake organisation: start a new store too
    demo_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{demo_dir / 'posture.db'}"
    print("posture-agent demo: starting a fake AWS organisation (moto) on loopback...", flush=True)
    cloud = DemoCloud()
    cloud.start()
    cfg = demo_config(cloud.endpoint, db_url, listen, interval, cloud.other_sources)
    store = Store(db_url)
    store.upgrade()
    daemon = Daemon(cfg, Pipeline(cfg, store))
    daemon.start()
    host, port = daemon.http.address
    members = ", ".join(cloud.org.members.values())
    print(f"""
  fake AWS endpoint : {cloud.endpoint}  (management {cloud.org.management}, members {members})
  other sources     : {', '.join(s.name for s in cfg.sources[1:])}  (fake GCP, Azure/Entra ID, Intune, Fleet)
  metrics           : http://{host}:{port}/metrics
  health            : http://{host}:{port}/healthz  http://{host}:{port}/readyz
  evidence store    : {demo_dir / 'posture.db'}
  try               : posture-agent findings --status fail --db {db_url}
                      posture-agent controls --framework soc2 --db {db_url}
  collection every {interval}; a drift (bucket made public, MFA removed, then fixed) every {drift_every}.
  Stop with Ctrl-C.
""", flush=True)
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
        cloud.stop()
        store.close()
    return 0
