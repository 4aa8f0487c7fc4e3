"""Fleet (fleetdm.com) REST API -> ``endpoint.device`` resources, one snapshot per Fleet server.

    GET /api/v1/fleet/hosts?page=N&per_page=M&populate_policies=true
                                                 every page (0-based) until a short or last page: OS,
                                                 seen_time, mdm, issues, policies with policy_updated_at
    GET /api/v1/fleet/hosts/{id}                 only for what the listing lacks: disk_encryption_enabled
                                                 (skipped when a policy answers disk encryption)

A 1,000-host fleet at the default per_page of 100 takes 10-11 listing calls, plus 1,000 detail
calls unless a ``disk_encryption`` policy is mapped (then none); it used to take 1,000 detail calls
whatever the mapping, one per host, for the policy results too.

Fleet policies are the organisation's own osquery checks; ``fleet.policies`` in the config names
the policy that answers each device attribute (antivirus, firewall, disk_encryption, os_supported,
os_patched, password_required, edr, tamper_protection). Policy results carry their own time
(``policy_updated_at``): the attributes they answer are judged fresh by it, not by ``seen_time``.
A 429, 5xx or network error is retried after ``Retry-After`` (or an exponential backoff with
jitter), up to ``max_retries`` times and never past DEADLINE seconds a request (collectors.http_retry).
The API token is sent only in the Authorization header and never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from agent.errors import AgentError
from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.endpoints.config import EndpointSource, FleetOptions
from collectors.endpoints.device import DEVICE_TYPE, Antivirus, Edr, PatchState, device_resource
from collectors.http_retry import RetryPolicy, send

__all__ = ["FleetClient", "collect_fleet", "host_to_resource", "needs_detail", "platform_of"]

_PLATFORMS = {"darwin": "macos", "windows": "windows", "ios": "ios", "ipados": "ios", "android": "android"}
_LINUX = {
    "ubuntu",
    "debian",
    "rhel",
    "centos",
    "fedora",
    "amzn",
    "arch",
    "linux",
    "sles",
    "opensuse",
    "gentoo",
    "manjaro",
    "pop",
    "nixos",
    "rocky",
    "almalinux",
    "oracle",
}
MAX_WAIT = 120.0  # one wait, Retry-After included
DEADLINE = 300.0  # one request, its retries included


def platform_of(value: str) -> str:
    v = (value or "").lower()
    return _PLATFORMS.get(v) or ("linux" if v in _LINUX else "other")


class FleetError(Exception):
    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation}: {code}: {message}")
        self.operation, self.code, self.message = operation, code, message


class FleetClient:
    """A thin httpx client: bearer token, retries on 429/5xx honouring Retry-After."""

    def __init__(self, opts: FleetOptions, ctx: CollectContext, sleep: Callable[[float], object] | None = None) -> None:
        self.opts = opts
        self.ctx = ctx
        self.sleep = sleep or ctx.cancel.wait  # a shutdown cuts a long Retry-After short
        # every httpx error is retried, as it always was; 429 and 5xx too
        self.retry = RetryPolicy(opts.max_retries, MAX_WAIT, DEADLINE, errors=(httpx.HTTPError,))
        verify: Any = opts.ca_bundle or True
        self.http = httpx.Client(
            base_url=opts.url.rstrip("/"),
            timeout=opts.timeout.total_seconds(),
            verify=verify,
            headers={
                "Authorization": f"Bearer {opts.token.reveal()}",
                "Accept": "application/json",
                "User-Agent": "posture-agent",
            },
        )

    def close(self) -> None:
        self.http.close()

    def _attempt(self, operation: str, path: str, params: dict[str, Any] | None) -> httpx.Response:
        """One GET with its bookkeeping: cancellation first, the API-call metric after."""
        self.ctx.check_cancelled()
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            self.ctx.on_api_call("fleet", operation, type(exc).__name__)
            raise
        status = response.status_code
        self.ctx.on_api_call("fleet", operation, None if status < 300 else str(status))
        return response

    def get(self, operation: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        attempts = 0

        def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            return self._attempt(operation, path, params)

        try:
            response = send(attempt, self.retry, operation=operation, sleep=self.sleep)
        except httpx.HTTPError as exc:
            raise FleetError(operation, type(exc).__name__, str(exc)[:300]) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise FleetError(operation, str(status), f"gave up after {attempts} attempts")
        if status >= 400:
            raise FleetError(operation, str(status), response.text[:300])
        try:
            data = response.json()
        except ValueError:
            raise FleetError(operation, "BadResponse", "answer is not JSON") from None
        if not isinstance(data, dict):
            raise FleetError(operation, "BadResponse", "answer is not a JSON object")
        return data

    def hosts(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 0
        while True:
            data = self.get(
                "ListHosts",
                "/api/v1/fleet/hosts",
                {"page": page, "per_page": self.opts.per_page, "order_key": "id", "populate_policies": "true"},
            )
            batch = [h for h in data.get("hosts") or [] if isinstance(h, dict)]
            out.extend(batch)
            more = (data.get("meta") or {}).get("has_next_results")
            if more is False or (more is None and len(batch) < self.opts.per_page) or not batch:
                return out
            page += 1

    def host(self, host_id: Any) -> dict[str, Any]:
        data = self.get("GetHost", f"/api/v1/fleet/hosts/{int(host_id)}")
        host = data.get("host")
        if not isinstance(host, dict):
            raise FleetError("GetHost", "BadResponse", "answer has no host object")
        return host


def _policy_results(host: dict[str, Any]) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("response") or "") for p in host.get("policies") or [] if isinstance(p, dict)}


def _by_policy(results: dict[str, str], name: str | None) -> bool | None:
    if not name or name not in results or results[name] not in ("pass", "fail"):
        return None
    return results[name] == "pass"


def _mdm_enrolled(host: dict[str, Any]) -> bool | None:
    """Fleet's mdm.enrollment_status: "On (manual)", "On (automatic)", "On (personal)", "Pending", "Off"."""
    status = str((host.get("mdm") or {}).get("enrollment_status") or "")
    if status.startswith("On"):
        return True
    if status in ("Off", "Pending"):
        return False
    return None


