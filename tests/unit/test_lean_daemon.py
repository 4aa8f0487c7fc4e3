"""The daemon's process stays lean (issue #17): building the pipeline over every provider's sources loads
no cloud SDK, and a collection that cannot run in a child (a source read from the agent's own store, a
collector another interpreter cannot import) runs in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.models import Snapshot
from collectors import CollectContext

ROOT = Path(__file__).resolve().parents[2]

SOURCES = """
sources:
  - {name: a, provider: aws, regions: [us-east-1]}
  - {name: g, provider: gcp, scope: organizations/1}
  - {name: z, provider: azure, tenant_id: 7e1f0c1a-1b2c-4d3e-8f90-a1b2c3d4e5f6, auth: client_secret,
     client_id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9, client_secret: env:AZ_SECRET}
  - {name: f, provider: endpoints, kind: fleet, fleet: {url: "https://fleet.example", token: env:FLEET}}
  - {name: s, provider: endpoints, kind: ssm, ssm: {regions: [us-east-1]}}
  - {name: p, provider: endpoints, kind: push, push: {shared_key: env:PUSH_KEY}}
"""

SDKS = ("boto3", "botocore", "google.api_core", "google.cloud", "google.protobuf", "azure.core", "azure.identity")


def test_the_pipeline_over_every_provider_loads_no_cloud_sdk() -> None:
    code = (
        "import sys\n"
        "from agent.config import parse_config\n"
        "from agent.cycle import Pipeline\n"
        "import agent.daemon, agent.stages.collect_child\n"
        f"cfg = parse_config({SOURCES!r}, env={{}})\n"
        "Pipeline(cfg, None)\n"
        f"print(sorted(m for m in {SDKS!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


seen: list[tuple[str, int]] = []


def note(source: object, ctx: CollectContext) -> list[Snapshot]:
    seen.append((getattr(source, "name", ""), os.getpid()))
    return []


def test_sources_a_child_cannot_collect_are_collected_in_process() -> None:
    cfg = parse_config(SOURCES, env={})
    by_name = {s.name: s for s in cfg.sources}
    seen.clear()
    push = Pipeline(cfg, None, collectors={"endpoints": note})
    push.run_cycle(by_name["p"], in_child=True)  # the push source reads the agent's own store
    unimportable = Pipeline(cfg, None, collectors={"endpoints": lambda source, ctx: note(source, ctx)})
    unimportable.run_cycle(by_name["f"], in_child=True)  # a lambda: no other interpreter can import it
    assert seen == [("p", os.getpid()), ("f", os.getpid())]


def test_the_cli_reaches_a_command_without_the_store_the_checks_or_an_sdk() -> None:
    """`scan` starts its collection children before it loads the store, checks and mappings
    (agent/stages/collect_early.py); that only pays off while the CLI itself does not load them."""
    heavy = ("sqlalchemy", "alembic", "jsonschema", "httpx", "prometheus_client", *SDKS)
    code = f"import sys\nimport agent.cli.main\nprint(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_collection_child_loads_neither_the_config_model_nor_the_store() -> None:
    code = (
        "import sys\n"
        "import agent.stages.collect_child, agent.stages.collect, collectors.aws.config\n"
        "print(sorted(m for m in ('agent.config', 'sqlalchemy', 'yaml', 'jsonschema') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
