"""Cloud Audit Logs and log routing: data-access logging, a sink for every entry, locked log storage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.models import Resource
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)
from checks.gcp._util import label

WANTED = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
NEEDS = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope, and on the organization for inherited settings"
LIST = "GET /v1/{parent}/assets?contentType=%s&assetTypes=%s (Cloud Asset)"
SYSTEM_SINKS = ("_Required", "_Default")


def _allservices(configs: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """(log types enabled, log types with exempted members) over allServices audit configs: the
    configurations of a project and its ancestors add up, exemptions included."""
    enabled: set[str] = set()
    exempted: set[str] = set()
    for config in configs:
        if config.get("service") != "allServices":
            continue
        for c in config.get("auditLogConfigs") or []:
            enabled.add(str(c.get("logType")))
            if c.get("exemptedMembers"):
                exempted.add(str(c.get("logType")))
    return enabled, exempted


def _judge(configs: list[Mapping[str, Any]]) -> tuple[bool, str]:
    enabled, exempted = _allservices(configs)
    missing = [t for t in WANTED if t not in enabled]
    if missing:
        return False, f"leaves out {', '.join(missing)}"
    if exempted:
        return False, f"exempts members from {', '.join(sorted(exempted))}"
    return True, f"logs {', '.join(WANTED)} for all services"


@check(
    id="gcp.logging.data_access_audit_logs",
    title="Projects record data-access audit logs for all services",
    severity=Severity.MEDIUM,
    resource_type="gcp.project",
    rationale=(
        "Admin-activity logs are always on, but reads and writes of data are logged only when an audit "
        "configuration asks for them, on the project or on a folder or organization above it (they add "
        "up). Without them, who read what cannot be shown (CIS GCP 2.1)."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > Audit Logs for the organisation (or the project).\n"
            "2. Select All services (or the services in scope) and tick Admin read, Data read and Data "
            "write; remove exempted principals.\n3. Save."
        ),
        cli="gcloud organizations get-iam-policy <org-id> > p.yaml  # add auditConfigs for allServices, "
        "then: gcloud organizations set-iam-policy <org-id> p.yaml",
        docs="https://cloud.google.com/logging/docs/audit/configure-data-access",
    ),
    reads=(
        LIST % ("IAM_POLICY", "cloudresourcemanager.googleapis.com/Project,Folder,Organization")
        + ": iamPolicy.auditConfigs[].service, auditLogConfigs[].logType, auditLogConfigs[].exemptedMembers",
    ),
    needs=NEEDS,
)
def data_access_audit_logs(project: Resource, ctx: Context) -> Verdict:
    own = list((need(project, "iamPolicy") or {}).get("auditConfigs") or [])
    name = str(project.attributes.get("projectId") or project.account)
    if "ancestorAuditConfigs" in project.errors:
        ok, detail = _judge(own)
        if ok:
            return passed(f"project {name} {detail} in its own audit configuration (its ancestors' could not be read)")
        raise MissingInput(
            f"project {name}'s own audit configuration {detail} and {project.errors['ancestorAuditConfigs']}"
        )
    inherited = list(need(project, "ancestorAuditConfigs") or [])
    configs = own + [c for a in inherited for c in a.get("auditConfigs") or []]
    ok, detail = _judge(configs)
    sources = ["the project"] * bool(own) + [str(a.get("ancestor")) for a in inherited if a.get("auditConfigs")]
    where = f" (set on {', '.join(sources)})" if sources else ""
    if ok:
        return passed(f"project {name} {detail}{where}")
    if not configs:
        return failed(
            f"project {name} has no data-access audit log configuration for all services, on itself or above it"
        )
    return failed(f"project {name} audit logging for all services {detail}{where}")


def _exports_all(sink: Mapping[str, Any]) -> bool:
    return sink.get("disabled") is not True and not str(sink.get("filter") or "").strip()


@check(
    id="gcp.logging.sink_exports_all_entries",
    title="Every log entry of a project is exported by a sink",
    severity=Severity.MEDIUM,
    resource_type="gcp.project",
    requires=("gcp.logging.log_sink",),
    rationale=(
        "Log buckets keep entries for a limited time and can be changed by project owners. A sink with an "
        "empty filter, on the project or on a folder or organization above it with includeChildren, "
        "copies every entry to storage or a SIEM the project does not control (CIS GCP 2.2)."
    ),
    remediation=Remediation(
        console=(
            "1. Open Logging > Log Router for the organisation (or the project) and choose Create sink.\n"
            "2. Pick the destination, leave the inclusion filter empty and, on an organisation or folder, "
            "include children.\n3. Create the sink and grant its writer identity access to the destination."
        ),
        cli="gcloud logging sinks create all-logs storage.googleapis.com/<bucket> --organization=<org-id> "
        "--include-children",
        docs="https://cloud.google.com/logging/docs/export/aggregated_sinks",
    ),
    reads=(
        LIST % ("RESOURCE", "logging.googleapis.com/LogSink") + ": name, filter, disabled, includeChildren, "
        "destination (on the project and its folders and organization)",
    ),
    needs=NEEDS,
)
def sink_exports_all_entries(project: Resource, ctx: Context) -> Verdict:
    name = str(project.attributes.get("projectId") or project.account)
    own = [s for s in ctx.snapshot.of_type("gcp.logging.log_sink") if s.account == project.account]
    for sink in own:
        if _exports_all(sink.attributes):
            return passed(
                f"project {name}: sink {label(sink)} exports every entry to {sink.attributes.get('destination')}"
            )
    inherited = list(need(project, "ancestorLogSinks") or [])
    for sink in inherited:
        if _exports_all(sink) and sink.get("includeChildren") is True:
            return passed(
                f"project {name}: sink {sink.get('name')} on {sink.get('_ancestor')} exports every entry "
                f"of its children to {sink.get('destination')}"
            )
    narrow = [f"{sink.get('name')} on {sink.get('_ancestor')}" for sink in inherited if _exports_all(sink)]
    hint = f" ({', '.join(narrow)} export everything but not their children's entries)" if narrow else ""
    return failed(f"project {name}: no enabled sink with an empty filter covers it{hint}")


@check(
    id="gcp.logging.sink_destination_retention_locked",
    title="Log sinks write to storage whose retention is locked",
    severity=Severity.MEDIUM,
    resource_type="gcp.logging.log_sink",
    rationale=(
        "Exported logs are evidence only if nobody can delete them early. A Cloud Storage bucket with a "
        "locked retention policy (Bucket Lock), or a locked log bucket, keeps every entry for the whole "
        "period, whoever asks; an unlocked policy can be shortened or removed (CIS GCP 2.3)."
    ),
    remediation=Remediation(
        console=(
            "1. Open Cloud Storage > Buckets, choose the sink's destination bucket, tab Protection.\n"
            "2. Set a retention policy (for example 365 days), then Lock it (irreversible).\n"
            "For a log bucket: Logging > Logs Storage, edit the bucket and lock its retention."
        ),
        cli="gcloud storage buckets update gs://<bucket> --retention-period=365d && "
        "gcloud storage buckets update gs://<bucket> --lock-retention-period",
        docs="https://cloud.google.com/storage/docs/bucket-lock",
    ),
    reads=(
        LIST % ("RESOURCE", "logging.googleapis.com/LogSink") + ": name, destination, disabled",
        LIST % ("RESOURCE", "storage.googleapis.com/Bucket") + ": retentionPolicy.retentionPeriod, "
        "retentionPolicy.isLocked",
        LIST % ("RESOURCE", "logging.googleapis.com/LogBucket") + ": locked, retentionDays",
    ),
    needs=NEEDS,
)
def sink_destination_retention_locked(sink: Resource, ctx: Context) -> Verdict:
    name = label(sink)
    if name in SYSTEM_SINKS:
        return not_applicable(f"sink {name} is a built-in sink routing to the project's own log bucket")
    if sink.attributes.get("disabled") is True:
        return not_applicable(f"sink {name} is disabled")
    dest = need(sink, "_destination")
    if dest.get("type") == "gcp.storage.bucket":
        policy = dest.get("retentionPolicy") or {}
        bucket = str(dest.get("resource", "")).rsplit("/", 1)[-1]
        if not policy.get("retentionPeriod"):
            return failed(f"sink {name} writes to bucket {bucket}, which has no retention policy")
        if policy.get("isLocked") is not True:
            return failed(f"sink {name} writes to bucket {bucket}, whose retention policy is not locked")
        return passed(f"sink {name} writes to bucket {bucket} with a locked retention policy")
    if dest.get("type") == "gcp.logging.log_bucket":
        bucket = str(dest.get("resource", "")).rsplit("/", 1)[-1]
        if dest.get("locked") is not True:
            return failed(f"sink {name} writes to log bucket {bucket}, which is not locked")
        return passed(f"sink {name} writes to locked log bucket {bucket} ({dest.get('retentionDays')} days)")
    return not_applicable(f"sink {name} writes to {sink.attributes.get('destination')}: no retention lock applies")
