"""Wheels built offline from this repository (pip wheel, no build isolation: hatchling is a dev dependency)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(project: Path, out: Path) -> Path:
    """The wheel of the project at ``project``, built into ``out`` without the network."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(project),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="session")
def agent_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The agent's wheel (posture-agent), built once for the tests that look into it."""
    return build_wheel(ROOT, tmp_path_factory.mktemp("agent-wheel"))
