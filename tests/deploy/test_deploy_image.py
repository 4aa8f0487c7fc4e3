"""The Dockerfile: base images pinned by digest, OCI labels, and the config baked into the image
passing `posture-agent config validate` with the secrets it names given."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.deploy.deploy_kit import ROOT, config_validate, secret_refs

DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def instructions(keyword: str) -> list[str]:
    """The arguments of every instruction of that keyword, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    return [m.group(1).strip() for m in re.finditer(rf"^{keyword}\s+(.+)$", text, flags=re.M)]


def test_every_stage_starts_from_python_3_11_slim_pinned_by_digest() -> None:
    bases = [line.split()[0] for line in instructions("FROM")]
    assert len(bases) == 2
    for base in bases:
        assert re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base), base
    assert len(set(bases)) == 1  # the venv built in the first stage runs on the same Python
    digest = bases[0].split("@")[1]
    labels = " ".join(instructions("LABEL"))
    assert f'org.opencontainers.image.base.digest="{digest}"' in labels


def test_oci_labels() -> None:
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[a-z.]+)="([^"]*)"', " ".join(instructions("LABEL"))))
    assert labels["org.opencontainers.image.title"] == "posture-agent"
    assert labels["org.opencontainers.image.description"]
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["license"]
    for label, arg in (("version", "VERSION"), ("revision", "REVISION"), ("created", "CREATED"), ("source", "SOURCE")):
        assert labels[f"org.opencontainers.image.{label}"] == f"${{{arg}}}"
    args = dict(a.split("=", 1) if "=" in a else (a, "") for a in instructions("ARG"))
    assert args["VERSION"] == PYPROJECT["version"]  # the default names the version it builds
    assert {"REVISION", "CREATED", "SOURCE"} <= set(args)


def test_baked_in_config_passes_config_validate(tmp_path: Path) -> None:
    (copy,) = [line for line in instructions("COPY") if line.endswith(" /etc/posture-agent/config.yaml")]
    text = (ROOT / copy.split()[0]).read_text()
    assert "POSTURE_CONFIG=/etc/posture-agent/config.yaml" in DOCKERFILE
    refs = secret_refs(text)
    assert refs and {kind for kind, _ in refs} == {"env"}  # a container gets them with -e
    env = {name: "dummy-secret" for _, name in refs}
    out = config_validate(text, tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    out = config_validate(text, tmp_path / "without")  # and names what is missing without them
    assert out.returncode == 2 and all(name in out.stdout + out.stderr for name in env)
