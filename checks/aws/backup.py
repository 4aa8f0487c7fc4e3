"""AWS Backup: every region with data worth backing up has a plan that covers it."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from agent.models import Resource
from checks.base import (
    Context,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

# Resource types AWS Backup protects that this catalog checks, with a label for reasons.
BACKED_UP_TYPES = {
    "aws.rds.instance": "RDS instance",
    "aws.dynamodb.table": "DynamoDB table",
    "aws.efs.file_system": "EFS file system",
    "aws.ec2.volume": "EBS volume",
}


def _selection_patterns(settings: Resource, plan_ids: set[str]) -> list[str]:
    """ARN patterns ("*" or ARNs, possibly with wildcards) named by the selections of the plans.

    ListBackupSelections items do not carry Resources; only a collector that also stored
    GetBackupSelection output provides them. Without them coverage rests on ProtectedResources.
    """
    selections: Mapping[str, Any] = settings.attributes.get("Selections") or {}
    patterns: list[str] = []
    for plan_id, items in selections.items():
        if plan_id not in plan_ids:
            continue
        for sel in items or []:
            body = sel.get("BackupSelection", sel)
            patterns.extend(str(p) for p in body.get("Resources") or [])
    return patterns


def _plans_with_selection(settings: Resource) -> list[str]:
    plans = need(settings, "Plans") or []
    selections: Mapping[str, Any] = need(settings, "Selections") or {}
    return [str(p.get("BackupPlanId")) for p in plans if selections.get(str(p.get("BackupPlanId")))]


def _in_scope(settings: Resource, ctx: Context) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rtype in BACKED_UP_TYPES:
        items = ctx.snapshot.of_type(rtype, region=settings.region)
        arns = [r.id for r in items if r.account == settings.account]
        if arns:
            found[rtype] = arns
    return found


@check(
    id="aws.backup.plan_covers_region",
    title="AWS Backup plans cover the databases, tables, file systems and volumes of every region",
    severity=Severity.MEDIUM,
    resource_type="aws.backup.settings",
    requires=("aws.rds.instance", "aws.dynamodb.table", "aws.efs.file_system", "aws.ec2.volume"),
    rationale=(
        "Backups kept by one central policy are the evidence that data can be restored after "
        "deletion, corruption or ransomware. Resources outside every backup plan are the ones "
        "found missing after an incident."
    ),
    remediation=Remediation(
        console=(
            "1. Open the AWS Backup console in the region and choose Backup plans > Create backup plan.\n"
            "2. Start from a template (for example Daily-35day-Retention) and create it.\n"
            "3. Choose Assign resources and include all resource types, or the specific ARNs/tags.\n"
            "4. After the first backup window, check Protected resources."
        ),
        cli=(
            "aws backup create-backup-plan --backup-plan file://<plan.json> && "
            "aws backup create-backup-selection --backup-plan-id <plan-id> --backup-selection "
            "'{\"SelectionName\":\"all\",\"IamRoleArn\":\"<backup-role-arn>\",\"Resources\":[\"*\"]}'"
        ),
        docs="https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html",
    ),
)
def plan_covers_region(settings: Resource, ctx: Context) -> Verdict:
    in_scope = _in_scope(settings, ctx)
    if not in_scope:
        return not_applicable(
            f"region {settings.region} has no RDS, DynamoDB, EFS or EBS resources to back up")
    total = sum(len(v) for v in in_scope.values())
    plan_ids = _plans_with_selection(settings)
    if not plan_ids:
        return failed(f"region {settings.region} has {total} resource(s) to back up and no backup plan "
                      "with a resource selection")
    protected = {str(p.get("ResourceArn")) for p in need(settings, "ProtectedResources") or []}
    patterns = _selection_patterns(settings, set(plan_ids))
    missing: dict[str, int] = {}
    for rtype, arns in in_scope.items():
        for arn in arns:
            if arn in protected or any(fnmatchcase(arn, pat) for pat in patterns):
                continue
            missing[BACKED_UP_TYPES[rtype]] = missing.get(BACKED_UP_TYPES[rtype], 0) + 1
    if missing:
        counts = ", ".join(f"{n} {label}(s)" for label, n in sorted(missing.items()))
        return failed(f"region {settings.region}: unprotected {counts} of {total} resource(s)")
    return passed(f"region {settings.region}: all {total} resource(s) are covered by a backup plan")
