"""A local fake of the Cloud Asset API (REST, v1) and the Cloud Identity Policy API for the demo and
the tests.

It answers the calls the GCP collector makes, with ``nextPageToken`` paging:

    GET /v1/{scope}:searchAllResources
    GET /v1/{scope}:searchAllIamPolicies
    GET /v1/{parent}/assets?contentType=RESOURCE|IAM_POLICY|ORG_POLICY
    GET /v1/policies                      (Cloud Identity Policy API)

``FakeCloudAsset(assets, identity_policies=...).start()`` serves on a free loopback port; ``faults``
injects error answers (e.g. one 429) for reliability tests. ``demo_org()`` is a small organisation
(an organization, a production folder, two projects) with typical findings and the shapes a careless
check gets wrong (see its docstring); ``demo_identity_policies()`` its 2-Step Verification policies.
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

__all__ = ["Fault", "FakeCloudAsset", "demo_identity_policies", "demo_org", "source_config", "start", "stop"]

_CONTENT = {
    "1": "RESOURCE",
    "2": "IAM_POLICY",
    "4": "ORG_POLICY",
    "RESOURCE": "RESOURCE",
    "IAM_POLICY": "IAM_POLICY",
    "ORG_POLICY": "ORG_POLICY",
}


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
    def __init__(
        self,
        assets: Iterable[Mapping[str, Any]],
        *,
        max_page: int = 3,
        identity_policies: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.assets = [dict(a) for a in assets]
        self.identity_policies = [dict(p) for p in identity_policies]
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
            elif content == "ORG_POLICY":
                if not a.get("orgPolicy"):
                    continue
                item["orgPolicy"] = a["orgPolicy"]
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
            item: dict[str, Any] = {
                "name": a["name"],
                "assetType": a["assetType"],
                "project": project,
                "displayName": a["name"].rsplit("/", 1)[-1],
                "location": a["resource"].get("location", "global"),
            }
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
            out.append(
                {
                    "resource": a["name"],
                    "assetType": a["assetType"],
                    "project": next((x for x in anc if x.startswith("projects/")), ""),
                    "folders": [x for x in anc if x.startswith("folders/")],
                    "organization": next((x for x in anc if x.startswith("organizations/")), ""),
                    "policy": {"bindings": a["iamPolicy"]["bindings"]},
                }
            )
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
            body = {
                "error": {
                    "code": fault.status,
                    "message": "injected fault",
                    "status": "RESOURCE_EXHAUSTED" if fault.status == 429 else "UNAVAILABLE",
                }
            }
            return fault.status, body, dict(fault.headers)
        types = q.get("assetTypes", [])
        if path.startswith("/v1/") and path.endswith(":searchAllResources"):
            items, key = self.search_resources(path[4:].rsplit(":", 1)[0], types), "results"
        elif path.startswith("/v1/") and path.endswith(":searchAllIamPolicies"):
            items, key = self.search_policies(path[4:].rsplit(":", 1)[0]), "results"
        elif path.startswith("/v1/") and path.endswith("/assets"):
            content = _CONTENT.get((q.get("contentType") or ["RESOURCE"])[0], "RESOURCE")
            items, key = self.list_assets(path[4 : -len("/assets")], content, types), "assets"
        elif path == "/v1/policies":  # Cloud Identity Policy API; the filter names one setting type
            wanted = "".join(q.get("filter", [])).split("'")[1::2]
            items = [
                p
                for p in self.identity_policies
                if not wanted or any(w in str(p.get("setting", {}).get("type", "")) for w in wanted)
            ]
            key = "policies"
        else:
            return 404, {"error": {"code": 404, "message": f"no such path {path}", "status": "NOT_FOUND"}}, {}
        size = min(int((q.get("pageSize") or [str(self.max_page)])[0]) or self.max_page, self.max_page)
        start = int((q.get("pageToken") or ["0"])[0] or 0)
        page: dict[str, Any] = {key: items[start : start + size]}
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
FOLDER = "folders/300300300"  # "production": shop-prod lives here, shop-sandbox directly under ORG
PROD, SANDBOX = "111111111111", "222222222222"
RM = "//cloudresourcemanager.googleapis.com/"
COMPUTE = "//compute.googleapis.com/projects"
ALL_DATA_ACCESS = [
    {
        "service": "allServices",
        "auditLogConfigs": [{"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}],
    }
]


def _ts(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def asset(
    asset_type: str,
    name: str,
    data: Mapping[str, Any],
    *,
    project: str = "",
    location: str = "global",
    iam: Mapping[str, Any] | None = None,
    org: str = ORG,
    folder: str = "",
    org_policy: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One asset as Cloud Asset returns it; ``project`` is the project number, ``folder`` the folder
    between it (or the asset, for a folder-level asset) and the organization."""
    ancestors = ([f"projects/{project}"] if project else []) + ([folder] if folder else []) + [org]
    out: dict[str, Any] = {
        "name": name,
        "assetType": asset_type,
        "ancestors": ancestors,
        "resource": {
            "version": "v1",
            "data": dict(data),
            "location": location,
            "parent": f"{RM}projects/{project}" if project else "",
        },
    }
    if iam is not None:
        out["iamPolicy"] = dict(iam)
    if org_policy:
        out["orgPolicy"] = list(org_policy)
    return out


