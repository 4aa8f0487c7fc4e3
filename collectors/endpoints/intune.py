"""Microsoft Intune (Graph) -> ``endpoint.device`` resources, one snapshot per tenant (kind ``intune``).

    GET /v1.0/deviceManagement/deviceCompliancePolicies                  once: the policies' values
    GET /v1.0/deviceManagement/managedDevices?$select=...                every device (paged)
    per device:
    GET {protection_state_path}                                          Windows: Defender state
    GET /v1.0/deviceManagement/managedDevices/{id}/detectedApps          Windows, macOS: other AV/EDR
    GET /v1.0/deviceManagement/managedDevices/{id}/deviceCompliancePolicyStates
    GET /beta/deviceManagement/managedDevices/{id}/deviceCompliancePolicyStates/{policyId}/settingStates
                                                                         per applicable policy, unless
                                                                         the list already carries them

A policy setting state says whether the device meets one setting of one policy; the policy's value
says what that setting requires. Together they give firewall, password, screen lock, encryption
and minimum OS version "when Intune knows them" (collectors/endpoints/device.py: None otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.errors import ConfigError, Problem
from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.azure.credential import make_credential
from collectors.azure.http import ApiError, AzureHttp
from collectors.endpoints.config import EndpointSource
from collectors.endpoints.device import DEVICE_TYPE, Antivirus, Edr, device_resource
from collectors.endpoints.products import ANTIVIRUS, EDR, match

__all__ = ["IntuneDetails", "collect_intune", "device_from_intune"]

_SELECT = (
    "id,deviceName,operatingSystem,osVersion,serialNumber,userPrincipalName,lastSyncDateTime,"
    "isEncrypted,complianceState,complianceGracePeriodExpirationDateTime,managedDeviceOwnerType,"
    "managementAgent,jailBroken,model,manufacturer"
)
POLICIES = "/v1.0/deviceManagement/deviceCompliancePolicies"
DEVICES = "/v1.0/deviceManagement/managedDevices"
POLICY_STATES = DEVICES + "/{id}/deviceCompliancePolicyStates"
SETTING_STATES = "/beta/deviceManagement/managedDevices/{id}/deviceCompliancePolicyStates/{policy}/settingStates"
DETECTED_APPS = DEVICES + "/{id}/detectedApps"
_PLATFORMS = {
    "windows": "windows",
    "macos": "macos",
    "ios": "ios",
    "ipados": "ios",
    "android": "android",
    "linux": "linux",
}
DEFENDER = "Microsoft Defender Antivirus"
# Compliance policy properties (lower case) that answer a device attribute.
_TOPICS = {
    "activefirewallrequired": "firewall",
    "firewallenabled": "firewall",
    "passwordrequired": "password",
    "passcoderequired": "password",
    "passwordminimumlength": "password_length",
    "passcodeminimumlength": "password_length",
    "passwordminutesofinactivitybeforelock": "screen_lock",
    "passcodeminutesofinactivitybeforelock": "screen_lock",
    "osminimumversion": "os_minimum",
    "storagerequireencryption": "encryption",
    "bitlockerenabled": "encryption",
    "securityblockjailbrokendevices": "jailbreak",
}
_SKIP_POLICY_STATES = {"notApplicable", "notAssigned"}
_OFF_FLAGS = {"serviceNotRunning", "serviceStartedWithoutMalwareProtection"}
_CONFIG_PERMISSION = "DeviceManagementConfiguration.Read.All"


@dataclass
class IntuneDetails:
    """What the per-device calls returned (None: not asked) and why a call failed."""

    protection: dict[str, Any] | None = None
    apps: list[dict[str, Any]] | None = None
    policy_states: list[dict[str, Any]] | None = None
    policies: dict[str, dict[str, Any]] | None = None  # policy id -> policy (tenant-wide list)
    errors: dict[str, str] = field(default_factory=dict)  # "protection" | "apps" | "compliance" -> why


def _platform(os_name: Any) -> str:
    text = str(os_name or "").lower().replace(" ", "")
    return next((v for k, v in _PLATFORMS.items() if text.startswith(k)), "other")


def _flags(value: Any) -> set[str]:
    """A Graph flags enum ("a,b") as a set."""
    return {f.strip() for f in str(value or "").split(",") if f.strip()}


def _version(text: Any) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", str(text or ""))
    return tuple(int(p) for p in parts) if parts else None


def _third_party(apps: list[dict[str, Any]] | None, table: dict[str, str]) -> list[str]:
    names = [match(str(a.get("displayName") or ""), table) for a in apps or []]
    return list(dict.fromkeys(n for n in names if n and "Microsoft Defender" not in n))


def _defender(state: dict[str, Any], others: list[str], complete: bool) -> Antivirus:
    """Microsoft Defender Antivirus as windowsProtectionState shows it.

    Real-time protection off while the engine runs is passive mode when another product is
    registered (Windows switches Defender to passive itself), or protection switched off when none
    is. Intune lists unmanaged apps only on corporate devices, so "none detected" decides only there.
    """
    rtp, engine = state.get("realTimeProtectionEnabled"), state.get("malwareProtectionEnabled")
    status = _flags(state.get("productStatus"))
    overdue = state.get("signatureUpdateOverdue")
    up_to_date = None if overdue is None else not overdue
    if "avSignaturesOutOfDate" in status:
        up_to_date = False
    enabled: bool | None
    passive: bool | None = None
    if engine is False or status & _OFF_FLAGS:
        enabled = False
    elif rtp is True and engine is True:
        enabled = True
    elif rtp is False and engine is True:
        if others:
            enabled, passive = False, True
        elif complete:
            enabled, passive = False, False
        else:
            enabled = None  # passive behind a product Intune cannot list, or switched off: unknown
    elif rtp is False and engine is None:
        enabled = False
    else:
        enabled = None  # a null field is not "off"
    return Antivirus(
        product=DEFENDER, enabled=enabled, up_to_date=up_to_date, definitions_updated=None, passive=passive
    )


def _evidence(details: IntuneDetails) -> list[dict[str, Any]] | None:
    """Per-setting compliance evidence: what each applicable policy requires and whether the device
    meets it. None when the policy states or the policies could not be read."""
    if details.policy_states is None or details.policies is None:
        return None
    out: list[dict[str, Any]] = []
    for state in details.policy_states:
        if state.get("state") in _SKIP_POLICY_STATES:
            continue
        policy = details.policies.get(str(state.get("id")), {})
        values = {k.lower(): v for k, v in policy.items()}
        for setting in state.get("settingStates") or []:
            name = str(setting.get("setting") or "")
            prop = name.rsplit(".", 1)[-1].lower()
            topic = _TOPICS.get(prop)
            required = values.get(prop)
            if topic is None or required in (None, False, 0, "") or setting.get("state") in _SKIP_POLICY_STATES:
                continue  # not a setting we map, the policy does not require it, or it does not apply
            out.append(
                {
                    "topic": topic,
                    "setting": name,
                    "policy": state.get("displayName") or policy.get("displayName"),
                    "state": setting.get("state"),
                    "required": required,
                }
            )
    return out


def _by_topic(evidence: list[dict[str, Any]] | None, topic: str) -> bool | None:
    """A boolean requirement: False if any policy says the device fails it, True if one says it meets it."""
    states = [e.get("state") for e in evidence or [] if e["topic"] == topic]
    if any(s in ("nonCompliant", "noncompliant") for s in states):
        return False
    if any(s in ("compliant", "remediated") for s in states):
        return True
    return None


def _os_supported(dev: dict[str, Any], evidence: list[dict[str, Any]] | None, details: IntuneDetails) -> bool | None:
    by_state = _by_topic(evidence, "os_minimum")
    if by_state is not None or details.policy_states is None or details.policies is None:
        return by_state
    # No setting state: compare the device's version with the minimum of its applicable policies.
    have = _version(dev.get("osVersion"))
    minimums = [
        _version(details.policies.get(str(s.get("id")), {}).get("osMinimumVersion"))
        for s in details.policy_states
        if s.get("state") not in _SKIP_POLICY_STATES
    ]
    wanted = [m for m in minimums if m]
    if have is None or not wanted:
        return None
    return all(have >= m for m in wanted)


def _jailbroken(value: Any) -> bool | None:
    return {"true": True, "false": False}.get(str(value or "").lower())


def device_from_intune(tenant: str, dev: dict[str, Any], details: IntuneDetails) -> Resource:
    platform = _platform(dev.get("operatingSystem"))
    errors: dict[str, str] = {}
    protection = details.protection
    corporate = dev.get("managedDeviceOwnerType") == "company"
    complete = details.apps is not None and corporate
    other_av = _third_party(details.apps, ANTIVIRUS)
    antivirus: list[Antivirus] | None = None
    observed: dict[str, str | None] = {}
    if protection is not None:
        antivirus = [_defender(protection, other_av, complete)]
        antivirus += [Antivirus(product=name, enabled=None) for name in other_av]
        observed["antivirus"] = observed["tamper_protection"] = protection.get("lastReportedDateTime") or None
    elif "protection" in details.errors:
        errors["antivirus"] = errors["tamper_protection"] = details.errors["protection"]
    elif platform == "macos" and other_av:
        antivirus = [Antivirus(product=name, enabled=None) for name in other_av]
    edr_found = _third_party(details.apps, EDR)
    edr: list[Edr] | None = [Edr(product=name, running=None) for name in edr_found]
    if not edr_found and not complete:
        edr = None  # nothing seen, but Intune does not list every app of this device
    if "apps" in details.errors:
        errors["edr"] = details.errors["apps"]
    evidence = _evidence(details)
    if evidence is None and "compliance" in details.errors:
        for key in ("firewall", "password_required", "compliance_settings"):
            errors[key] = details.errors["compliance"]
    encrypted = dev.get("isEncrypted")
    extra = {
        k: dev.get(k)
        for k in (
            "complianceState",
            "complianceGracePeriodExpirationDateTime",
            "managedDeviceOwnerType",
            "managementAgent",
            "model",
            "manufacturer",
        )
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
                "productStatus",
                "deviceState",
                "lastReportedDateTime",
                "antiMalwareVersion",
                "signatureVersion",
                "engineVersion",
                "quickScanOverdue",
                "fullScanOverdue",
                "rebootRequired",
            )
            if k in protection
        }
    tamper = protection.get("tamperProtectionEnabled") if protection is not None else None
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
        disk_encryption=encrypted if isinstance(encrypted, bool) else _by_topic(evidence, "encryption"),
        firewall=_by_topic(evidence, "firewall"),
        os_supported=_os_supported(dev, evidence, details),
        mdm_enrolled=dev.get("managementAgent") != "eas",  # listed = enrolled, unless Exchange ActiveSync only
        mdm_compliance=dev.get("complianceState") or None,
        password_required=_by_topic(evidence, "password"),
        jailbroken=_jailbroken(dev.get("jailBroken")),
        tamper_protection=tamper if isinstance(tamper, bool) else None,
        edr=edr if platform in ("windows", "macos") else None,
        compliance_settings=evidence,
        observed_at=observed,
        extra=extra,
        errors=errors,
    )


def _why(call: str, exc: ApiError, permission: str = "") -> str:
    hint = f" (needs {permission})" if permission and exc.status in (401, 403) else ""
    return f"{call}: {exc.code}: {exc.message}{hint}"


def _details(
    http: AzureHttp,
    creds: Any,
    dev: dict[str, Any],
    policies: dict[str, dict[str, Any]] | None,
    policies_error: str | None,
) -> IntuneDetails:
    ident = str(dev.get("id"))
    platform = _platform(dev.get("operatingSystem"))
    found = IntuneDetails(policies=policies)
    if policies_error:
        found.errors["compliance"] = policies_error
    if platform == "windows":
        try:
            found.protection = http.get(
                "graph", creds.protection_state_path.replace("{id}", ident), operation="GetWindowsProtectionState"
            )
        except ApiError as exc:
            found.errors["protection"] = _why("windowsProtectionState", exc)
    if platform in ("windows", "macos"):
        try:
            found.apps = http.list("graph", DETECTED_APPS.replace("{id}", ident), operation="ListDetectedApps")
        except ApiError as exc:
            found.errors["apps"] = _why("detectedApps", exc)
    try:
        states = http.list("graph", POLICY_STATES.replace("{id}", ident), operation="ListCompliancePolicyStates")
        for state in states:
            if state.get("state") in _SKIP_POLICY_STATES or state.get("settingStates"):
                continue
            path = SETTING_STATES.replace("{id}", ident).replace("{policy}", str(state.get("id")))
            state["settingStates"] = http.list("graph", path, operation="ListComplianceSettingStates")
        found.policy_states = states
    except ApiError as exc:
        found.errors["compliance"] = _why("deviceCompliancePolicyStates", exc, _CONFIG_PERMISSION)
    return found


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
            devices = http.list("graph", DEVICES, {"$select": _SELECT}, operation="ListManagedDevices")
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
        policies: dict[str, dict[str, Any]] | None = None
        policies_error: str | None = None
        if devices:
            try:
                policies = {
                    str(p.get("id")): p for p in http.list("graph", POLICIES, operation="ListCompliancePolicies")
                }
            except ApiError as exc:
                policies_error = _why("deviceCompliancePolicies", exc, _CONFIG_PERMISSION)
        ctx.progress.add_total(len(devices))
        for dev in devices:
            ctx.check_cancelled()
            details = _details(http, creds, dev, policies, policies_error)
            resources.append(device_from_intune(creds.tenant_id, dev, details))
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
