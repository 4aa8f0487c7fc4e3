"""AWS Backup: every region with data worth backing up has a plan that covers it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from agent.models import Resource
from checks.aws._util import days_since, parse_time
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

# Resource types AWS Backup protects that this catalog checks, with a label for reasons.
BACKED_UP_TYPES = {
    "aws.rds.instance": "RDS instance",
    "aws.dynamodb.table": "DynamoDB table",
    "aws.efs.file_system": "EFS file system",
    "aws.ec2.volume": "EBS volume",
}


def _narrowed(body: Mapping[str, Any]) -> bool:
    """A selection whose Resources are cut down by tags or conditions: which resources it takes
    depends on their tags, so its ARN patterns alone do not show that a resource is covered."""
    conditions = body.get("Conditions") or {}
    return bool(body.get("ListOfTags")) or any(conditions.get(op) for op in conditions)


def _selection_covers(settings: Resource, plan_ids: set[str], arn: str) -> bool:
    """Whether a selection of the plans names ``arn`` by its Resources ("*" or ARN patterns).

    ListBackupSelections items do not carry Resources; only a collector that also stored
    GetBackupSelection output provides them. Without them coverage rests on ProtectedResources.
    """
    selections: Mapping[str, Any] = settings.attributes.get("Selections") or {}
    for plan_id, items in selections.items():
        if plan_id not in plan_ids:
            continue
        for sel in items or []:
            body = sel.get("BackupSelection", sel)
            if _narrowed(body) or any(fnmatchcase(arn, str(p)) for p in body.get("NotResources") or []):
                continue
            if any(fnmatchcase(arn, str(p)) for p in body.get("Resources") or []):
                return True
    return False


def _last_backups(settings: Resource) -> dict[str, Any]:
    """ARN -> LastBackupTime of the resources ListProtectedResources names."""
    return {str(p.get("ResourceArn")): p.get("LastBackupTime") for p in need(settings, "ProtectedResources") or []}


def _backed_up_since(arn: str, last_backup: Any, now: datetime, days: int) -> bool:
    """A protected resource counts only with a recent backup: ListProtectedResources keeps listing a
    resource while old recovery points exist, long after every plan stopped selecting it."""
    try:
        last = parse_time(last_backup)
    except ValueError as exc:
        raise MissingInput(f"protected resource {arn} has an unreadable LastBackupTime") from exc
    if last is None:
        raise MissingInput(f"protected resource {arn} has no LastBackupTime")
    return days_since(last, now) <= days


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
            '\'{"SelectionName":"all","IamRoleArn":"<backup-role-arn>","Resources":["*"]}\''
        ),
        docs="https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html",
    ),
    params={"max_backup_age_days": 35},
    reads=(
        "backup:ListBackupPlans: BackupPlansList[].BackupPlanId",
        (
            "backup:ListBackupSelections: BackupSelectionsList (Resources, NotResources, Conditions, ListOfTags "
            "where stored)"
        ),
        "backup:ListProtectedResources: Results[].ResourceArn, LastBackupTime",
        "rds:DescribeDBInstances: DBInstanceArn",
        "dynamodb:ListTables/DescribeTable: TableArn",
        "efs:DescribeFileSystems: FileSystemArn",
        "ec2:DescribeVolumes: VolumeId",
    ),
    needs=(
        "backup:ListBackupPlans, backup:ListBackupSelections, backup:ListProtectedResources, "
        "rds:DescribeDBInstances, dynamodb:ListTables, dynamodb:DescribeTable, "
        "elasticfilesystem:DescribeFileSystems, ec2:DescribeVolumes"
    ),
)
def plan_covers_region(settings: Resource, ctx: Context) -> Verdict:
    in_scope = _in_scope(settings, ctx)
    if not in_scope:
        return not_applicable(f"region {settings.region} has no RDS, DynamoDB, EFS or EBS resources to back up")
    total = sum(len(v) for v in in_scope.values())
    plan_ids = _plans_with_selection(settings)
    if not plan_ids:
        return failed(
            f"region {settings.region} has {total} resource(s) to back up and no backup plan with a resource selection"
        )
    days = int(ctx.params.get("max_backup_age_days", 35))
    protected = _last_backups(settings)
    missing: dict[str, int] = {}
    stale = 0
    for rtype, arns in in_scope.items():
        for arn in arns:
            if arn in protected and _backed_up_since(arn, protected[arn], ctx.now, days):
                continue
            if _selection_covers(settings, set(plan_ids), arn):
                continue
            stale += int(arn in protected)
            missing[BACKED_UP_TYPES[rtype]] = missing.get(BACKED_UP_TYPES[rtype], 0) + 1
    if missing:
        counts = ", ".join(f"{n} {label}(s)" for label, n in sorted(missing.items()))
        old = f" ({stale} last backed up more than {days} days ago)" if stale else ""
        return failed(f"region {settings.region}: unprotected {counts} of {total} resource(s){old}")
    return passed(f"region {settings.region}: all {total} resource(s) are covered by a backup plan")