def _compliance(host: dict[str, Any], results: dict[str, str]) -> tuple[str | None, list[str]]:
    """Fleet's own verdict: every policy of the host passing. Unanswered policies make it unknown."""
    failing = sorted(name for name, response in results.items() if response == "fail")
    count = (host.get("issues") or {}).get("failing_policies_count")
    if failing or (isinstance(count, int) and count > 0):
        return "noncompliant", failing
    if results and all(r == "pass" for r in results.values()):
        return "compliant", []
    return None, []


def needs_detail(summary: dict[str, Any], policies: dict[str, str]) -> bool:
    """Whether the listing lacks something only GET /hosts/{id} has: disk encryption (unless a policy
    answers it), or policy results from a Fleet too old to honour populate_policies."""
    no_disk = "disk_encryption_enabled" not in summary and not policies.get("disk_encryption")
    return no_disk or "policies" not in summary


def host_to_resource(
    account: str,
    summary: dict[str, Any],
    detail: dict[str, Any] | None,
    policies: dict[str, str],
    detail_error: str | None = None,
) -> Resource:
    host = {**summary, **(detail or {})}
    results = _policy_results(host)
    av_policy = policies.get("antivirus")
    antivirus = None
    av_ok = _by_policy(results, av_policy)
    if av_ok is not None:
        antivirus = [Antivirus(product=f"Fleet policy: {av_policy}", enabled=av_ok, up_to_date=av_ok)] if av_ok else []
    edr_ok = _by_policy(results, policies.get("edr"))
    patched = _by_policy(results, policies.get("os_patched"))
    disk = host.get("disk_encryption_enabled")
    by_policy_disk = _by_policy(results, policies.get("disk_encryption"))
    compliance, failing = _compliance(host, results)
    # Policy results carry their own time: judge them by it, not by the last check-in.
    checked = host.get("policy_updated_at") or None
    observed: dict[str, str | None] = {
        key: checked
        for key in (
            "antivirus",
            "firewall",
            "os_supported",
            "password_required",
            "edr",
            "tamper_protection",
            "patches",
            "mdm_compliance",
        )
    }
    if isinstance(disk, bool):
        if host.get("detail_updated_at"):
            observed["disk_encryption"] = host["detail_updated_at"]
    elif by_policy_disk is not None:
        observed["disk_encryption"] = checked
    errors: dict[str, str] = {}
    if detail is None and detail_error:
        errors["disk_encryption"] = detail_error
        if "policies" not in summary:
            for key in ("antivirus", "firewall", "os_supported", "mdm_compliance"):
                errors[key] = detail_error
    mdm = host.get("mdm") or {}
    return device_resource(
        source_kind="fleet",
        account=account,
        device_id=str(host.get("id")),
        hostname=str(host.get("display_name") or host.get("computer_name") or host.get("hostname") or ""),
        platform=platform_of(str(host.get("platform") or "")),
        owner=None,
        os_version=host.get("os_version"),
        os_build=host.get("build") or None,
        serial=host.get("hardware_serial") or None,
        last_seen=host.get("seen_time"),
        antivirus=antivirus,
        disk_encryption=disk if isinstance(disk, bool) else by_policy_disk,
        firewall=_by_policy(results, policies.get("firewall")),
        os_supported=_by_policy(results, policies.get("os_supported")),
        mdm_enrolled=_mdm_enrolled(host),
        mdm_compliance=compliance,
        password_required=_by_policy(results, policies.get("password_required")),
        tamper_protection=_by_policy(results, policies.get("tamper_protection")),
        edr=None if edr_ok is None else [Edr(product=f"Fleet policy: {policies['edr']}", running=edr_ok)],
        patches=None if patched is None else PatchState(compliant=patched),
        observed_at=observed,
        extra={
            "fleet_status": host.get("status"),
            "policies": results,
            "failing_policies": failing,
            "team": host.get("team_name"),
            "uuid": host.get("uuid"),
            "mdm_status": mdm.get("enrollment_status"),
            "mdm_name": mdm.get("name") or None,
        },
        errors=errors,
    )


