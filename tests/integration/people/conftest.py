"""The identity sources of the demo (Okta, Google Workspace, GitHub, Entra ID over their wire fakes, IAM
users in moto), collected once per module by the real pipeline into a real store; the people source
then reads that store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from posture_demo import people_data
from posture_demo.fake_azure import FakeAzure, demo_tenant
from posture_demo.fake_github import FakeGitHub
from posture_demo.fake_googleworkspace import FakeWorkspace, demo_domain
from posture_demo.fake_okta import FakeOkta

from agent.config import Config
from agent.cycle import CycleResult, Pipeline
from agent.store import Store


@dataclass
class Estate:
    """The identity sources' config data, the store holding their first cycle, and the demo's files."""

    db: str
    sources: list[dict[str, Any]]
    files: Path
    github: FakeGitHub

    def config(self, *people: dict[str, Any], extra_sources: tuple[dict[str, Any], ...] = ()) -> Config:
        return Config.model_validate({"database": self.db, "sources": [*self.sources, *extra_sources, *people]})

    def people(self, **extra: Any) -> dict[str, Any]:
        return people_data.source_config(self.files, **extra)

    def run(self, cfg: Config, name: str) -> CycleResult:
        store = Store(self.db)
        try:
            return Pipeline(cfg, store).run_cycle(cfg.source(name))
        finally:
            store.close()


def _seed_iam(endpoint: str) -> None:
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint)
    for name, mfa in (("alice", True), ("bob", False), ("carol", True)):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Demo-Passw0rd!-long")
        if mfa:
            dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{name}-mfa")["VirtualMFADevice"]
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=dev["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
    iam.create_user(UserName="ci-deploy")
    iam.create_access_key(UserName="ci-deploy")


@pytest.fixture(scope="module")
def estate(moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    import httpx

    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(var, None)
    httpx.post(f"{moto_server}/moto-api/reset", timeout=30).raise_for_status()
    _seed_iam(moto_server)
    okta = FakeOkta(page_size=200).start()
    workspace = FakeWorkspace(demo_domain(), page_size=500).start()
    github = FakeGitHub(page_size=100).start()
    azure = FakeAzure(demo_tenant(), page_size=100).start()
    tmp = tmp_path_factory.mktemp("people")
    try:
        sources = [
            okta.source_config("okta"),
            workspace.source_config("workspace"),
            github.source_config("github"),
            azure.source_config("entra", arm=False),
            {
                "name": "aws",
                "provider": "aws",
                "regions": ["us-east-1"],
                "services": ["iam"],
                "endpoint_url": moto_server,
            },
        ]
        est = Estate(db=f"sqlite:///{tmp / 'posture.db'}", sources=sources, files=tmp / "files", github=github)
        cfg = est.config()
        store = Store(est.db)
        store.upgrade()
        pipeline = Pipeline(cfg, store)
        for src in cfg.sources:
            result = pipeline.run_cycle(src)
            assert result.ok and not result.error, (src.name, result.error)
        store.close()
        yield est
    finally:
        okta.stop()
        workspace.stop()
        github.stop()
        azure.stop()
        os.environ.clear()
        os.environ.update(saved)