def project_asset(
    project_id: str, number: str, bindings: list[dict[str, Any]], audit: bool = True, folder: str = ""
) -> dict[str, Any]:
    policy: dict[str, Any] = {"bindings": bindings}
    if audit:
        policy["auditConfigs"] = ALL_DATA_ACCESS
    return asset(
        "cloudresourcemanager.googleapis.com/Project",
        f"{RM}projects/{number}",
        {"projectId": project_id, "projectNumber": number, "name": project_id, "lifecycleState": "ACTIVE"},
        project=number,
        iam=policy,
        folder=folder,
    )


def _hierarchy() -> list[dict[str, Any]]:
    """The organization and the production folder: what every project below them inherits."""
    org = asset(
        "cloudresourcemanager.googleapis.com/Organization",
        RM + ORG,
        {"name": ORG, "displayName": "example.com", "lifecycleState": "ACTIVE"},
        iam={
            "bindings": [
                {"role": "roles/resourcemanager.organizationAdmin", "members": ["group:admins@example.com"]},
                # a workforce identity pool group as Owner: people, though not user:/group:
                {
                    "role": "roles/owner",
                    "members": [
                        "principalSet://iam.googleapis.com/locations/global/workforcePools/contractors/group/ops"
                    ],
                },
            ],
            # admin reads only: data access is not logged org-wide
            "auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}],
        },
    )
    org["ancestors"] = [ORG]
    folder = asset(
        "cloudresourcemanager.googleapis.com/Folder",
        RM + FOLDER,
        {"name": FOLDER, "displayName": "production", "parent": ORG},
        iam={
            "bindings": [{"role": "roles/viewer", "members": ["group:auditors@example.com"]}],
            "auditConfigs": ALL_DATA_ACCESS,
        },  # set on the folder only: shop-prod inherits it
        org_policy=[
            {"constraint": "constraints/compute.requireOsLogin", "booleanPolicy": {"enforced": True}},
            {"constraint": "constraints/compute.disableSerialPortAccess", "booleanPolicy": {"enforced": True}},
        ],
        folder=FOLDER,
    )
    return [org, folder]


