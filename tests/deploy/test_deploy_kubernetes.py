"""deploy/kubernetes: each overlay rendered with `kubectl kustomize`, every object checked against the
Kubernetes schemas (kubernetes-validate, strict, offline), checkov with no failed check, the security
properties asserted object by object, the PrometheusRule equal to deploy/prometheus/alerts.yml, and
each overlay's agent config passing `posture-agent config validate` as its pods see it."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from tests.deploy.deploy_kit import KUBERNETES, OVERLAYS, ROOT, checkov, config_validate, promtool, secret_refs

Objects = list[dict[str, Any]]
DIGEST = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
CONFIG_PATH = "/etc/posture-agent/config.yaml"
OLDEST_KUBERNETES = "1.29"  # the oldest minor still supported by EKS, GKE and AKS extended support
CRDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def of_kind(objects: Objects, kind: str) -> Objects:
    return [o for o in objects if o["kind"] == kind]


def one(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in of_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def pods(objects: Objects) -> list[tuple[str, dict[str, Any]]]:
    """(Deployment name, pod template) of every workload."""
    workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")]
    assert {o["kind"] for o in workloads} == {"Deployment"}
    return [(o["metadata"]["name"], o["spec"]["template"]) for o in workloads]


def container(template: dict[str, Any]) -> dict[str, Any]:
    (c,) = template["spec"]["containers"]
    return c


def strings(node: object) -> list[str]:
    """Every string value of parsed YAML."""
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def objects(overlay: str, rendered: Any) -> Objects:
    return list(rendered(overlay))


@pytest.fixture(scope="module")
def checkov_report(overlay: str, objects: Objects, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov once per overlay, over its rendered manifests, with the overlay's .checkov.yaml."""
    tool = checkov()
    directory = tmp_path_factory.mktemp(f"rendered-{overlay}")
    (directory / "all.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=False))
    config = KUBERNETES / "overlays" / overlay / ".checkov.yaml"
    out = subprocess.run(
        [tool, "--config-file", str(config), "-d", str(directory), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=directory,
    )
    assert out.returncode in (0, 1), out.stderr  # 1: failed checks, reported below
    report = json.loads(out.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["check_type"] for r in reports] == ["kubernetes"], out.stdout[:2000]
    return dict(reports[0])


# -- schemas and checkov -------------------------------------------------------------------------


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, latest_version()])
def test_every_object_matches_the_kubernetes_schema(objects: Objects, version: str) -> None:
    kinds = set()
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CRDS:
            continue  # the Prometheus Operator's: checked below, structurally and with promtool
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {where}: {exc.message}", pytrace=False)
        kinds.add(obj["kind"])
    assert {"Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment", "NetworkPolicy"} <= kinds
    assert {(o["apiVersion"], o["kind"]) for o in objects} >= CRDS


def test_checkov_fails_no_check(overlay: str, checkov_report: dict[str, Any]) -> None:
    summary = checkov_report["summary"]
    failed = [f"{c['check_id']} {c['check_name']}: {c['resource']}" for c in checkov_report["results"]["failed_checks"]]
    assert failed == [], "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 50  # it did scan the workloads
    assert summary["resource_count"] >= 8


@pytest.mark.parametrize("overlay_name", OVERLAYS)
def test_every_checkov_skip_has_a_written_reason(overlay_name: str) -> None:
    path = KUBERNETES / "overlays" / overlay_name / ".checkov.yaml"
    config = yaml.safe_load(path.read_text())
    text = path.read_text()
    assert config["framework"] == ["kubernetes"] and config["skip-download"] is True
    for check in config.get("skip-check", []):
        reason = re.search(rf"^\s*# {re.escape(check)} (.+)$", text, flags=re.M)
        assert reason, f"{path}: skip {check} has no comment line '# {check} <reason>'"
    if overlay_name == "single":
        assert "skip-check" not in config


# -- security of every pod ------------------------------------------------------------------------


def test_pods_run_non_root_read_only_without_privileges(objects: Objects) -> None:
    for name, template in pods(objects):
        spec = template["spec"]
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] >= 10000 and pod["runAsGroup"] >= 10000, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
        assert "initContainers" not in spec, name
        c = container(template)
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001, name  # the image's user
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc.get("privileged", False) is False, name
        assert sc["capabilities"] == {"drop": ["ALL"]}, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        writable = {m["mountPath"] for m in c["volumeMounts"] if not m.get("readOnly")}
        assert writable == {"/tmp", "/var/lib/posture-agent"}, name


