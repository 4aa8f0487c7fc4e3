"""Cloud SQL: public IP, TLS, backups."""

from __future__ import annotations

from typing import Any

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed
from checks.gcp._util import WORLD, label

SQL_DOCS = "https://cloud.google.com/sql/docs/"
INSTANCES = "GET /v1/{scope}/assets?contentType=RESOURCE&assetTypes=sqladmin.googleapis.com/Instance (Cloud Asset)"
NEEDS = "roles/cloudasset.viewer (Cloud Asset Viewer) on the scope"


def _settings(instance: Resource, key: str) -> dict[str, Any]:
    return dict((need(instance, "settings") or {}).get(key) or {})


@check(
    id="gcp.sqladmin.instance_no_public_ip",
    title="Cloud SQL instances have no public IP address",
    severity=Severity.HIGH,
    resource_type="gcp.sqladmin.instance",
    rationale=(
        "A database with a public address can be probed and brute-forced from the internet. Private "
        "IP (or the Cloud SQL Auth Proxy) keeps it reachable only from your networks."
    ),
    remediation=Remediation(
        console=(
            "1. Open SQL, choose the instance, then Connections > Networking.\n"
            "2. Enable Private IP on your VPC and clear Public IP.\n"
            "3. Save."
        ),
        cli="gcloud sql instances patch <instance> --no-assign-ip --network=<vpc>",
        docs=SQL_DOCS + "mysql/configure-private-ip",
    ),
    reads=(INSTANCES + ": settings.ipConfiguration.ipv4Enabled, settings.ipConfiguration.authorizedNetworks[].value",),
    needs=NEEDS,
)
def instance_no_public_ip(instance: Resource, ctx: Context) -> Verdict:
    ip = _settings(instance, "ipConfiguration")
    if ip.get("ipv4Enabled") is not True:
        return passed(f"Cloud SQL instance {label(instance)} has no public IP")
    nets = [str(n.get("value")) for n in ip.get("authorizedNetworks") or []]
    world = [n for n in nets if n in WORLD]
    detail = f" and authorises {', '.join(world)}" if world else ""
    return failed(f"Cloud SQL instance {label(instance)} has a public IP{detail}")


@check(
    id="gcp.sqladmin.instance_ssl_required",
    title="Cloud SQL instances accept only encrypted connections",
    severity=Severity.MEDIUM,
    resource_type="gcp.sqladmin.instance",
    rationale=(
        "Without enforced TLS a client can connect in clear text, exposing credentials and data on the network."
    ),
    remediation=Remediation(
        console=(
            "1. Open SQL, choose the instance, then Connections > Security.\n"
            "2. Choose Allow only SSL connections (or require trusted client certificates)."
        ),
        cli="gcloud sql instances patch <instance> --ssl-mode=ENCRYPTED_ONLY",
        docs=SQL_DOCS + "postgres/configure-ssl-instance",
    ),
    reads=(INSTANCES + ": settings.ipConfiguration.sslMode, settings.ipConfiguration.requireSsl",),
    needs=NEEDS,
)
def instance_ssl_required(instance: Resource, ctx: Context) -> Verdict:
    ip = _settings(instance, "ipConfiguration")
    mode = str(ip.get("sslMode") or "")
    if mode in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED") or (not mode and ip.get("requireSsl")):
        return passed(f"Cloud SQL instance {label(instance)} requires TLS ({mode or 'requireSsl'})")
    return failed(f"Cloud SQL instance {label(instance)} accepts unencrypted connections ({mode or 'no sslMode'})")


@check(
    id="gcp.sqladmin.instance_backups_enabled",
    title="Cloud SQL instances take automated backups",
    severity=Severity.MEDIUM,
    resource_type="gcp.sqladmin.instance",
    rationale=(
        "Automated daily backups (and point-in-time recovery) are what lets a database be restored "
        "after deletion, corruption or ransomware."
    ),
    remediation=Remediation(
        console=(
            "1. Open SQL, choose the instance, then Edit > Data protection.\n"
            "2. Select Automate backups (and Enable point-in-time recovery) and save."
        ),
        cli="gcloud sql instances patch <instance> --backup-start-time=03:00",
        docs=SQL_DOCS + "mysql/backup-recovery/backups",
    ),
    reads=(INSTANCES + ": settings.backupConfiguration.enabled, pointInTimeRecoveryEnabled, binaryLogEnabled",),
    needs=NEEDS,
)
def instance_backups_enabled(instance: Resource, ctx: Context) -> Verdict:
    backup = _settings(instance, "backupConfiguration")
    if backup.get("enabled") is True:
        pitr = backup.get("pointInTimeRecoveryEnabled") or backup.get("binaryLogEnabled")
        extra = " with point-in-time recovery" if pitr else ""
        return passed(f"Cloud SQL instance {label(instance)} has automated backups{extra}")
    return failed(f"Cloud SQL instance {label(instance)} has automated backups off")