def _projects() -> list[dict[str, Any]]:
    sandbox_editor_sa = f"serviceAccount:{SANDBOX}-compute@developer.gserviceaccount.com"
    return [
        project_asset(
            "shop-prod",
            PROD,
            [
                {"role": "roles/viewer", "members": ["group:eng@example.com"]},
                {"role": "roles/compute.osAdminLogin", "members": ["group:sre@example.com"]},
                # Google APIs service agent: Editor is granted automatically, it is not a finding
                {"role": "roles/editor", "members": [f"serviceAccount:{PROD}@cloudservices.gserviceaccount.com"]},
                {
                    "role": "roles/compute.serviceAgent",
                    "members": [f"serviceAccount:service-{PROD}@compute-system.iam.gserviceaccount.com"],
                },
            ],
            audit=False,
            folder=FOLDER,
        ),
        project_asset(
            "shop-sandbox",
            SANDBOX,
            [
                {"role": "roles/owner", "members": ["user:alice@example.com"]},
                {"role": "roles/viewer", "members": ["allAuthenticatedUsers"]},
                {
                    "role": "roles/editor",
                    "members": [
                        "deleted:user:bob@example.com?uid=123456789012345678901",
                        f"serviceAccount:{SANDBOX}@cloudservices.gserviceaccount.com",
                        sandbox_editor_sa,
                    ],
                },
                {
                    "role": "roles/resourcemanager.projectIamAdmin",
                    "members": ["serviceAccount:deployer@shop-sandbox.iam.gserviceaccount.com"],
                },
                {"role": "roles/iam.serviceAccountAdmin", "members": ["user:dave@example.com"]},
                {"role": "roles/iam.serviceAccountUser", "members": ["user:dave@example.com"]},
                {"role": "roles/cloudkms.admin", "members": ["user:carol@example.com"]},
                {"role": "roles/cloudkms.cryptoKeyEncrypterDecrypter", "members": ["user:carol@example.com"]},
            ],
            audit=False,
        ),
    ]