def test_pods_have_requests_limits_and_probes(objects: Objects) -> None:
    for name, template in pods(objects):
        c = container(template)
        for bound in ("requests", "limits"):
            assert set(c["resources"][bound]) == {"cpu", "memory"}, f"{name}: {bound}"
        (port,) = c["ports"]
        assert port == {"name": "http", "containerPort": 9464, "protocol": "TCP"}, name
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz", name


def test_images_are_pinned_by_digest(objects: Objects) -> None:
    for name, template in pods(objects):
        assert DIGEST.match(container(template)["image"]), f"{name}: {container(template)['image']}"
    kustomization = yaml.safe_load((KUBERNETES / "workload" / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    assert image["name"] == "posture-agent" and re.fullmatch(r"sha256:[0-9a-f]{64}", image["digest"])


def test_service_account_carries_the_cloud_identities_and_no_api_token(objects: Objects) -> None:
    sa = one(objects, "ServiceAccount", "posture-agent")
    assert sa["automountServiceAccountToken"] is False
    annotations = sa["metadata"]["annotations"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/\S+", annotations["eks.amazonaws.com/role-arn"])
    assert annotations["iam.gke.io/gcp-service-account"].endswith(".iam.gserviceaccount.com")
    assert re.fullmatch(r"[0-9a-f-]{36}", annotations["azure.workload.identity/client-id"])
    for name, template in pods(objects):
        assert template["spec"]["serviceAccountName"] == "posture-agent", name
        assert template["spec"]["automountServiceAccountToken"] is False, name
        assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true", name


def test_no_secret_is_written_in_the_manifests(objects: Objects) -> None:
    assert of_kind(objects, "Secret") == []  # created by the operator (README.md, "Deploy")
    for cm in of_kind(objects, "ConfigMap"):
        for key, value in cm["data"].items():
            for string in strings(yaml.safe_load(value)):  # values, not comments (which show placeholders)
                assert not CREDENTIALS_IN_URL.search(string), f"{cm['metadata']['name']}/{key}: {string}"
    for name, template in pods(objects):
        for var in container(template).get("env", []):
            assert "value" not in var and "secretKeyRef" in var["valueFrom"], f"{name}: {var['name']}"
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        assert volumes["secrets"]["secret"]["secretName"] == "posture-agent-secrets"
        assert volumes["secrets"]["secret"]["defaultMode"] == 0o440


# -- shape of each overlay -------------------------------------------------------------------------


def test_single_is_one_process_on_sqlite_and_a_volume(rendered: Any) -> None:
    objects = rendered("single")
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    c = container(deployment["spec"]["template"])
    assert c["args"] == ["--config", CONFIG_PATH]  # `run`: role all
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
    assert set(volumes["data"]) == {"name", "persistentVolumeClaim"}
    pvc = one(objects, "PersistentVolumeClaim", claim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    config = yaml.safe_load(mounted_config(objects, deployment))
    assert config["database"].startswith("sqlite:////var/lib/posture-agent/")


def test_scale_is_a_scheduler_pair_and_workers_without_databases(rendered: Any) -> None:
    objects = rendered("scale")
    scheduler = one(objects, "Deployment", "posture-agent-scheduler")
    worker = one(objects, "Deployment", "posture-agent-worker")
    assert len(of_kind(objects, "Deployment")) == 2  # PostgreSQL, RabbitMQ and Redis are not shipped
    assert scheduler["spec"]["replicas"] == 2
    assert worker["spec"]["replicas"] >= 2
    for deployment, role in ((scheduler, "scheduler"), (worker, "worker")):
        template = deployment["spec"]["template"]
        assert container(template)["args"] == ["--role", role, "--config", CONFIG_PATH]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == role
        assert selects(selector, template["metadata"]["labels"])
        (pdb,) = [
            p
            for p in of_kind(objects, "PodDisruptionBudget")
            if selects(p["spec"]["selector"]["matchLabels"], template["metadata"]["labels"])
        ]
        assert pdb["spec"]["maxUnavailable"] == 1
        env = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container(template)["env"]}
        assert env == {"POSTURE_DATABASE": {"name": "posture-agent-secrets", "key": "database-url"}}
        config = yaml.safe_load(mounted_config(objects, deployment))
        assert config["database"].startswith("postgresql+psycopg://")
        assert config["scale"]["broker"].startswith("file:") and config["scale"]["redis"].startswith("file:")
    other = worker["spec"]["template"]["metadata"]["labels"]
    assert not selects(scheduler["spec"]["selector"]["matchLabels"], other)  # the two never adopt each other's pods


def test_service_servicemonitor_and_networkpolicy_reach_every_pod(objects: Objects) -> None:
    service = one(objects, "Service", "posture-agent")
    monitor = one(objects, "ServiceMonitor", "posture-agent")
    (port,) = service["spec"]["ports"]
    assert port["name"] == "http" and port["targetPort"] == "http" and port["port"] == 9464
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["http"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    policies = of_kind(objects, "NetworkPolicy")
    for name, template in pods(objects):
        labels = template["metadata"]["labels"]
        assert selects(service["spec"]["selector"], labels), name
        assert any(selects(p["spec"]["podSelector"]["matchLabels"], labels) for p in policies), name
        assert labels["app.kubernetes.io/component"] in ("all", "scheduler", "worker")
    ingress_ports = {p["port"] for pol in policies for rule in pol["spec"].get("ingress", []) for p in rule["ports"]}
    assert ingress_ports == {9464}
    egress_ports = {p["port"] for pol in policies for rule in pol["spec"].get("egress", []) for p in rule["ports"]}
    assert {53, 443, 5432} <= egress_ports
    for pol in policies:
        assert set(pol["spec"]["policyTypes"]) <= {"Ingress", "Egress"}


# -- the PrometheusRule is deploy/prometheus/alerts.yml ---------------------------------------------


def test_prometheusrule_holds_the_rules_of_alerts_yml(objects: Objects) -> None:
    rule = one(objects, "PrometheusRule", "posture-agent")
    alerts = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert rule["spec"] == alerts
    assert rule["metadata"]["namespace"] == "posture-agent"


def test_prometheusrule_file_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("prometheusrule", KUBERNETES / "prometheusrule.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert (KUBERNETES / "base" / "prometheusrule.yaml").read_text() == expected, "run `make manifests`"


@pytest.mark.prometheus
def test_prometheusrule_rules_pass_promtool(rendered: Any, tmp_path: Path) -> None:
    tool = promtool()
    rule = one(rendered("single"), "PrometheusRule", "posture-agent")
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    out = subprocess.run([tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(rule['spec']['groups'][0]['rules'])} rules found" in out.stdout


# -- each overlay's agent config, as its pods see it -------------------------------------------------


def mounted_config(objects: Objects, deployment: dict[str, Any]) -> str:
    """The config file the Deployment's container reads: --config, from the volume mounted there."""
    template = deployment["spec"]["template"]
    c = container(template)
    path = c["args"][c["args"].index("--config") + 1]
    (mount,) = [m for m in c["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/")]
    (volume,) = [v for v in template["spec"]["volumes"] if v["name"] == mount["name"]]
    cm = one(objects, "ConfigMap", volume["configMap"]["name"])  # the generated, hash-suffixed name
    return str(cm["data"][path[len(mount["mountPath"].rstrip("/")) + 1 :]])


def test_agent_config_passes_config_validate_in_its_pods(objects: Objects, tmp_path: Path) -> None:
    for name, template in pods(objects):
        deployment = one(objects, "Deployment", name)
        text = mounted_config(objects, deployment)
        c = container(template)
        (mount,) = [m for m in c["volumeMounts"] if m["name"] == "secrets"]
        (volume,) = [v for v in template["spec"]["volumes"] if v["name"] == "secrets"]
        items = {i["path"] for i in volume["secret"]["items"]}
        refs = secret_refs(text)
        files = {t for k, t in refs if k == "file"}
        assert {k for k, _ in refs} == {"file"}, f"{name}: secrets come as files, not variables"
        assert files == {f"{mount['mountPath']}/{item}" for item in items}, name  # each item used, each ref mounted
        env = {v["name"]: "postgresql+psycopg://posture:dummy@postgres.example:5432/posture" for v in c.get("env", [])}
        out = config_validate(text, tmp_path / name, files_at=mount["mountPath"], env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "valid" in out.stdout


def test_readme_creates_every_secret_key_the_overlays_read(objects: Objects) -> None:
    readme = (ROOT / "README.md").read_text()
    for name, template in pods(objects):
        (volume,) = [v for v in template["spec"]["volumes"] if v["name"] == "secrets"]
        keys = {i["key"] for i in volume["secret"]["items"]}
        keys |= {v["valueFrom"]["secretKeyRef"]["key"] for v in container(template).get("env", [])}
        for key in keys:
            assert re.search(rf"--from-(file|literal)={re.escape(key)}=", readme), f"{name}: README never creates {key}"
