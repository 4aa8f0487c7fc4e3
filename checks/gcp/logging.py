"""Cloud Audit Logs: data-access logging configured on each project."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed

WANTED = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


@check(
    id="gcp.logging.data_access_audit_logs",
    title="Projects record data-access audit logs for all services",
    severity=Severity.MEDIUM,
    resource_type="gcp.project",
    rationale=(
        "Admin-activity logs are always on, but reads and writes of data are logged only when the "
        "project's audit configuration asks for them. Without them, who read what cannot be shown."
    ),
    remediation=Remediation(
        console=(
            "1. Open IAM & Admin > Audit Logs for the project (or its organisation).\n"
            "2. Select All services (or the services in scope) and tick Admin read, Data read and Data "
            "write.\n3. Save."
        ),
        cli="gcloud projects get-iam-policy <project-id> > p.yaml  # add auditConfigs for allServices, "
            "then: gcloud projects set-iam-policy <project-id> p.yaml",
        docs="https://cloud.google.com/logging/docs/audit/configure-data-access",
    ),
)
def data_access_audit_logs(project: Resource, ctx: Context) -> Verdict:
    policy = need(project, "iamPolicy") or {}
    name = str(project.attributes.get("projectId") or project.account)
    for config in policy.get("auditConfigs") or []:
        if config.get("service") != "allServices":
            continue
        types = {str(c.get("logType")) for c in config.get("auditLogConfigs") or []
                 if not c.get("exemptedMembers")}
        missing = [t for t in WANTED if t not in types]
        if not missing:
            return passed(f"project {name} logs {', '.join(WANTED)} for all services")
        return failed(f"project {name} audit logging for all services leaves out {', '.join(missing)}")
    return failed(f"project {name} has no data-access audit log configuration for all services")
