"""API keys: restricted to known applications and to the APIs they call, and rotated (CIS GCP 1.13-1.15)."""

from __future__ import annotations

from typing import Any

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed
from checks.gcp._util import days_since, parse_time

DOCS = "https://cloud.google.com/docs/authentication/api-keys"
READS = (
    "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=apikeys.googleapis.com/Key (Cloud Asset): "
    "displayName, createTime, restrictions.browserKeyRestrictions.allowedReferrers, "
    "restrictions.serverKeyRestrictions.allowedIps, restrictions.androidKeyRestrictions, "
    "restrictions.iosKeyRestrictions, restrictions.apiTargets[].service",
)
NEEDS = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope"
ANY_IP = ("0.0.0.0", "0.0.0.0/0", "::", "::0", "::/0")
ALL_CLOUD_APIS = "cloudapis.googleapis.com"


def _name(key: Resource) -> str:
    return str(key.attributes.get("displayName") or key.id.rsplit("/", 1)[-1])


def _wide_referrer(referrer: str) -> bool:
    """*, *.tld, *.tld/* and the like: any site can send the key."""
    host = referrer.split("://", 1)[-1].split("/", 1)[0]
    return host in ("*", "") or (host.startswith("*.") and "." not in host[2:])


def _restrictions(key: Resource) -> dict[str, Any]:
    if "restrictions" in key.errors:
        need(key, "restrictions")
    return dict(key.attributes.get("restrictions") or {})  # absent: the key is unrestricted


@check(
    id="gcp.apikeys.key_application_restricted",
    title="API keys can be used only from named sites, addresses or apps",
    severity=Severity.MEDIUM,
    resource_type="gcp.apikeys.key",
    rationale=(
        "An API key is a bearer secret that ships inside web pages and apps. Without an application "
        "restriction (HTTP referrers, IP addresses, Android or iOS apps) anyone who copies it can use it "
        "from anywhere; a wildcard referrer or 0.0.0.0/0 restricts nothing (CIS GCP 1.13)."
    ),
    remediation=Remediation(
        console=(
            "1. Open APIs & Services > Credentials and choose the key.\n"
            "2. Under Application restrictions, choose HTTP referrers, IP addresses, Android apps or iOS "
            "apps and list the real ones (no wildcards). Save."
        ),
        cli="gcloud services api-keys update <key-id> --allowed-referrers='https://app.example.com/*'",
        docs=DOCS + "#adding-application-restrictions",
    ),
    reads=READS,
    needs=NEEDS,
)
def key_application_restricted(key: Resource, ctx: Context) -> Verdict:
    r = _restrictions(key)
    name = _name(key)
    referrers = list((r.get("browserKeyRestrictions") or {}).get("allowedReferrers") or [])
    ips = list((r.get("serverKeyRestrictions") or {}).get("allowedIps") or [])
    apps = list((r.get("androidKeyRestrictions") or {}).get("allowedApplications") or []) + list(
        (r.get("iosKeyRestrictions") or {}).get("allowedBundleIds") or []
    )
    wide = [x for x in referrers if _wide_referrer(str(x))] + [x for x in ips if str(x).strip() in ANY_IP]
    if wide:
        return failed(f"API key {name} allows any caller through {', '.join(map(str, wide))}")
    if referrers or ips or apps:
        return passed(
            f"API key {name} is restricted to {len(referrers) + len(ips) + len(apps)} named "
            "site(s), address(es) or app(s)"
        )
    return failed(f"API key {name} has no application restriction: anyone holding it can use it")


@check(
    id="gcp.apikeys.key_api_restricted",
    title="API keys can call only the APIs their application needs",
    severity=Severity.MEDIUM,
    resource_type="gcp.apikeys.key",
    rationale=(
        "A key without API restrictions, or restricted to cloudapis.googleapis.com (every Google Cloud "
        "API), can call any API enabled in the project, billed to it (CIS GCP 1.14)."
    ),
    remediation=Remediation(
        console=(
            "1. Open APIs & Services > Credentials and choose the key.\n"
            "2. Under API restrictions, choose Restrict key and select only the APIs the application calls. "
            "Save."
        ),
        cli="gcloud services api-keys update <key-id> --api-target=service=<api>.googleapis.com",
        docs=DOCS + "#adding-api-restrictions",
    ),
    reads=READS,
    needs=NEEDS,
)
def key_api_restricted(key: Resource, ctx: Context) -> Verdict:
    targets = [str(t.get("service", "")) for t in _restrictions(key).get("apiTargets") or []]
    name = _name(key)
    if not targets:
        return failed(f"API key {name} can call every API enabled in its project")
    if ALL_CLOUD_APIS in targets:
        return failed(f"API key {name} is restricted to {ALL_CLOUD_APIS}, which is every Google Cloud API")
    return passed(f"API key {name} can call only {', '.join(sorted(targets))}")


@check(
    id="gcp.apikeys.key_rotated_90d",
    title="API keys are younger than 90 days",
    severity=Severity.LOW,
    resource_type="gcp.apikeys.key",
    rationale=(
        "API keys do not expire. A key that leaked stays usable until it is replaced; rotating every 90 "
        "days bounds how long (CIS GCP 1.15)."
    ),
    remediation=Remediation(
        console=(
            "1. Open APIs & Services > Credentials and create a new key with the same restrictions.\n"
            "2. Deploy it, then delete the old key."
        ),
        cli="gcloud services api-keys create --display-name=<name> ... && gcloud services api-keys delete <old-key-id>",
        docs="https://developers.google.com/maps/api-security-best-practices#regenerate-apikey",
    ),
    params={"max_days": 90},
    reads=READS,
    needs=NEEDS,
)
def key_rotated_90d(key: Resource, ctx: Context) -> Verdict:
    created = parse_time(need(key, "createTime"))
    limit = int(ctx.params.get("max_days", 90))
    # the day it was made, not its age in days: a message that changes daily is an event daily
    if days_since(created, ctx.now) > limit:
        return failed(f"API key {_name(key)} was created on {created.date()}, more than {limit} days ago")
    return passed(f"API key {_name(key)} was created on {created.date()}, within {limit} days")
