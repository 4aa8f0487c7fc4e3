"""A local fake of the Cloud Asset API (REST, v1) for the demo and the tests.

It answers the three calls the GCP collector makes, with ``nextPageToken`` paging:

    GET /v1/{scope}:searchAllResources
    GET /v1/{scope}:searchAllIamPolicies
    GET /v1/{parent}/assets?contentType=RESOURCE|IAM_POLICY

``FakeCloudAsset(assets).start()`` serves on a free loopback port; ``faults`` injects error
answers (e.g. one 429) for reliability tests. ``demo_org()`` is a small organisation with two
projects and typical findings (a public bucket, an open SSH firewall, an Owner granted to a user).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Fault", "FakeCloudAsset", "demo_org", "source_config", "start", "stop"]

_CONTENT = {"1": "RESOURCE", "2": "IAM_POLICY", "RESOURCE": "RESOURCE", "IAM_POLICY": "IAM_POLICY"}


@dataclass
class Fault:
    """Answer the next ``times`` requests whose path contains ``match`` with ``status``."""

    match: str
    status: int = 429
    times: int = 1
    headers: Mapping[str, str] = field(default_factory=lambda: {"Retry-After": "1"})


def _in_scope(asset: Mapping[str, Any], scope: str, project_ids: Mapping[str, str]) -> bool:
    ancestors = list(asset.get("ancestors", []))
    if scope in ancestors:
        return True
    kind, _, ident = scope.partition("/")
    return kind == "projects" and f"projects/{project_ids.get(ident, ident)}" in ancestors


class FakeCloudAsset:
    def __init__(self, assets: Iterable[Mapping[str, Any]], *, max_page: int = 3) -> None:
        self.assets = [dict(a) for a in assets]
        self.max_page = max_page
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- data views ------------------------------------------------------------------------

    def _project_ids(self) -> dict[str, str]:
        """project id -> number."""
        out = {}
        for a in self.assets:
            if a["assetType"] == "cloudresourcemanager.googleapis.com/Project":
                data = a["resource"]["data"]
                out[str(data["projectId"])] = str(data["projectNumber"])
        return out

    def _scoped(self, scope: str) -> list[dict[str, Any]]:
        ids = self._project_ids()
        return [a for a in self.assets if _in_scope(a, scope, ids)]

    def list_assets(self, scope: str, content: str, types: list[str]) -> list[dict[str, Any]]:
        out = []
        for a in self._scoped(scope):
            if types and a["assetType"] not in types:
                continue
            item = {"name": a["name"], "assetType": a["assetType"], "ancestors": a.get("ancestors", [])}
            if content == "IAM_POLICY":
                if not a.get("iamPolicy"):
                    continue
                item["iamPolicy"] = a["iamPolicy"]
            else:
                item["resource"] = a["resource"]
            out.append(item)
        return out

    def search_resources(self, scope: str, types: list[str]) -> list[dict[str, Any]]:
        out = []
        for a in self._scoped(scope):
            if types and a["assetType"] not in types:
                continue
            project = next((x for x in a.get("ancestors", []) if x.startswith("projects/")), "")
            item: dict[str, Any] = {"name": a["name"], "assetType": a["assetType"], "project": project,
                                    "displayName": a["name"].rsplit("/", 1)[-1],
                                    "location": a["resource"].get("location", "global")}
            if a["assetType"] == "cloudresourcemanager.googleapis.com/Project":
                item["additionalAttributes"] = {"projectId": a["resource"]["data"]["projectId"]}
            out.append(item)
        return out

    def search_policies(self, scope: str) -> list[dict[str, Any]]:
        out = []
        for a in self.assets:
            scoped = a in self._scoped(scope) or a["name"].endswith("/" + scope)
            if not scoped or not a.get("iamPolicy", {}).get("bindings"):
                continue
            anc = a.get("ancestors", [])
            out.append({
                "resource": a["name"], "assetType": a["assetType"],
                "project": next((x for x in anc if x.startswith("projects/")), ""),
                "folders": [x for x in anc if x.startswith("folders/")],
                "organization": next((x for x in anc if x.startswith("organizations/")), ""),
                "policy": {"bindings": a["iamPolicy"]["bindings"]},
            })
        return out

    # -- HTTP ------------------------------------------------------------------------------

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            self.requests.append(path)
            for f in self.faults:
                if f.match in path and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def answer(self, raw_path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        q = parse_qs(parts.query)
        fault = self._fault_for(raw_path)
        if fault is not None:
            body = {"error": {"code": fault.status, "message": "injected fault", "status": "RESOURCE_EXHAUSTED"
                              if fault.status == 429 else "UNAVAILABLE"}}
            return fault.status, body, dict(fault.headers)
        types = q.get("assetTypes", [])
        if path.startswith("/v1/") and path.endswith(":searchAllResources"):
            items, key = self.search_resources(path[4:].rsplit(":", 1)[0], types), "results"
        elif path.startswith("/v1/") and path.endswith(":searchAllIamPolicies"):
            items, key = self.search_policies(path[4:].rsplit(":", 1)[0]), "results"
        elif path.startswith("/v1/") and path.endswith("/assets"):
            content = _CONTENT.get((q.get("contentType") or ["RESOURCE"])[0], "RESOURCE")
            items, key = self.list_assets(path[4:-len("/assets")], content, types), "assets"
        else:
            return 404, {"error": {"code": 404, "message": f"no such path {path}", "status": "NOT_FOUND"}}, {}
        size = min(int((q.get("pageSize") or [str(self.max_page)])[0]) or self.max_page, self.max_page)
        start = int((q.get("pageToken") or ["0"])[0] or 0)
        page: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            page["nextPageToken"] = str(start + size)
        return 200, page, {}

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self) -> None:
                status, body, headers = fake.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _reply
            do_POST = _reply

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-gcp", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# -- the demo organisation -----------------------------------------------------------------------

ORG = "organizations/100200300"


def _ts(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def asset(asset_type: str, name: str, data: Mapping[str, Any], *, project: str = "", location: str = "global",
          iam: Mapping[str, Any] | None = None, org: str = ORG) -> dict[str, Any]:
    """One asset as Cloud Asset returns it; ``project`` is the project number."""
    ancestors = ([f"projects/{project}"] if project else []) + [org]
    out: dict[str, Any] = {"name": name, "assetType": asset_type, "ancestors": ancestors,
                           "resource": {"version": "v1", "data": dict(data), "location": location,
                                        "parent": f"//cloudresourcemanager.googleapis.com/projects/{project}"
                                        if project else ""}}
    if iam is not None:
        out["iamPolicy"] = dict(iam)
    return out


def project_asset(project_id: str, number: str, bindings: list[dict[str, Any]],
                  audit: bool = True) -> dict[str, Any]:
    policy: dict[str, Any] = {"bindings": bindings}
    if audit:
        policy["auditConfigs"] = [{"service": "allServices", "auditLogConfigs": [
            {"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]}]
    a = asset("cloudresourcemanager.googleapis.com/Project",
              f"//cloudresourcemanager.googleapis.com/projects/{number}",
              {"projectId": project_id, "projectNumber": number, "name": project_id, "lifecycleState": "ACTIVE"},
              project=number, iam=policy)
    return a


def demo_org() -> list[dict[str, Any]]:
    """Two projects: 'shop-prod' mostly well configured, 'shop-sandbox' with typical problems."""
    prod, sandbox = "111111111111", "222222222222"
    compute = "//compute.googleapis.com/projects"
    return [
        project_asset("shop-prod", prod, [
            {"role": "roles/viewer", "members": ["group:eng@example.com"]},
            {"role": "roles/compute.osAdminLogin", "members": ["group:sre@example.com"]}]),
        project_asset("shop-sandbox", sandbox, [
            {"role": "roles/owner", "members": ["user:alice@example.com"]},
            {"role": "roles/viewer", "members": ["allAuthenticatedUsers"]}], audit=False),
        asset("storage.googleapis.com/Bucket", "//storage.googleapis.com/projects/_/buckets/shop-prod-invoices",
              {"name": "shop-prod-invoices", "iamConfiguration": {
                  "uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"}},
              project=prod, location="us", iam={"bindings": [
                  {"role": "roles/storage.objectViewer",
                   "members": ["serviceAccount:app@shop-prod.iam.gserviceaccount.com"]}]}),
        asset("storage.googleapis.com/Bucket", "//storage.googleapis.com/projects/_/buckets/shop-sandbox-assets",
              {"name": "shop-sandbox-assets", "iamConfiguration": {
                  "uniformBucketLevelAccess": {"enabled": False}, "publicAccessPrevention": "inherited"}},
              project=sandbox, location="us", iam={"bindings": [
                  {"role": "roles/storage.objectViewer", "members": ["allUsers"]}]}),
        asset("compute.googleapis.com/Firewall", f"{compute}/shop-sandbox/global/firewalls/allow-ssh",
              {"name": "allow-ssh", "direction": "INGRESS", "disabled": False, "sourceRanges": ["0.0.0.0/0"],
               "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
               "network": "https://www.googleapis.com/compute/v1/projects/shop-sandbox/global/networks/default"},
              project=sandbox),
        asset("compute.googleapis.com/Firewall", f"{compute}/shop-prod/global/firewalls/allow-https",
              {"name": "allow-https", "direction": "INGRESS", "disabled": False, "sourceRanges": ["0.0.0.0/0"],
               "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}],
               "network": "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/prod"},
              project=prod),
        asset("compute.googleapis.com/Project", f"{compute}/shop-prod",
              {"name": "shop-prod", "commonInstanceMetadata": {"items": [{"key": "enable-oslogin", "value": "TRUE"}]}},
              project=prod),
        asset("compute.googleapis.com/Project", f"{compute}/shop-sandbox",
              {"name": "shop-sandbox", "commonInstanceMetadata": {"items": []}}, project=sandbox),
        asset("compute.googleapis.com/Network", f"{compute}/shop-sandbox/global/networks/default",
              {"name": "default", "autoCreateSubnetworks": True}, project=sandbox),
        asset("compute.googleapis.com/Network", f"{compute}/shop-prod/global/networks/prod",
              {"name": "prod", "autoCreateSubnetworks": False}, project=prod),
        asset("compute.googleapis.com/Instance", f"{compute}/shop-prod/zones/us-central1-a/instances/web-1",
              {"name": "web-1", "status": "RUNNING",
               "networkInterfaces": [{"network": "prod", "networkIP": "10.0.0.2"}],
               "serviceAccounts": [{"email": "web@shop-prod.iam.gserviceaccount.com",
                                    "scopes": ["https://www.googleapis.com/auth/logging.write"]}],
               "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True,
                                          "enableIntegrityMonitoring": True},
               "metadata": {"items": []}},
              project=prod, location="us-central1-a"),
        asset("compute.googleapis.com/Instance", f"{compute}/shop-sandbox/zones/us-central1-a/instances/test-vm",
              {"name": "test-vm", "status": "RUNNING",
               "networkInterfaces": [{"network": "default", "networkIP": "10.128.0.2", "accessConfigs": [
                   {"type": "ONE_TO_ONE_NAT", "natIP": "34.1.2.3"}]}],
               "serviceAccounts": [{"email": f"{sandbox}-compute@developer.gserviceaccount.com",
                                    "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}],
               "metadata": {"items": []}},
              project=sandbox, location="us-central1-a"),
        asset("sqladmin.googleapis.com/Instance", "//cloudsql.googleapis.com/projects/shop-prod/instances/orders",
              {"name": "orders", "databaseVersion": "POSTGRES_15", "settings": {
                  "ipConfiguration": {"ipv4Enabled": False, "sslMode": "ENCRYPTED_ONLY", "requireSsl": True},
                  "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True}}},
              project=prod, location="us-central1"),
        asset("sqladmin.googleapis.com/Instance", "//cloudsql.googleapis.com/projects/shop-sandbox/instances/scratch",
              {"name": "scratch", "databaseVersion": "MYSQL_8_0", "settings": {
                  "ipConfiguration": {"ipv4Enabled": True, "authorizedNetworks": [
                      {"name": "anywhere", "value": "0.0.0.0/0"}], "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"},
                  "backupConfiguration": {"enabled": False}}},
              project=sandbox, location="us-central1"),
        asset("iam.googleapis.com/ServiceAccountKey",
              "//iam.googleapis.com/projects/shop-sandbox/serviceAccounts/ci@shop-sandbox.iam.gserviceaccount.com"
              "/keys/0123abcd", {"name": "projects/shop-sandbox/serviceAccounts/ci@shop-sandbox.iam.gserviceaccount.com"
                                 "/keys/0123abcd", "keyType": "USER_MANAGED",
                                 "validAfterTime": _ts(200), "validBeforeTime": "9999-12-31T23:59:59Z"},
              project=sandbox),
        asset("cloudkms.googleapis.com/CryptoKey",
              "//cloudkms.googleapis.com/projects/shop-prod/locations/us/keyRings/app/cryptoKeys/data",
              {"name": "projects/shop-prod/locations/us/keyRings/app/cryptoKeys/data", "purpose": "ENCRYPT_DECRYPT",
               "rotationPeriod": "7776000s", "nextRotationTime": _ts(-30)}, project=prod, location="us", iam={}),
    ]


_demo: FakeCloudAsset | None = None


def start() -> str:
    """Start the demo's fake Cloud Asset server; returns its URL."""
    global _demo
    if _demo is None:
        _demo = FakeCloudAsset(demo_org())
        _demo.start()
    return _demo.url


def stop() -> None:
    global _demo
    if _demo is not None:
        _demo.stop()
        _demo = None


def source_config(url: str | None = None) -> dict[str, Any]:
    """The GCP source to add to the demo Config's ``sources`` (call start() first)."""
    return {"name": "demo-gcp", "provider": "gcp", "scope": ORG, "endpoint": url or start(),
            "schedule": {"interval": "1h"}}
