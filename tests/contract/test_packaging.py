"""What the container and the package promise: entrypoint, paths, entry points, CI wiring."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_entrypoint_is_the_installed_console_script() -> None:
    text = dockerfile()
    assert 'ENTRYPOINT ["posture-agent", "run"]' in text
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["posture-agent"] == "agent.cli.main:entry"
    assert (Path(sys.executable).parent / "posture-agent").exists()


def test_image_copies_only_paths_that_exist() -> None:
    for src in re.findall(r"^COPY (?!--from)(\S+)", dockerfile(), flags=re.M):
        assert (ROOT / src).exists(), f"Dockerfile copies missing path {src}"


def test_container_is_non_root_read_only_friendly_and_health_checked() -> None:
    text = dockerfile()
    assert re.search(r"^USER 10001", text, flags=re.M)
    assert 'VOLUME ["/var/lib/posture-agent"]' in text
    assert "POSTURE_DATA_DIR=/var/lib/posture-agent" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert text.count("FROM ") == 2  # multi-stage


def test_example_config_in_image_is_valid() -> None:
    from agent.config import load_config

    cfg = load_config(ROOT / "deploy" / "config.example.yaml")
    assert cfg.listen.startswith("0.0.0.0:")  # reachable from outside the container


def test_entry_points_registered() -> None:
    assert "aws" in {ep.name for ep in entry_points(group="posture_agent.checks")}
    assert "aws" in {ep.name for ep in entry_points(group="posture_agent.collectors")}


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme
    assert "make demo" in readme
