"""Microsoft Intune managed devices (Graph) -> endpoint.device resources, one snapshot per tenant.

The dispatcher in collectors/endpoints calls ``collect_intune`` for EndpointSource kind ``intune``
with the source's ``azure`` credentials. Windows devices get their Defender state from
``windowsProtectionState`` (a beta Graph path today; configurable as ``protection_state_path``).
Other platforms' antivirus is unknown (None), which device checks report as ``error``, never ``pass``.
"""

from __future__ import annotations

from typing import Any

from agent.config import EndpointSource
from agent.errors import ConfigError, Problem
from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.azure.credential import make_credential
from collectors.azure.http import ApiError, AzureHttp
from collectors.endpoints.device import DEVICE_TYPE, Antivirus, device_resource

__all__ = ["collect_intune", "device_from_intune"]

_SELECT = (
    "id,deviceName,operatingSystem,osVersion,serialNumber,userPrincipalName,lastSyncDateTime,"
    "isEncrypted,complianceState,managedDeviceOwnerType,model,manufacturer"
)
_PLATFORMS = {
    "windows": "windows",
    "macos": "macos",
    "ios": "ios",
    "ipados": "ios",
    "android": "android",
    "linux": "linux",
}
DEFENDER = "Microsoft Defender Antivirus"


def _platform(os_name: Any) -> str:
    text = str(os_name or "").lower().replace(" ", "")
    return next((v for k, v in _PLATFORMS.items() if text.startswith(k)), "other")


def _antivirus(state: dict[str, Any]) -> Antivirus:
    rtp, mp = state.get("realTimeProtectionEnabled"), state.get("malwareProtectionEnabled")
    enabled = None if rtp is None and mp is None else bool(rtp) and mp is not False
    overdue = state.get("signatureUpdateOverdue")
    return Antivirus(
        product=DEFENDER,
        enabled=enabled,
        up_to_date=None if overdue is None else not overdue,
        definitions_updated=None,
    )


def device_from_intune(
    tenant: str, dev: dict[str, Any], protection: dict[str, Any] | None, protection_error: str | None
) -> Resource:
    platform = _platform(dev.get("operatingSystem"))
    errors: dict[str, str] = {}
    antivirus: list[Antivirus] | None = None
    if protection is not None:
        antivirus = [_antivirus(protection)]
    elif protection_error:
        errors["antivirus"] = protection_error
    extra = {
        k: dev.get(k)
        for k in ("complianceState", "managedDeviceOwnerType", "model", "manufacturer")
        if dev.get(k) is not None
    }
    if protection is not None:
        extra["windowsProtectionState"] = {
            k: protection.get(k)
            for k in (
                "malwareProtectionEnabled",
                "realTimeProtectionEnabled",
                "signatureUpdateOverdue",
                "tamperProtectionEnabled",
                "antiMalwareVersion",
                "signatureVersion",
                "engineVersion",
                "quickScanOverdue",
                "fullScanOverdue",
                "rebootRequired",
            )
            if k in protection
        }
    encrypted = dev.get("isEncrypted")
    return device_resource(
        source_kind="intune",
        account=tenant,
        device_id=str(dev.get("id")),
        hostname=str(dev.get("deviceName") or dev.get("id")),
        platform=platform,
        owner=dev.get("userPrincipalName") or None,
        os_version=dev.get("osVersion") or None,
        serial=dev.get("serialNumber") or None,
        last_seen=dev.get("lastSyncDateTime") or None,
        antivirus=antivirus,
        disk_encryption=encrypted if isinstance(encrypted, bool) else None,
        extra=extra,
        errors=errors,
    )


def collect_intune(source: EndpointSource, ctx: CollectContext) -> list[Snapshot]:
    """Intune devices of the source's tenant (read-only Graph). Raises AuthError without a token."""
    creds = source.azure
    if creds is None:
        raise ConfigError(
            [
                Problem(
                    key=f"sources.{source.name}.azure",
                    message="kind intune needs an azure: section (tenant_id, auth, client_id...)",
                )
            ]
        )
    started = utcnow()
    resources: list[Resource] = []
    errors: list[CollectionError] = []
    with AzureHttp(make_credential(creds), creds, ctx) as http:
        try:
            devices = http.list(
                "graph",
                "/v1.0/deviceManagement/managedDevices",
                {"$select": _SELECT},
                operation="ListManagedDevices",
            )
        except ApiError as exc:
            devices = []
            errors.append(
                CollectionError(
                    service="intune",
                    operation="ListManagedDevices",
                    region="global",
                    code=exc.code,
                    message=exc.message,
                    resource_type=DEVICE_TYPE,
                )
            )
        ctx.progress.add_total(len(devices))
        for dev in devices:
            ctx.check_cancelled()
            protection: dict[str, Any] | None = None
            problem: str | None = None
            if _platform(dev.get("operatingSystem")) == "windows":
                path = creds.protection_state_path.replace("{id}", str(dev.get("id")))
                try:
                    protection = http.get("graph", path, operation="GetWindowsProtectionState")
                except ApiError as exc:
                    problem = f"windowsProtectionState: {exc.code}: {exc.message}"
            resources.append(device_from_intune(creds.tenant_id, dev, protection, problem))
            ctx.progress.advance(1, str(dev.get("deviceName") or ""))
    return [
        Snapshot(
            source=source.name,
            provider="endpoints",
            account=creds.tenant_id,
            started_at=started,
            finished_at=utcnow(),
            resources=tuple(resources),
            errors=tuple(errors),
        )
    ]