def _storage() -> list[dict[str, Any]]:
    bucket = "storage.googleapis.com/Bucket"
    private = {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"}
    return [
        asset(
            bucket,
            "//storage.googleapis.com/projects/_/buckets/shop-prod-invoices",
            {"name": "shop-prod-invoices", "iamConfiguration": private},
            project=PROD,
            location="us",
            folder=FOLDER,
            iam={
                "bindings": [
                    {
                        "role": "roles/storage.objectViewer",
                        "members": ["serviceAccount:app@shop-prod.iam.gserviceaccount.com"],
                    }
                ]
            },
        ),
        asset(
            bucket,
            "//storage.googleapis.com/projects/_/buckets/example-org-audit-logs",
            {
                "name": "example-org-audit-logs",
                "iamConfiguration": private,
                "retentionPolicy": {"retentionPeriod": "31536000", "effectiveTime": _ts(300), "isLocked": True},
            },
            project=PROD,
            location="us",
            folder=FOLDER,
            iam={},
        ),
        asset(
            bucket,
            "//storage.googleapis.com/projects/_/buckets/shop-sandbox-assets",
            {
                "name": "shop-sandbox-assets",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": False},
                    "publicAccessPrevention": "inherited",
                },
            },
            project=SANDBOX,
            location="us",
            iam={"bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]},
        ),
        # a retention policy that is not locked: anyone with storage.buckets.update can shorten it
        asset(
            bucket,
            "//storage.googleapis.com/projects/_/buckets/shop-sandbox-logs",
            {
                "name": "shop-sandbox-logs",
                "iamConfiguration": {
                    "uniformBucketLevelAccess": {"enabled": True},
                    "publicAccessPrevention": "inherited",
                },
                "retentionPolicy": {"retentionPeriod": "2592000", "effectiveTime": _ts(40)},
            },
            project=SANDBOX,
            location="us",
            iam={},
        ),
    ]


def _disk(image: str, **extra: Any) -> dict[str, Any]:
    return {"boot": True, "licenses": [f"https://www.googleapis.com/compute/v1/projects/{image}"], **extra}


def _compute() -> list[dict[str, Any]]:
    # Instances carry lastStartTimestamp, an observation that moves only on a restart: fixed here.
    shielded = {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}
    debian = _disk("debian-cloud/global/licenses/debian-12-bookworm")
    return [
        asset(
            "compute.googleapis.com/Firewall",
            f"{COMPUTE}/shop-sandbox/global/firewalls/allow-ssh",
            {
                "name": "allow-ssh",
                "direction": "INGRESS",
                "disabled": False,
                "sourceRanges": ["0.0.0.0/0"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
                "network": "https://www.googleapis.com/compute/v1/projects/shop-sandbox/global/networks/default",
            },
            project=SANDBOX,
        ),
        asset(
            "compute.googleapis.com/Firewall",
            f"{COMPUTE}/shop-prod/global/firewalls/allow-https",
            {
                "name": "allow-https",
                "direction": "INGRESS",
                "disabled": False,
                "sourceRanges": ["0.0.0.0/0"],
                "allowed": [{"IPProtocol": "tcp", "ports": ["443"]}],
                "network": "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/prod",
            },
            project=PROD,
            folder=FOLDER,
        ),
        # no enable-oslogin metadata: OS Login comes from the folder's compute.requireOsLogin policy
        asset(
            "compute.googleapis.com/Project",
            f"{COMPUTE}/shop-prod",
            {"name": "shop-prod", "commonInstanceMetadata": {"items": []}},
            project=PROD,
            folder=FOLDER,
        ),
        asset(
            "compute.googleapis.com/Project",
            f"{COMPUTE}/shop-sandbox",
            {"name": "shop-sandbox", "commonInstanceMetadata": {"items": []}},
            project=SANDBOX,
        ),
        asset(
            "compute.googleapis.com/Network",
            f"{COMPUTE}/shop-sandbox/global/networks/default",
            {"name": "default", "autoCreateSubnetworks": True},
            project=SANDBOX,
        ),
        asset(
            "compute.googleapis.com/Network",
            f"{COMPUTE}/shop-prod/global/networks/prod",
            {"name": "prod", "autoCreateSubnetworks": False},
            project=PROD,
            folder=FOLDER,
        ),
        asset(
            "compute.googleapis.com/Subnetwork",
            f"{COMPUTE}/shop-prod/regions/us-central1/subnetworks/prod-us",
            {
                "name": "prod-us",
                "purpose": "PRIVATE",
                "ipCidrRange": "10.0.0.0/20",
                "enableFlowLogs": True,
                "logConfig": {
                    "enable": True,
                    "aggregationInterval": "INTERVAL_5_SEC",
                    "flowSampling": 1,
                    "metadata": "INCLUDE_ALL_METADATA",
                },
            },
            project=PROD,
            folder=FOLDER,
            location="us-central1",
        ),
        asset(
            "compute.googleapis.com/Subnetwork",
            f"{COMPUTE}/shop-sandbox/regions/us-central1/subnetworks/default",
            {"name": "default", "purpose": "PRIVATE", "ipCidrRange": "10.128.0.0/20"},
            project=SANDBOX,
            location="us-central1",
        ),
        asset(
            "compute.googleapis.com/Instance",
            f"{COMPUTE}/shop-prod/zones/us-central1-a/instances/web-1",
            {
                "name": "web-1",
                "status": "RUNNING",
                "lastStartTimestamp": _ts(12),
                "canIpForward": False,
                "disks": [debian],
                "networkInterfaces": [{"network": "prod", "networkIP": "10.0.0.2"}],
                "serviceAccounts": [
                    {
                        "email": "web@shop-prod.iam.gserviceaccount.com",
                        "scopes": ["https://www.googleapis.com/auth/logging.write"],
                    }
                ],
                "shieldedInstanceConfig": shielded,
                "metadata": {"items": []},
            },
            project=PROD,
            folder=FOLDER,
            location="us-central1-a",
        ),
        asset(
            "compute.googleapis.com/Instance",
            f"{COMPUTE}/shop-sandbox/zones/us-central1-a/instances/test-vm",
            {
                "name": "test-vm",
                "status": "RUNNING",
                "lastStartTimestamp": _ts(3),
                "canIpForward": True,
                "disks": [debian],
                "networkInterfaces": [
                    {
                        "network": "default",
                        "networkIP": "10.128.0.2",
                        "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "natIP": "34.1.2.3"}],
                    }
                ],
                "serviceAccounts": [
                    {
                        "email": f"{SANDBOX}-compute@developer.gserviceaccount.com",
                        "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                    }
                ],
                "metadata": {"items": [{"key": "serial-port-enable", "value": "TRUE"}]},
            },
            project=SANDBOX,
            location="us-central1-a",
        ),
        asset(
            "compute.googleapis.com/Instance",
            f"{COMPUTE}/shop-sandbox/zones/us-central1-a/instances/win-1",
            {
                "name": "win-1",
                "status": "RUNNING",
                "lastStartTimestamp": _ts(40),
                "canIpForward": False,
                "disks": [
                    _disk(
                        "windows-cloud/global/licenses/windows-server-2022-dc",
                        guestOsFeatures=[{"type": "WINDOWS"}, {"type": "UEFI_COMPATIBLE"}],
                    )
                ],
                "networkInterfaces": [{"network": "default", "networkIP": "10.128.0.3"}],
                "serviceAccounts": [],
                "shieldedInstanceConfig": shielded,
                "metadata": {"items": [{"key": "block-project-ssh-keys", "value": "true"}]},
            },
            project=SANDBOX,
            location="us-central1-a",
        ),
    ]


def _sql() -> list[dict[str, Any]]:
    inst = "sqladmin.googleapis.com/Instance"
    private = {"ipv4Enabled": False, "sslMode": "ENCRYPTED_ONLY", "requireSsl": True}
    backups = {"enabled": True, "pointInTimeRecoveryEnabled": True}
    pg_flags = [
        {"name": "log_connections", "value": "on"},
        {"name": "log_disconnections", "value": "on"},
        {"name": "log_statement", "value": "ddl"},
        {"name": "log_min_messages", "value": "error"},
        {"name": "cloudsql.enable_pgaudit", "value": "on"},
    ]
    return [
        asset(
            inst,
            "//cloudsql.googleapis.com/projects/shop-prod/instances/orders",
            {
                "name": "orders",
                "databaseVersion": "POSTGRES_15",
                "settings": {"ipConfiguration": private, "backupConfiguration": backups, "databaseFlags": pg_flags},
            },
            project=PROD,
            folder=FOLDER,
            location="us-central1",
        ),
        asset(
            inst,
            "//cloudsql.googleapis.com/projects/shop-sandbox/instances/scratch",
            {
                "name": "scratch",
                "databaseVersion": "MYSQL_8_0",
                "settings": {
                    "ipConfiguration": {
                        "ipv4Enabled": True,
                        "authorizedNetworks": [{"name": "anywhere", "value": "0.0.0.0/0"}],
                        "sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
                    },
                    "backupConfiguration": {"enabled": False},
                },
            },
            project=SANDBOX,
            location="us-central1",
        ),
        # PostgreSQL with no flags at all: connections, disconnections and DDL go unlogged
        asset(
            inst,
            "//cloudsql.googleapis.com/projects/shop-sandbox/instances/reports",
            {
                "name": "reports",
                "databaseVersion": "POSTGRES_14",
                "settings": {"ipConfiguration": private, "backupConfiguration": backups},
            },
            project=SANDBOX,
            location="us-central1",
        ),
    ]


def _keys() -> list[dict[str, Any]]:
    sa_keys = "//iam.googleapis.com/projects/{p}/serviceAccounts/{sa}/keys/{k}"
    return [
        asset(
            "iam.googleapis.com/ServiceAccountKey",
            sa_keys.format(p="shop-sandbox", sa="ci@shop-sandbox.iam.gserviceaccount.com", k="0123abcd"),
            {
                "name": "projects/shop-sandbox/serviceAccounts/ci@shop-sandbox.iam.gserviceaccount.com/keys/0123abcd",
                "keyType": "USER_MANAGED",
                "validAfterTime": _ts(200),
                "validBeforeTime": "9999-12-31T23:59:59Z",
            },
            project=SANDBOX,
        ),
        asset(
            "iam.googleapis.com/ServiceAccountKey",
            sa_keys.format(p="shop-prod", sa="web@shop-prod.iam.gserviceaccount.com", k="99ff"),
            {
                "name": "projects/shop-prod/serviceAccounts/web@shop-prod.iam.gserviceaccount.com/keys/99ff",
                "keyType": "SYSTEM_MANAGED",
                "validAfterTime": _ts(3),
                "validBeforeTime": _ts(-700),
            },
            project=PROD,
            folder=FOLDER,
        ),
        asset(
            "cloudkms.googleapis.com/CryptoKey",
            "//cloudkms.googleapis.com/projects/shop-prod/locations/us/keyRings/app/cryptoKeys/data",
            {
                "name": "projects/shop-prod/locations/us/keyRings/app/cryptoKeys/data",
                "purpose": "ENCRYPT_DECRYPT",
                "rotationPeriod": "7776000s",
                "nextRotationTime": _ts(-30),
            },
            project=PROD,
            folder=FOLDER,
            location="us",
            iam={},
        ),
        asset(
            "apikeys.googleapis.com/Key",
            f"//apikeys.googleapis.com/projects/{PROD}/locations/global/keys/web-maps",
            {
                "name": f"projects/{PROD}/locations/global/keys/web-maps",
                "displayName": "Web maps",
                "createTime": _ts(30),
                "restrictions": {
                    "browserKeyRestrictions": {"allowedReferrers": ["https://shop.example.com/*"]},
                    "apiTargets": [{"service": "maps-backend.googleapis.com"}],
                },
            },
            project=PROD,
            folder=FOLDER,
        ),
        # the console's default for a new key: no application and no API restriction
        asset(
            "apikeys.googleapis.com/Key",
            f"//apikeys.googleapis.com/projects/{SANDBOX}/locations/global/keys/test-key",
            {
                "name": f"projects/{SANDBOX}/locations/global/keys/test-key",
                "displayName": "Test key",
                "createTime": _ts(400),
            },
            project=SANDBOX,
        ),
    ]


# Log-based metrics in shop-prod, written the way people write them (not the CIS text verbatim).
PROD_METRICS = {
    "owner-changes": '(protoPayload.serviceName="cloudresourcemanager.googleapis.com") AND (ProjectOwnership OR '
    'projectOwnerInvitee) OR (protoPayload.serviceData.policyDelta.bindingDeltas.action="REMOVE" AND '
    'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner") OR '
    '(protoPayload.serviceData.policyDelta.bindingDeltas.action="ADD" AND '
    'protoPayload.serviceData.policyDelta.bindingDeltas.role="roles/owner")',
    "audit-config-changes": 'protoPayload.methodName="SetIamPolicy" AND\n'
    "  protoPayload.serviceData.policyDelta.auditConfigDeltas:*",
    "custom-role-changes": 'resource.type="iam_role" AND (protoPayload.methodName = '
    '"google.iam.admin.v1.CreateRole" OR '
    'protoPayload.methodName="google.iam.admin.v1.DeleteRole" OR '
    'protoPayload.methodName="google.iam.admin.v1.UpdateRole")',
    "firewall-changes": 'resource.type="gce_firewall_rule"\nAND (protoPayload.methodName:"compute.firewalls.patch" '
    'OR protoPayload.methodName:"compute.firewalls.insert"OR '
    'protoPayload.methodName:"compute.firewalls.delete")',
    "route-changes": 'resource.type = "gce_route" AND protoPayload.methodName =~ "compute\\.routes\\.(insert|delete)$"',
    "network-changes": 'resource.type="gce_network" AND (protoPayload.methodName:"compute.networks.insert" OR '
    'protoPayload.methodName:"compute.networks.patch" OR '
    'protoPayload.methodName:"compute.networks.delete" OR '
    'protoPayload.methodName:"compute.networks.removePeering" OR '
    'protoPayload.methodName:"compute.networks.addPeering")',
    "bucket-iam-changes": 'resource.type=gcs_bucket AND protoPayload.methodName="storage.setIamPermissions"',
    "sql-changes": 'protoPayload.methodName="cloudsql.instances.update"',
}


def _logging() -> list[dict[str, Any]]:
    sink, metric = "logging.googleapis.com/LogSink", "logging.googleapis.com/LogMetric"
    alert = "monitoring.googleapis.com/AlertPolicy"
    conditions: list[dict[str, Any]] = [
        {
            "displayName": name,
            "conditionThreshold": {
                "filter": f'metric.type="logging.googleapis.com/user/{name}" AND resource.type="global"',
                "comparison": "COMPARISON_GT",
                "duration": "0s",
            },
        }
        for name in PROD_METRICS
        if name != "sql-changes"
    ]
    conditions.append(
        {
            "displayName": "sql-changes",
            "conditionMonitoringQueryLanguage": {
                "query": "fetch global | metric 'logging.googleapis.com/user/sql-changes' | align rate(1m) | every 1m",
                "duration": "0s",
            },
        }
    )
    out = [
        # an aggregated sink on the organization exporting every entry of every project to a locked bucket
        asset(
            sink,
            f"//logging.googleapis.com/{ORG}/sinks/org-audit",
            {
                "name": "org-audit",
                "destination": "storage.googleapis.com/example-org-audit-logs",
                "includeChildren": True,
                "writerIdentity": "serviceAccount:o100200300-12345@gcp-sa-logging.iam.gserviceaccount.com",
            },
        ),
        asset(
            sink,
            f"//logging.googleapis.com/projects/{SANDBOX}/sinks/all-logs",
            {
                "name": "all-logs",
                "destination": "storage.googleapis.com/shop-sandbox-logs",
                "writerIdentity": f"serviceAccount:service-{SANDBOX}@gcp-sa-logging.iam.gserviceaccount.com",
            },
            project=SANDBOX,
        ),
        asset(
            sink,
            f"//logging.googleapis.com/projects/{SANDBOX}/sinks/_Default",
            {
                "name": "_Default",
                "destination": "logging.googleapis.com/projects/shop-sandbox/locations/global/buckets/_Default",
                "filter": 'NOT LOG_ID("cloudaudit.googleapis.com/activity") AND NOT '
                'LOG_ID("externalaudit.googleapis.com/activity")',
            },
            project=SANDBOX,
        ),
        asset(
            "logging.googleapis.com/LogBucket",
            f"//logging.googleapis.com/projects/{SANDBOX}/locations/global/buckets/_Default",
            {
                "name": f"projects/{SANDBOX}/locations/global/buckets/_Default",
                "retentionDays": 30,
                "lifecycleState": "ACTIVE",
            },
            project=SANDBOX,
        ),
        asset(
            alert,
            f"//monitoring.googleapis.com/projects/{PROD}/alertPolicies/1001",
            {
                "name": f"projects/{PROD}/alertPolicies/1001",
                "displayName": "Security changes",
                "enabled": True,
                "notificationChannels": [f"projects/{PROD}/notificationChannels/77"],
                "conditions": conditions,
            },
            project=PROD,
            folder=FOLDER,
        ),
        # sandbox: a firewall metric that misses patch and delete, behind a disabled alert policy
        asset(
            metric,
            f"//logging.googleapis.com/projects/{SANDBOX}/metrics/fw-watch",
            {
                "name": "fw-watch",
                "filter": 'resource.type="gce_firewall_rule" AND protoPayload.methodName:"compute.firewalls.insert"',
            },
            project=SANDBOX,
        ),
        asset(
            alert,
            f"//monitoring.googleapis.com/projects/{SANDBOX}/alertPolicies/2001",
            {
                "name": f"projects/{SANDBOX}/alertPolicies/2001",
                "displayName": "Firewall",
                "enabled": False,
                "notificationChannels": [f"projects/{SANDBOX}/notificationChannels/5"],
                "conditions": [
                    {
                        "displayName": "fw",
                        "conditionThreshold": {"filter": 'metric.type="logging.googleapis.com/user/fw-watch"'},
                    }
                ],
            },
            project=SANDBOX,
        ),
    ]
    out += [
        asset(
            metric,
            f"//logging.googleapis.com/projects/{PROD}/metrics/{name}",
            {
                "name": name,
                "filter": text,
                "metricDescriptor": {
                    "type": f"logging.googleapis.com/user/{name}",
                    "metricKind": "DELTA",
                    "valueType": "INT64",
                },
            },
            project=PROD,
            folder=FOLDER,
        )
        for name, text in PROD_METRICS.items()
    ]
    return out


def _contacts() -> list[dict[str, Any]]:
    contact = "essentialcontacts.googleapis.com/Contact"
    return [
        asset(
            contact,
            f"//essentialcontacts.googleapis.com/{ORG}/contacts/1",
            {
                "name": f"{ORG}/contacts/1",
                "email": "security@example.com",
                "languageTag": "en",
                "notificationCategorySubscriptions": ["SECURITY", "TECHNICAL"],
                "validationState": "VALID",
            },
        ),
        asset(
            contact,
            f"//essentialcontacts.googleapis.com/{FOLDER}/contacts/2",
            {
                "name": f"{FOLDER}/contacts/2",
                "email": "legal@example.com",
                "languageTag": "en",
                "notificationCategorySubscriptions": ["LEGAL", "SUSPENSION"],
                "validationState": "VALID",
            },
            folder=FOLDER,
        ),
    ]


def demo_org() -> list[dict[str, Any]]:
    """An organization with a 'production' folder holding 'shop-prod' (mostly well configured) and
    'shop-sandbox' directly under the organization (typical problems). It carries the shapes a careless
    check gets wrong: service agents with Editor (not findings), a service account with
    projectIamAdmin, Owner for a workforce principalSet and Editor for a deleted:user, data-access
    audit logging and compute.requireOsLogin set only on the folder, a Windows VM, a subnet without
    flow logs, a VM with serial port and IP forwarding on and project SSH keys allowed, a project with
    no change alerts, a log sink into an unlocked bucket, an unrestricted API key and a PostgreSQL
    instance without logging flags."""
    return [*_hierarchy(), *_projects(), *_storage(), *_compute(), *_sql(), *_keys(), *_logging(), *_contacts()]


def demo_identity_policies() -> list[dict[str, Any]]:
    """2-Step Verification enforcement of the demo's Cloud Identity customer: enforced on the root
    organizational unit, but the 'contractors' unit has its own policy that does not enforce it."""
    setting = "settings/security.two_step_verification_enforcement"

    def policy(name: str, org_unit: str, value: dict[str, Any], order: float, kind: str = "ADMIN") -> dict[str, Any]:
        return {
            "name": f"policies/{name}",
            "customer": "customers/C03az79cb",
            "policyQuery": {
                "orgUnit": f"orgUnits/{org_unit}",
                "sortOrder": order,
                "query": f"entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('{org_unit}'))",
            },
            "setting": {"type": setting, "value": value},
            "type": kind,
        }

    return [
        policy("sys-root", "03ph8a2z1enx4q", {}, 100.00049, "SYSTEM"),
        policy("root-2sv", "03ph8a2z1enx4q", {"enforcedFrom": "2024-01-15T00:00:00Z"}, 101.0),
        policy("contractors-2sv", "03ph8a2z3kd9qf", {}, 102.0),
    ]


_demo: FakeCloudAsset | None = None


def start() -> str:
    """Start the demo's fake Cloud Asset server; returns its URL."""
    global _demo
    if _demo is None:
        _demo = FakeCloudAsset(demo_org(), identity_policies=demo_identity_policies())
        _demo.start()
    return _demo.url


def stop() -> None:
    global _demo
    if _demo is not None:
        _demo.stop()
        _demo = None


def source_config(url: str | None = None) -> dict[str, Any]:
    """The GCP source to add to the demo Config's ``sources`` (call start() first)."""
    return {
        "name": "demo-gcp",
        "provider": "gcp",
        "scope": ORG,
        "endpoint": url or start(),
        "cloud_identity_admin": "admin@example.com",
        "schedule": {"interval": "1h"},
    }
