"""deploy/compose: the Compose file against the Compose Specification's JSON Schema (the copy that
check-jsonschema vendors, offline), its wiring (health checks behind every depends_on condition, the
shipped rules and dashboard mounted where Prometheus and Grafana look), no secret written in it, the
Prometheus config through promtool, and the agents' config through `posture-agent config validate`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.deploy_kit import BIN, ROOT, config_validate, promtool, secret_refs

COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
AGENTS = ("migrate", "scheduler", "worker")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_NAME = re.compile(r"PASS|PASSWORD|SECRET|TOKEN|AUTH|KEY", re.I)


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))  # PyYAML resolves the anchors and << merges


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} with the given variables (error: unset)."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    return INTERPOLATION.sub(one, value).replace("$$", "$")


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_matches_the_compose_specification(tmp_path: Path) -> None:
    out = check_jsonschema(COMPOSE)
    assert out.returncode == 0, out.stdout + out.stderr
    # the schema is really applied: a misspelt condition is refused
    broken = COMPOSE.read_text().replace("condition: service_healthy", "condition: service_healthyy", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    out = check_jsonschema(tmp_path / "compose.yaml")
    assert out.returncode == 1 and "service_healthyy" in out.stdout, out.stdout + out.stderr


def test_a_scheduler_two_workers_and_their_services() -> None:
    services = compose()["services"]
    assert set(services) == {*AGENTS, "postgres", "rabbitmq", "redis", "prometheus", "grafana"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["scheduler"].get("deploy", {}).get("replicas", 1) == 1
    for name in AGENTS:
        build = services[name]["build"]
        assert (COMPOSE_DIR / build["context"]).resolve() == ROOT and build["dockerfile"] == "Dockerfile"
    assert services["scheduler"]["command"][:2] == ["--role", "scheduler"]
    assert services["worker"]["command"][:2] == ["--role", "worker"]
    assert services["migrate"]["entrypoint"] == ["posture-agent", "db", "upgrade"]


def test_every_dependency_waits_on_a_health_check_or_a_finished_job() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            target = services[dependency]
            if how["condition"] == "service_healthy":
                assert "test" in target["healthcheck"] and not target["healthcheck"].get("disable"), (name, dependency)
            else:
                assert how["condition"] == "service_completed_successfully", (name, dependency)
                assert target["restart"] == "no", (name, dependency)
    for name in ("scheduler", "worker"):
        assert set(services[name]["depends_on"]) == {"migrate", "postgres", "rabbitmq", "redis"}
        assert "/healthz" in " ".join(services[name]["healthcheck"]["test"])
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}


def test_containers_are_read_only_and_unprivileged() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name == "rabbitmq":
            continue  # its entrypoint writes /etc/rabbitmq: the file says so
        assert service["read_only"] is True, name
    for name in AGENTS:
        assert services[name]["cap_drop"] == ["ALL"], name
        assert services[name]["security_opt"] == ["no-new-privileges:true"], name
        assert "user" not in services[name]  # the image's uid 10001
    backend = compose()["networks"]["backend"]
    assert backend["internal"] is True
    for name in ("postgres", "rabbitmq", "redis"):
        assert services[name]["networks"] == ["backend"] and "ports" not in services[name], name


def test_no_secret_is_written_in_the_compose_files() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for var, value in (service.get("environment") or {}).items():
            value = str(value)
            if SECRET_NAME.search(var):  # the whole value comes from .env
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*|:-)\}", value), f"{name}: {var}={value}"
            assert not re.search(r"://[^/@$]+:[^/@$]+@", value), f"{name}: {var}"  # a URL's password too
    example = (COMPOSE_DIR / ".env.example").read_text()
    for line in example.splitlines():
        if SECRET_NAME.search(line.split("=")[0]) and not line.startswith("#"):
            assert line.endswith("="), f".env.example gives a value: {line}"
    for secret in compose()["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (COMPOSE_DIR / ".gitignore").read_text().split()
    assert ".env" in ignored and "secrets/" in ignored


def test_the_shipped_rules_and_dashboard_are_mounted_where_they_are_read() -> None:
    services = compose()["services"]
    mounts = {}
    for name in ("prometheus", "grafana", "scheduler", "worker"):
        for volume in services[name]["volumes"]:
            source, target = volume.split(":")[:2]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source}"
                mounts[(name, target)] = (COMPOSE_DIR / source).resolve()
    prometheus = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    (rules,) = prometheus["rule_files"]
    assert mounts[("prometheus", rules)] == ROOT / "deploy" / "prometheus" / "alerts.yml"
    assert mounts[("prometheus", "/etc/prometheus/prometheus.yml")] == COMPOSE_DIR / "prometheus.yml"
    (job,) = prometheus["scrape_configs"]
    (sd,) = job["dns_sd_configs"]
    assert set(sd["names"]) == {"scheduler", "worker"} and sd["port"] == 9464
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/posture-agent.yml").read_text())
    dashboards = provider["providers"][0]["options"]["path"]
    assert mounts[("grafana", dashboards)] == ROOT / "deploy" / "grafana" / "dashboards"
    assert mounts[("grafana", "/etc/grafana/provisioning")] == ROOT / "deploy" / "grafana" / "provisioning"
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert mounts[("scheduler", "/etc/posture-agent/config.yaml")] == COMPOSE_DIR / "agent.yaml"


@pytest.mark.prometheus
def test_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    tool = promtool()
    config = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    config["rule_files"] = [str(ROOT / "deploy" / "prometheus" / "alerts.yml")]  # where compose mounts it
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    out = subprocess.run(
        [tool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_agent_config_passes_config_validate_in_its_containers(tmp_path: Path) -> None:
    services = compose()
    scheduler = services["services"]["scheduler"]
    dummy = {"POSTGRES_PASSWORD": "pg", "RABBITMQ_PASSWORD": "mq", "REDIS_PASSWORD": "rd"}
    env = {k: interpolate(str(v), dummy) for k, v in scheduler["environment"].items()}
    assert env["POSTURE_DATABASE"] == "postgresql+psycopg://posture:pg@postgres:5432/posture"
    text = (COMPOSE_DIR / "agent.yaml").read_text()
    refs = secret_refs(text)
    files = {t for k, t in refs if k == "file"}
    assert files == {f"/run/secrets/{s}" for s in scheduler["secrets"]}  # each compose secret used, each file one
    assert {t for k, t in refs if k == "env"} <= set(env)
    out = config_validate(text, tmp_path, files_at="/run/secrets", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
