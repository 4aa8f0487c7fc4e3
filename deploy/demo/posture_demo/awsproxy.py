"""A loopback HTTP proxy in front of a moto server: fills moto's gaps and injects faults.

moto has no SSM inventory or instance information, no IAM Access Analyzer, and misses a few list
operations. Rather than patching the collector, tests and the demo point ``AWS_ENDPOINT_URL`` (or a
source's ``endpoint_url``) at this proxy. It

- answers ``AmazonSSM.DescribeInstanceInformation`` (every EC2 instance of the caller's account and
  region whose id is in the inventory fixture is a managed instance: moto's own DescribeInstances is
  asked with the caller's credentials, so accounts and regions stay apart; ``platforms`` makes one a
  Windows server, ``ping_status`` gives one an agent that is not Online, e.g. ``ConnectionLost``),
  ``AmazonSSM.ListInventoryEntries`` (``AWS:Application`` entries from ``inventory``, ``AWS:Service``
  from ``services``, ``AWS:WindowsUpdate`` from ``windows_updates``, keyed by instance id) and
  ``AmazonSSM.DescribeInstancePatchStates`` (from ``patch_states``) in the real AWS JSON 1.1 protocol,
  with MaxResults/NextToken paging. As in SSM, observation times tick between requests: pings and
  inventory capture are "now", a recent patch scan keeps its age (an older one stays fixed);
- answers Lambda ``ListFunctionUrlConfigs`` from moto's own ``GetFunctionUrlConfig`` (asked with
  the caller's credentials), so a function URL seeded in moto is seen;
- answers the other missing read operations (Access Analyzer ListAnalyzers, Backup
  ListBackupSelections/ListProtectedResources) with empty lists;
- injects faults by rule (service/operation/region -> HTTP status and AWS error code, a delay, or
  a dropped connection), written in the error shape of the service's protocol;
- forwards everything else to moto byte for byte.

Service and region come from the SigV4 credential scope (``.../REGION/SERVICE/aws4_request``), so
a rule's ``service`` is the signing name (``ec2``, ``s3`` (also s3control), ``access-analyzer``,
``elasticloadbalancing``, ``elasticfilesystem``...). The operation comes from ``X-Amz-Target``, the
``Action`` query/form parameter, or, for the REST operations the proxy knows, from the path (S3
bucket reads by sub-resource; s3control's account public access block is
``GetAccountPublicAccessBlock``, the IAM action name, to tell it from the bucket one).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import httpx

__all__ = ["AwsProxy", "Fault", "RequestInfo"]

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "content-length",
}
# REST operations the proxy recognises by path: (signing service, method, path) -> operation.
_REST: list[tuple[str, str, re.Pattern[str], str]] = [
    ("access-analyzer", "GET", re.compile(r"^/analyzer/?$"), "ListAnalyzers"),
    ("backup", "GET", re.compile(r"^/backup/plans/[^/]+/selections/?$"), "ListBackupSelections"),
    ("backup", "GET", re.compile(r"^/resources/?$"), "ListProtectedResources"),
    ("lambda", "GET", re.compile(r"^/2021-10-31/functions/[^/]+/urls/?$"), "ListFunctionUrlConfigs"),
]
# S3 bucket reads recognised by their sub-resource query key (path-style requests).
_S3_GET = {
    "encryption": "GetBucketEncryption",
    "policy": "GetBucketPolicy",
    "versioning": "GetBucketVersioning",
    "acl": "GetBucketAcl",
    "logging": "GetBucketLogging",
    "location": "GetBucketLocation",
    "publicAccessBlock": "GetPublicAccessBlock",
}
_PATCH_TIMES = ("OperationStartTime", "OperationEndTime", "LastNoRebootInstallOperationTime")
# Patch Manager scans a server about daily: a scan younger than this recurs, so it is served at the same
# age on every request; an older one has stopped and stays fixed, its age growing.
_RECURRING_SCAN = timedelta(days=2)
# Answers for operations moto lacks and the fixture does not cover: (service, operation) -> body.
_EMPTY: dict[tuple[str, str], dict[str, Any]] = {
    ("access-analyzer", "ListAnalyzers"): {"analyzers": []},
    ("backup", "ListBackupSelections"): {"BackupSelectionsList": []},
    ("backup", "ListProtectedResources"): {"Results": []},
}


@dataclass
class Fault:
    """A rule: requests matching every given field get this answer instead of moto's.

    ``status=None`` with a ``delay`` only slows the request down; ``drop`` closes the connection
    without an answer. ``times`` limits how often the rule fires (None: always).
    """

    service: str | None = None
    operation: str | None = None
    region: str | None = None
    status: int | None = 400
    code: str = "AccessDeniedException"
    message: str = "injected by awsproxy"
    delay: float = 0.0
    drop: bool = False
    times: int | None = None

    def matches(self, info: RequestInfo) -> bool:
        return all(
            want is None or want == have
            for want, have in (
                (self.service, info.service),
                (self.operation, info.operation),
                (self.region, info.region),
            )
        )


@dataclass(frozen=True)
class RequestInfo:
    """What the proxy understood of one request."""

    service: str
    region: str
    operation: str
    protocol: str  # "json", "query", "ec2", "rest-xml" or "rest-json"


@dataclass
class AwsProxy:
    """``AwsProxy(moto_url, inventory={instance_id: [entries]})``; ``start()``, ``url``, ``stop()``."""

    upstream: str
    inventory: Mapping[str, list[dict[str, str]]] = field(default_factory=dict)
    services: Mapping[str, list[dict[str, str]]] = field(default_factory=dict)  # AWS:Service per instance
    windows_updates: Mapping[str, list[dict[str, str]]] = field(default_factory=dict)  # AWS:WindowsUpdate
    patch_states: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # InstancePatchState per instance
    platforms: Mapping[str, str] = field(default_factory=dict)  # instance id -> "Windows" (default: Linux)
    ping_status: Mapping[str, str] = field(default_factory=dict)  # instance id -> PingStatus (default: Online)
    faults: list[Fault] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    seen: deque[RequestInfo] = field(default_factory=lambda: deque(maxlen=10_000))  # latest requests
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=self.upstream.rstrip("/"), timeout=60.0)
        self._built = datetime.now(UTC)  # the fixtures' times are as of now

    def _patch_state(self, instance_id: str) -> dict[str, Any]:
        """The fixture's patch state as served now: a recent Scan's times moved on by the time since build
        (scans recur on their own; an Install is a change, made once)."""
        now = datetime.now(UTC)
        state = self.patch_states[instance_id]
        recurring = str(state.get("Operation", "")).lower() == "scan"
        return {
            k: min(v + (now - self._built), now)
            if recurring and k in _PATCH_TIMES and isinstance(v, datetime) and self._built - v < _RECURRING_SCAN
            else v
            for k, v in {"InstanceId": instance_id, **state}.items()
        }

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("proxy not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> AwsProxy:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="awsproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._http.close()

    def __enter__(self) -> AwsProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- rules -----------------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _fault_for(self, info: RequestInfo) -> Fault | None:
        with self._lock:
            self.seen.append(info)
            for fault in self.faults:
                if fault.matches(info) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None


def _understand(method: str, path: str, headers: Mapping[str, str], body: bytes) -> RequestInfo:
    scope = _SCOPE.search(headers.get("authorization", ""))
    region, service = scope.groups() if scope else ("", "")
    target = headers.get("x-amz-target", "")
    if target:
        return RequestInfo(service, region, target.rsplit(".", 1)[-1], "json")
    url = urlsplit(path)
    params = parse_qs(url.query, keep_blank_values=True)
    if "x-www-form-urlencoded" in headers.get("content-type", ""):
        params.update(parse_qs(body.decode("utf-8", "replace")))
    if "Action" in params:
        return RequestInfo(service, region, params["Action"][0], "ec2" if service == "ec2" else "query")
    if service == "s3" and method == "GET":
        if url.path in ("", "/"):
            return RequestInfo(service, region, "ListBuckets", "rest-xml")
        if url.path.startswith("/v20180820/configuration/publicAccessBlock"):
            return RequestInfo(service, region, "GetAccountPublicAccessBlock", "rest-xml")
        sub = next((_S3_GET[k] for k in params if k in _S3_GET), "")
        return RequestInfo(service, region, sub, "rest-xml")
    for svc, verb, pattern, operation in _REST:
        if svc == service and verb == method and pattern.match(url.path):
            return RequestInfo(service, region, operation, "rest-json")
    return RequestInfo(service, region, "", "rest-xml" if service == "s3" else "rest-json")


def _error(info: RequestInfo, fault: Fault) -> tuple[int, dict[str, str], bytes]:
    """An error in the shape botocore's parser for this protocol expects."""
    rid = str(uuid.uuid4())
    status = fault.status or 400
    if info.protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
            f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()
    if info.protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code><Message>"
            f"{fault.message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml"}, body.encode()
    if info.protocol == "rest-xml":
        body = f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message></Error>"
        return status, {"Content-Type": "application/xml", "x-amz-request-id": rid}, body.encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": fault.code, "x-amzn-RequestId": rid}
    return status, headers, json.dumps({"__type": fault.code, "message": fault.message}).encode()


