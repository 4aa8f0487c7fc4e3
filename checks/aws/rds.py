"""RDS DB instances: encryption, exposure, backups and resilience."""

from __future__ import annotations

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

RDS_DOCS = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"


def _db(db: Resource) -> str:
    return str(db.attributes.get("DBInstanceIdentifier") or db.name or db.id.rsplit(":", 1)[-1])


def _aurora(db: Resource) -> bool:
    # For Aurora, availability and deletion protection are properties of the cluster, not the instance.
    return str(db.attributes.get("Engine", "")).startswith("aurora")


@check(
    id="aws.rds.instance_encrypted",
    title="RDS DB instances are encrypted at rest",
    severity=Severity.HIGH,
    resource_type="aws.rds.instance",
    rationale=(
        "Databases usually hold the most sensitive data in the account. Storage encryption also "
        "covers automated backups, snapshots and read replicas made from the instance."
    ),
    remediation=Remediation(
        console=(
            "1. Open the RDS console and take a snapshot of the instance.\n"
            "2. Copy the snapshot with encryption enabled and a KMS key.\n"
            "3. Restore a new instance from the encrypted copy and switch applications over."
        ),
        cli="aws rds copy-db-snapshot --source-db-snapshot-identifier <snapshot-id> "
        "--target-db-snapshot-identifier <encrypted-snapshot-id> --kms-key-id <kms-key-arn>",
        docs=RDS_DOCS + "Overview.Encryption.html",
    ),
    reads=("rds:DescribeDBInstances: StorageEncrypted",),
    needs="rds:DescribeDBInstances",
)
def instance_encrypted(db: Resource, ctx: Context) -> Verdict:
    if need(db, "StorageEncrypted") is True:
        return passed(f"DB instance {_db(db)} is encrypted at rest")
    return failed(f"DB instance {_db(db)} is not encrypted at rest")


@check(
    id="aws.rds.instance_not_public",
    title="RDS DB instances are not publicly accessible",
    severity=Severity.HIGH,
    resource_type="aws.rds.instance",
    rationale=(
        "A publicly accessible instance gets a public DNS name and address; one permissive security "
        "group rule then exposes the database to the internet."
    ),
    remediation=Remediation(
        console=(
            "1. Open the RDS console and choose the DB instance, then Modify.\n"
            "2. Under Connectivity > Additional configuration select Not publicly accessible.\n"
            "3. Apply the change immediately or in the next maintenance window."
        ),
        cli="aws rds modify-db-instance --db-instance-identifier <db-instance-id> --no-publicly-accessible "
        "--apply-immediately",
        docs=RDS_DOCS + "USER_VPC.WorkingWithRDSInstanceinaVPC.html",
    ),
    reads=("rds:DescribeDBInstances: PubliclyAccessible",),
    needs="rds:DescribeDBInstances",
)
def instance_not_public(db: Resource, ctx: Context) -> Verdict:
    if need(db, "PubliclyAccessible") is True:
        return failed(f"DB instance {_db(db)} is publicly accessible")
    return passed(f"DB instance {_db(db)} is not publicly accessible")


@check(
    id="aws.rds.backup_retention_7d",
    title="RDS DB instances keep automated backups for at least 7 days",
    severity=Severity.MEDIUM,
    resource_type="aws.rds.instance",
    rationale=(
        "Automated backups allow point-in-time restore. A week of retention covers problems that "
        "are only noticed after a weekend or a release cycle."
    ),
    remediation=Remediation(
        console=(
            "1. Open the RDS console and choose the DB instance, then Modify.\n"
            "2. Under Backup set Backup retention period to 7 days or more.\n"
            "3. Apply the change."
        ),
        cli="aws rds modify-db-instance --db-instance-identifier <db-instance-id> --backup-retention-period "
        "7 "
        "--apply-immediately",
        docs=RDS_DOCS + "USER_WorkingWithAutomatedBackups.html",
    ),
    params={"days": 7},
    reads=("rds:DescribeDBInstances: BackupRetentionPeriod",),
    needs="rds:DescribeDBInstances",
)
def backup_retention_7d(db: Resource, ctx: Context) -> Verdict:
    days, retention = int(ctx.params.get("days", 7)), int(need(db, "BackupRetentionPeriod") or 0)
    if retention == 0:
        return failed(f"DB instance {_db(db)} has automated backups disabled")
    if retention < days:
        return failed(f"DB instance {_db(db)} keeps backups for {retention} days (< {days})")
    return passed(f"DB instance {_db(db)} keeps backups for {retention} days")


@check(
    id="aws.rds.multi_az",
    title="RDS DB instances are deployed across multiple Availability Zones",
    severity=Severity.LOW,
    resource_type="aws.rds.instance",
    rationale=(
        "A Multi-AZ deployment keeps a standby in another Availability Zone and fails over "
        "automatically, which supports the availability commitments made to customers."
    ),
    remediation=Remediation(
        console=(
            "1. Open the RDS console and choose the DB instance, then Modify.\n"
            "2. Under Availability & durability choose Create a standby instance.\n"
            "3. Apply the change (expect a performance impact while the standby is created)."
        ),
        cli="aws rds modify-db-instance --db-instance-identifier <db-instance-id> --multi-az --apply-immediately",
        docs=RDS_DOCS + "Concepts.MultiAZ.html",
    ),
    reads=("rds:DescribeDBInstances: Engine, MultiAZ",),
    needs="rds:DescribeDBInstances",
)
def multi_az(db: Resource, ctx: Context) -> Verdict:
    if _aurora(db):
        return not_applicable(f"DB instance {_db(db)} is Aurora; availability is set on its cluster")
    if need(db, "MultiAZ") is True:
        return passed(f"DB instance {_db(db)} is Multi-AZ")
    return failed(f"DB instance {_db(db)} runs in a single Availability Zone")


@check(
    id="aws.rds.deletion_protection",
    title="RDS DB instances have deletion protection enabled",
    severity=Severity.LOW,
    resource_type="aws.rds.instance",
    rationale=(
        "Deletion protection stops a database from being deleted by a mistaken command or "
        "automation run until someone turns it off deliberately."
    ),
    remediation=Remediation(
        console=(
            "1. Open the RDS console and choose the DB instance, then Modify.\n"
            "2. Select Enable deletion protection.\n"
            "3. Apply the change immediately."
        ),
        cli="aws rds modify-db-instance --db-instance-identifier <db-instance-id> --deletion-protection "
        "--apply-immediately",
        docs=RDS_DOCS + "USER_DeleteInstance.html#USER_DeleteInstance.DeletionProtection",
    ),
    reads=("rds:DescribeDBInstances: Engine, DeletionProtection",),
    needs="rds:DescribeDBInstances",
)
def deletion_protection(db: Resource, ctx: Context) -> Verdict:
    if _aurora(db):
        return not_applicable(f"DB instance {_db(db)} is Aurora; deletion protection is set on its cluster")
    if need(db, "DeletionProtection") is True:
        return passed(f"DB instance {_db(db)} has deletion protection")
    return failed(f"DB instance {_db(db)} can be deleted without first disabling protection")
