"""Helpers of the deploy tests: the tools they run (kubectl, checkov, promtool), an overlay rendered,
and `posture-agent config validate` run on a config as its container would see it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("single", "scale")
BIN = Path(sys.executable).parent
SECRET_REF = re.compile(r"\b(env|file):(/[^\s'\"#]+|[A-Za-z_][A-Za-z0-9_]*)")


def need_tool(name: str, found: str | None, how: str) -> str:
    """The tool's path; without it, a loud skip, or a failure when CI=true."""
    if found:
        return found
    message = f"{name} is not installed ({how})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(f"LOUD SKIP: {message}")


def kubectl() -> str:
    return need_tool("kubectl", shutil.which("kubectl"), "`make kubectl` installs the Debian package")


def checkov() -> str:
    """checkov from its own virtualenv inside ours (`make checkov`), else from PATH."""
    candidates = [BIN.parent / "checkov" / "bin" / "checkov", ROOT / ".venv" / "checkov" / "bin" / "checkov"]
    found = next((str(c) for c in candidates if c.is_file()), None) or shutil.which("checkov")
    return need_tool("checkov", found, "`make checkov` installs it into .venv/checkov")


def promtool() -> str:
    return need_tool("promtool", shutil.which("promtool"), "`make prometheus` installs the Debian package")


def render(overlay: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` of an overlay: its objects."""
    out = subprocess.run(
        [kubectl(), "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def secret_refs(config_text: str) -> list[tuple[str, str]]:
    """Every secret reference of a config: (kind, target), e.g. ("file", "/run/secrets/x")."""
    refs: list[tuple[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            m = SECRET_REF.fullmatch(node)
            if m:
                refs.append((m.group(1), m.group(2)))

    walk(yaml.safe_load(config_text))
    return refs


def config_validate(
    config_text: str, tmp_path: Path, *, files_at: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`posture-agent config validate` on a config as its container sees it: the secret files that
    the container has under ``files_at`` are made (with dummy contents) in a temporary directory and
    the config's references point there; ``env`` is the container's environment (dummy values), and
    no POSTURE_* variable of this process leaks in."""
    text = config_text
    if files_at is not None:
        mount = tmp_path / "secrets"
        mount.mkdir(parents=True)
        for kind, target in secret_refs(config_text):
            if kind == "file" and target.startswith(files_at.rstrip("/") + "/"):
                (mount / target[len(files_at.rstrip("/")) + 1 :]).write_text("dummy\n")
        text = text.replace(f"file:{files_at.rstrip('/')}/", f"file:{mount}/")
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(text)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    environ.update(env or {})
    return subprocess.run(
        [str(BIN / "posture-agent"), "config", "validate", str(path)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