def _page(items: list[Any], request: Mapping[str, Any], key: str) -> dict[str, Any]:
    """MaxResults/NextToken paging over a fixture list (the token is an offset)."""
    start = int(request.get("NextToken") or 0)
    size = int(request.get("MaxResults") or 50)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


class _Handler(BaseHTTPRequestHandler):
    proxy: AwsProxy
    protocol_version = "HTTP/1.1"  # keep-alive: botocore pools connections

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        info = _understand(self.command, self.path, headers, body)
        fault = self.proxy._fault_for(info)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault.status is not None:
                self._reply(*_error(info, fault))
                return
        local = self._local(info, headers, body)
        if local is not None:
            self._reply(200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(local).encode())
            return
        self._forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    # -- answers moto cannot give ----------------------------------------------------------------
    def _local(self, info: RequestInfo, headers: Mapping[str, str], body: bytes) -> Any:
        if info.service == "ssm" and info.operation == "ListInventoryEntries":
            request = json.loads(body or b"{}")
            instance = request.get("InstanceId", "")
            by_type = {
                "AWS:Application": self.proxy.inventory,
                "AWS:Service": self.proxy.services,
                "AWS:WindowsUpdate": self.proxy.windows_updates,
            }
            entries = by_type.get(request.get("TypeName", ""), {}).get(instance, [])
            return {
                "TypeName": request.get("TypeName"),
                "InstanceId": instance,
                "SchemaVersion": "1.1",
                "CaptureTime": _now(),
                **_page(list(entries), request, "Entries"),
            }
        if info.service == "ssm" and info.operation == "DescribeInstancePatchStates":
            request = json.loads(body or b"{}")
            states = [
                _wire(self.proxy._patch_state(i))
                for i in request.get("InstanceIds", [])
                if i in self.proxy.patch_states
            ]
            return _page(states, request, "InstancePatchStates")
        if info.service == "lambda" and info.operation == "ListFunctionUrlConfigs":
            return self._function_urls(headers)
        if info.service == "ssm" and info.operation == "DescribeInstanceInformation":
            request = json.loads(body or b"{}")
            return _page(self._managed_instances(info, headers), request, "InstanceInformationList")
        return _EMPTY.get((info.service, info.operation))

    def _function_urls(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """moto has GetFunctionUrlConfig but no List: a function has at most one URL (no aliases
        are seeded), so the list is that one config or nothing."""
        path = urlsplit(self.path).path.rstrip("/").removesuffix("/urls") + "/url"
        forward = {k: v for k, v in headers.items() if k in ("authorization", "x-amz-security-token", "x-amz-date")}
        answer = self.proxy._http.get(path, headers=forward)
        if answer.status_code >= 300:
            return {"FunctionUrlConfigs": []}
        config = answer.json()
        keep = ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime", "LastModifiedTime", "InvokeMode")
        return {"FunctionUrlConfigs": [{k: config[k] for k in keep if k in config}]}

    def _managed_instances(self, info: RequestInfo, headers: Mapping[str, str]) -> list[dict[str, Any]]:
        """The caller's EC2 instances (asked of moto with the caller's own credentials) that the
        inventory fixture names: those run an SSM agent."""
        auth = headers.get("authorization", "").replace(f"/{info.region}/ssm/", f"/{info.region}/ec2/")
        forward = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
        if "x-amz-security-token" in headers:
            forward["X-Amz-Security-Token"] = headers["x-amz-security-token"]
        answer = self.proxy._http.post("/", headers=forward, content=b"Action=DescribeInstances&Version=2016-11-15")
        out = []
        for inst in ElementTree.fromstring(answer.content).iter():
            if _local_name(inst.tag) != "item" or _child(inst, "instanceId") is None:
                continue
            instance_id = _child(inst, "instanceId") or ""
            state = _child(inst, "instanceState", "name")
            if instance_id not in self.proxy.inventory or state != "running":
                continue
            windows = (_child(inst, "platform") or self.proxy.platforms.get(instance_id, "")).lower() == "windows"
            out.append(
                {
                    "InstanceId": instance_id,
                    "PingStatus": self.proxy.ping_status.get(instance_id, "Online"),
                    "LastPingDateTime": time.time(),
                    "AgentVersion": "3.3.0.0",
                    "PlatformType": "Windows" if windows else "Linux",
                    "PlatformName": "Microsoft Windows Server 2022" if windows else "Amazon Linux",
                    "IPAddress": _child(inst, "privateIpAddress") or "",
                    "ResourceType": "EC2Instance",
                    "ComputerName": instance_id,
                }
            )
        return out

    # -- plumbing --------------------------------------------------------------------------------
    def _forward(self, body: bytes) -> None:
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP]
        request = self.proxy._http.build_request(self.command, self.path, headers=headers, content=body)
        response = self.proxy._http.send(request, stream=True)
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        out = {k: v for k, v in response.headers.multi_items() if k.lower() not in _HOP}
        if self.command == "HEAD" and "content-length" in response.headers:
            out["Content-Length"] = response.headers["content-length"]
        self._reply(response.status_code, out, raw)

    def _reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ElementTree.Element, *names: str) -> str | None:
    """Text of a direct-child path, ignoring XML namespaces (moto's EC2 namespace varies)."""
    for name in names:
        found = next((c for c in element if _local_name(c.tag) == name), None)
        if found is None:
            return None
        element = found
    return element.text


def _wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """A fixture record in the JSON protocol: datetimes as epoch seconds."""
    return {k: v.timestamp() if isinstance(v, datetime) else v for k, v in record.items()}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
