"""The daemon and the CLI count the same SOC 2 requirements in scope: posture_requirement_status as the
daemon exports it, `controls` and `frameworks` with the same config, all from
agent.posture.requirements_in_scope; for the default scope and with extra SOC 2 categories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from agent.cli.main import app
from agent.config import Config
from agent.cycle import Pipeline
from agent.mappings import load_mappings
from agent.posture import requirements_in_scope, soc2_categories
from agent.store import Store


def _exported(pipeline: Pipeline, framework: str) -> set[str]:
    """The requirements of ``framework`` in the daemon's /metrics (posture_requirement_status)."""
    text = generate_latest(pipeline.metrics.registry).decode()
    return {
        s.labels["requirement"]
        for fam in text_string_to_metric_families(text)
        if fam.name == "posture_requirement_status"
        for s in fam.samples
        if s.labels["framework"] == framework
    }


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(
    "scope,expected",
    [
        ({}, ("security",)),  # the default config: SOC 2, security
        ({"soc2_categories": ["privacy", "availability"]}, ("security", "privacy", "availability")),
    ],
)
def test_daemon_and_cli_count_the_same_soc2_requirements(
    scope: dict[str, Any], expected: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTURE_CONFIG", raising=False)
    db = f"sqlite:///{tmp_path / 'posture.db'}"
    doc: dict[str, Any] = {"database": db, **({"scope": scope} if scope else {})}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(doc))
    cfg = Config.model_validate(doc)
    assert soc2_categories(cfg.scope.soc2_categories) == expected

    store = Store(db)
    store.upgrade()
    try:
        daemon = _exported(Pipeline(cfg, store), "soc2")  # the posture is exported from the start
    finally:
        store.close()

    controls = _cli("controls", "--framework", "soc2", "--config", str(config))
    frameworks = _cli("frameworks", "--config", str(config))
    soc2 = next(f for f in frameworks["frameworks"] if f["id"] == "soc2")
    mappings = load_mappings()
    in_scope = {r.id for r in requirements_in_scope(mappings, "soc2", expected)}

    assert daemon == {r["id"] for r in controls["requirements"]} == in_scope
    assert controls["summary"]["total"] == soc2["requirements"] == len(in_scope)
    assert tuple(controls["scope"]["soc2_categories"]) == tuple(frameworks["soc2_categories"]) == expected
    security = requirements_in_scope(mappings, "soc2", ())
    if scope:  # the extra categories are counted
        assert len(in_scope) > len(security)
    else:  # and without a config the CLI's scope is the default config's
        alone = _cli("controls", "--framework", "soc2", "--db", db)
        assert {r["id"] for r in alone["requirements"]} == daemon == {r.id for r in security}