def collect_fleet(source: EndpointSource, ctx: CollectContext) -> list[Snapshot]:
    opts = source.fleet
    assert opts is not None
    started = utcnow()
    account = urlsplit(opts.url).netloc or source.name
    try:
        client = FleetClient(opts, ctx)
    except (OSError, ValueError) as exc:
        raise AgentError(f"source {source.name}: cannot set up the Fleet client: {exc}") from None
    resources: list[Resource] = []
    errors: list[CollectionError] = []
    try:
        hosts = client.hosts()
        ctx.progress.add_total(len(hosts))
        policies: dict[str, str] = {str(k): v for k, v in opts.policies.items()}
        for h in hosts:
            detail, why = None, None
            if needs_detail(h, policies):
                try:
                    detail = client.host(h.get("id"))
                except FleetError as exc:
                    why = f"{exc.operation}: {exc.code}: {exc.message[:120]}"
            resources.append(host_to_resource(account, h, detail, policies, why))
            ctx.progress.advance(1, f"{account} host {h.get('id')}")
    except FleetError as exc:
        errors.append(
            CollectionError(
                service="fleet",
                operation=exc.operation,
                region="global",
                code=exc.code,
                message=exc.message,
                resource_type=DEVICE_TYPE,
            )
        )
    finally:
        client.close()
    return [
        Snapshot(
            source=source.name,
            provider="endpoints",
            account=account,
            started_at=started,
            finished_at=utcnow(),
            resources=tuple(sorted(resources, key=lambda r: r.id)),
            errors=tuple(errors),
        )
    ]
