"""Data stores and their protection: RDS, KMS, Backup, DynamoDB, EFS, SNS, SQS, Secrets Manager, Logs."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_check_fixtures import (
    ACCT,
    ERROR,
    FAIL,
    NA,
    PASS,
    REGION,
    Case,
    ago,
    assert_covered,
    case,
    check_case,
    listing_error,
    res,
    settings,
)

import checks.aws.backup as backup
import checks.aws.dynamodb as dynamodb
import checks.aws.efs as efs
import checks.aws.kms as kms
import checks.aws.logs as logs
import checks.aws.rds as rds
import checks.aws.secretsmanager as secretsmanager
import checks.aws.sns as sns
import checks.aws.sqs as sqs


def db(errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {
        "DBInstanceIdentifier": "orders",
        "Engine": "postgres",
        "StorageEncrypted": True,
        "PubliclyAccessible": False,
        "BackupRetentionPeriod": 7,
        "MultiAZ": True,
        "DeletionProtection": True,
    }
    attrs |= over
    for key in errors or {}:
        attrs.pop(key, None)
    return res("aws.rds.instance", f"arn:aws:rds:{REGION}:{ACCT}:db:orders", errors=errors, **attrs)


def key(errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {
        "KeyId": "k1",
        "KeyManager": "CUSTOMER",
        "KeyState": "Enabled",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "Origin": "AWS_KMS",
        "KeyRotationEnabled": True,
    }
    attrs |= over
    for k in errors or {}:
        attrs.pop(k, None)
    return res("aws.kms.key", f"arn:aws:kms:{REGION}:{ACCT}:key/k1", errors=errors, **attrs)


def table(name: str = "t", pitr: str | None = "ENABLED", errors: dict[str, str] | None = None, region: str = REGION):
    attrs: dict[str, Any] = {"TableName": name}
    if pitr is not None:
        attrs["ContinuousBackups"] = {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr},
        }
    return res(
        "aws.dynamodb.table", f"arn:aws:dynamodb:{region}:{ACCT}:table/{name}", region=region, errors=errors, **attrs
    )


def volume(vid: str = "vol-1", region: str = REGION):
    return res("aws.ec2.volume", f"arn:aws:ec2:{region}:{ACCT}:volume/{vid}", region=region, Encrypted=True)


PLAN = [{"BackupPlanId": "p1", "BackupPlanName": "daily"}]
SEL = {"p1": [{"SelectionId": "s1", "SelectionName": "all", "BackupPlanId": "p1"}]}


def bsettings(errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {"Plans": PLAN, "Selections": SEL, "ProtectedResources": []}
    attrs |= over
    for k in errors or {}:
        attrs.pop(k, None)
    return settings("aws.backup.settings", errors=errors, **attrs)


def prot(*arns: str, last: str = "") -> list[dict[str, str]]:
    """ListProtectedResources items, last backed up yesterday unless ``last`` says when."""
    return [{"ResourceArn": a, "ResourceType": "x", "LastBackupTime": last or ago(1)} for a in arns]


def only(selection: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Plan p1 with one selection as GetBackupSelection answers it."""
    return {"p1": [{"SelectionId": "s1", "BackupSelection": {"SelectionName": "all", "IamRoleArn": "r"} | selection}]}


T_ARN = f"arn:aws:dynamodb:{REGION}:{ACCT}:table/t"
V_ARN = f"arn:aws:ec2:{REGION}:{ACCT}:volume/vol-1"

CASES = [
    # RDS
    case(rds.instance_encrypted, db(), PASS, id="pass"),
    case(rds.instance_encrypted, db(StorageEncrypted=False), FAIL, "orders is not encrypted", id="fail"),
    case(rds.instance_encrypted, db(errors={"StorageEncrypted": "?"}), ERROR, id="error"),
    case(rds.instance_not_public, db(), PASS, id="pass"),
    case(rds.instance_not_public, db(PubliclyAccessible=True), FAIL, "publicly accessible", id="fail"),
    case(rds.instance_not_public, db(errors={"PubliclyAccessible": "?"}), ERROR, id="error"),
    case(rds.backup_retention_7d, db(BackupRetentionPeriod=14), PASS, "14 days", id="pass"),
    case(rds.backup_retention_7d, db(BackupRetentionPeriod=3), FAIL, "3 days (< 7)", id="short"),
    case(rds.backup_retention_7d, db(BackupRetentionPeriod=0), FAIL, "disabled", id="off"),
    case(rds.backup_retention_7d, db(BackupRetentionPeriod=14), FAIL, "< 30", params={"days": 30}, id="param"),
    case(rds.backup_retention_7d, db(errors={"BackupRetentionPeriod": "?"}), ERROR, id="error"),
    case(rds.multi_az, db(), PASS, id="pass"),
    case(rds.multi_az, db(MultiAZ=False), FAIL, "single Availability Zone", id="fail"),
    case(rds.multi_az, db(MultiAZ=False, Engine="aurora-postgresql"), NA, "Aurora", id="aurora"),
    case(rds.multi_az, db(errors={"MultiAZ": "?"}), ERROR, id="error"),
    case(rds.deletion_protection, db(), PASS, id="pass"),
    case(rds.deletion_protection, db(DeletionProtection=False), FAIL, id="fail"),
    case(rds.deletion_protection, db(errors={"DeletionProtection": "?"}), ERROR, id="error"),
    # KMS
    case(kms.key_rotation, key(), PASS, "rotates automatically", id="pass"),
    case(kms.key_rotation, key(KeyRotationEnabled=False), FAIL, "rotation off", id="fail"),
    case(
        kms.key_rotation,
        key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", KeyRotationEnabled=None),
        NA,
        "does not apply",
        id="asymmetric",
    ),
    case(kms.key_rotation, key(KeyState="PendingDeletion"), NA, "PendingDeletion", id="pending-deletion"),
    case(kms.key_rotation, key(Origin="EXTERNAL", KeyRotationEnabled=None), NA, "EXTERNAL", id="imported"),
    case(kms.key_rotation, key(errors={"KeyRotationEnabled": "AccessDenied"}), ERROR, "AccessDenied", id="error"),
    case(
        kms.key_rotation,
        res("aws.kms.key", KeyId="k1", errors={"KeyMetadata": "AccessDenied"}),
        ERROR,
        "KeyMetadata could not be read",
        id="describe-error",
    ),
    # Backup
    case(
        backup.plan_covers_region,
        [bsettings(ProtectedResources=prot(T_ARN, V_ARN)), table(), volume()],
        PASS,
        "all 2 resource(s)",
        id="pass",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(Selections={"p1": [SEL["p1"][0] | {"Resources": ["*"]}]}), table(), volume()],
        PASS,
        id="selection-star",
    ),
    case(
        backup.plan_covers_region,
        [
            bsettings(
                Selections={"p1": [{"BackupSelection": {"Resources": [f"arn:aws:dynamodb:*:{ACCT}:table/*"]}}]},
                ProtectedResources=prot(V_ARN),
            ),
            table(),
            volume(),
        ],
        PASS,
        id="selection-pattern",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(ProtectedResources=prot(T_ARN)), table(), volume()],
        FAIL,
        "unprotected 1 EBS volume(s) of 2",
        id="partial",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(Plans=[], Selections={}), table()],
        FAIL,
        "no backup plan with a resource selection",
        id="no-plan",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(Selections={"p1": []}), table()],
        FAIL,
        "no backup plan with a resource selection",
        id="plan-without-selection",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(), table(region="eu-west-1")],
        NA,
        "no RDS, DynamoDB, EFS or EBS",
        id="nothing-here",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(errors={"ProtectedResources": "AccessDenied"}), table()],
        ERROR,
        "ProtectedResources",
        id="error",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(errors={"Selections": "AccessDenied"}), table()],
        ERROR,
        "Selections",
        id="selections-error",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(errors={"Plans": "AccessDenied"}), table()],
        ERROR,
        "Plans",
        id="plans-error",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(ProtectedResources=prot(T_ARN)), table()],
        ERROR,
        "input missing",
        errors=[listing_error("aws.rds.instance")],
        id="requires-error",
    ),
    # DynamoDB
    case(dynamodb.pitr_enabled, table(), PASS, id="pass"),
    case(dynamodb.pitr_enabled, table(pitr="DISABLED"), FAIL, "recovery disabled", id="fail"),
    case(dynamodb.pitr_enabled, table(pitr=None, errors={"ContinuousBackups": "AccessDenied"}), ERROR, id="error"),
    case(
        dynamodb.pitr_enabled,
        table(errors={"Table": "AccessDenied"}),
        ERROR,
        "Table could not be read",
        id="describe-error",
    ),
    # EFS
    case(efs.efs_encrypted, res("aws.efs.file_system", FileSystemId="fs-1", Encrypted=True), PASS, id="pass"),
    case(
        efs.efs_encrypted,
        res("aws.efs.file_system", FileSystemId="fs-1", Encrypted=False),
        FAIL,
        "fs-1 is not encrypted",
        id="fail",
    ),
    case(efs.efs_encrypted, res("aws.efs.file_system", FileSystemId="fs-1"), ERROR, "Encrypted", id="error"),
    # SNS
    case(
        sns.topic_encrypted,
        res("aws.sns.topic", f"arn:aws:sns:{REGION}:{ACCT}:alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"}),
        PASS,
        id="pass",
    ),
    case(
        sns.topic_encrypted,
        res("aws.sns.topic", f"arn:aws:sns:{REGION}:{ACCT}:alerts", Attributes={}),
        FAIL,
        "topic alerts is not encrypted",
        id="fail",
    ),
    case(sns.topic_encrypted, res("aws.sns.topic", errors={"Attributes": "AuthorizationError"}), ERROR, id="error"),
    # SQS
    case(
        sqs.queue_encrypted,
        res("aws.sqs.queue", Attributes={"SqsManagedSseEnabled": "true"}),
        PASS,
        "SQS-managed",
        id="sse-sqs",
    ),
    case(sqs.queue_encrypted, res("aws.sqs.queue", Attributes={"KmsMasterKeyId": "k"}), PASS, "KMS", id="kms"),
    case(sqs.queue_encrypted, res("aws.sqs.queue", Attributes={"SqsManagedSseEnabled": "false"}), FAIL, id="fail"),
    case(sqs.queue_encrypted, res("aws.sqs.queue", errors={"Attributes": "AccessDenied"}), ERROR, id="error"),
    # Secrets Manager
    case(
        secretsmanager.rotation_enabled,
        res("aws.secretsmanager.secret", Name="db", RotationEnabled=True),
        PASS,
        id="pass",
    ),
    case(
        secretsmanager.rotation_enabled,
        res("aws.secretsmanager.secret", Name="db"),
        FAIL,
        "secret db has no automatic rotation",
        id="absent-means-off",
    ),
    case(
        secretsmanager.rotation_enabled,
        res("aws.secretsmanager.secret", Name="db", RotationEnabled=False),
        FAIL,
        id="fail",
    ),
    case(
        secretsmanager.rotation_enabled,
        [],
        ERROR,
        "could not list",
        errors=[listing_error("aws.secretsmanager.secret")],
        id="error",
    ),
    # Logs
    case(
        logs.log_group_retention,
        res("aws.logs.log_group", logGroupName="/app"),
        PASS,
        "never expires",
        id="never-expire",
    ),
    case(
        logs.log_group_retention, res("aws.logs.log_group", logGroupName="/app", retentionInDays=400), PASS, id="pass"
    ),
    case(
        logs.log_group_retention,
        res("aws.logs.log_group", logGroupName="/app", retentionInDays=30),
        FAIL,
        "30 days (< 365)",
        id="fail",
    ),
    case(
        logs.log_group_retention,
        res("aws.logs.log_group", logGroupName="/app", retentionInDays=90),
        PASS,
        params={"min_days": 90},
        id="param",
    ),
    case(logs.log_group_retention, [], ERROR, errors=[listing_error("aws.logs.log_group")], id="error"),
    # -- looks fine but is not ----------------------------------------------------------------------
    case(
        rds.instance_encrypted,
        res(
            "aws.rds.instance",
            f"arn:aws:rds:{REGION}:{ACCT}:db:orders",
            DBInstanceIdentifier="orders",
            Engine="postgres",
            PerformanceInsightsEnabled=True,
            PerformanceInsightsKMSKeyId=f"arn:aws:kms:{REGION}:{ACCT}:key/pi",
        ),
        ERROR,
        "StorageEncrypted was not collected",
        id="performance-insights-key-only",
        looks_fine="PerformanceInsightsKMSKeyId names a KMS key, which looks like encryption, but it covers only "
        "Performance Insights data and StorageEncrypted is absent",
    ),
    case(
        rds.instance_not_public,
        db(PubliclyAccessible=True, DBSubnetGroup={"DBSubnetGroupName": "private-db", "SubnetGroupStatus": "Complete"}),
        FAIL,
        "publicly accessible",
        id="private-sounding-subnet-group",
        looks_fine="the subnet group is called private-db, but PubliclyAccessible true gives the instance a public "
        "address wherever a subnet routes to the internet",
    ),
    case(
        rds.backup_retention_7d,
        db(BackupRetentionPeriod=1),
        FAIL,
        "1 days (< 7)",
        id="api-default-one-day",
        looks_fine="automated backups are on, with 1 day of retention: the default for an instance created through "
        "the API or CLI",
    ),
    case(
        rds.multi_az,
        db(MultiAZ=False, ReadReplicaDBInstanceIdentifiers=["orders-replica"]),
        FAIL,
        "single Availability Zone",
        id="read-replica-is-not-standby",
        looks_fine="a read replica in another Availability Zone looks like a standby, but it does not take over "
        "automatically",
    ),
    case(
        rds.deletion_protection,
        db(DeletionProtection=False, BackupRetentionPeriod=35),
        FAIL,
        "without first disabling",
        id="long-backups-no-protection",
        looks_fine="35 days of automated backups look like protection, but by default deleting the instance deletes "
        "them too",
    ),
    case(
        kms.key_rotation,
        key(KeyRotationEnabled=False, CreationDate=ago(10)),
        FAIL,
        "rotation off",
        id="new-key-never-rotates",
        looks_fine="the key is 10 days old, so its material is fresh, but with rotation off it never changes",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(ProtectedResources=prot(T_ARN, last=ago(400))), table()],
        FAIL,
        "1 last backed up more than 35 days ago",
        id="defect-stale-protected-resource",
        looks_fine="ListProtectedResources names the table, but its last backup is 400 days old: no plan selects it "
        "any more",
    ),
    case(
        backup.plan_covers_region,
        [
            bsettings(
                Selections=only(
                    {
                        "Resources": ["*"],
                        "Conditions": {
                            "StringEquals": [{"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "daily"}]
                        },
                    }
                )
            ),
            table(),
        ],
        FAIL,
        "unprotected 1 DynamoDB table(s)",
        id="defect-selection-narrowed-by-tag",
        looks_fine="the selection's Resources is *, but its Conditions keep only resources tagged backup=daily",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(Selections=only({"Resources": ["*"], "NotResources": [T_ARN]})), table()],
        FAIL,
        "unprotected 1 DynamoDB table(s)",
        id="defect-selection-excludes",
        looks_fine="the selection's Resources is *, but NotResources excludes this very table",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(Selections=only({"Resources": ["*"], "NotResources": [V_ARN]})), table()],
        PASS,
        id="excludes-something-else",
    ),
    case(
        backup.plan_covers_region,
        [bsettings(ProtectedResources=[{"ResourceArn": T_ARN, "ResourceType": "DynamoDB"}]), table()],
        ERROR,
        "no LastBackupTime",
        id="protected-without-time",
    ),
    case(
        dynamodb.pitr_enabled,
        table(pitr="DISABLED"),
        FAIL,
        "recovery disabled",
        id="continuous-backups-enabled",
        looks_fine="ContinuousBackupsStatus is ENABLED, but that is true of every table; "
        "PointInTimeRecoveryStatus is DISABLED",
    ),
    case(
        efs.efs_encrypted,
        res(
            "aws.efs.file_system",
            FileSystemId="fs-1",
            Encrypted=False,
            ThroughputMode="elastic",
            PerformanceMode="generalPurpose",
        ),
        FAIL,
        "fs-1 is not encrypted",
        id="api-created",
        looks_fine="created through the API, where Encrypted defaults to false while the console defaults to true, "
        "so teams assume it is on",
    ),
    case(
        sns.topic_encrypted,
        res(
            "aws.sns.topic",
            f"arn:aws:sns:{REGION}:{ACCT}:alerts",
            Attributes={"KmsMasterKeyId": "", "DisplayName": "alerts"},
        ),
        FAIL,
        "topic alerts is not encrypted",
        id="empty-key-id",
        looks_fine="the KmsMasterKeyId attribute is present, but empty: encryption was switched off by setting it "
        "to an empty string",
    ),
    case(
        sqs.queue_encrypted,
        res(
            "aws.sqs.queue",
            Attributes={
                "SqsManagedSseEnabled": "false",
                "Policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Principal": "*",
                                "Action": "sqs:*",
                                "Resource": "*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ]
                    }
                ),
            },
        ),
        FAIL,
        "not encrypted at rest",
        id="tls-only-policy",
        looks_fine="the queue policy denies requests without TLS, which protects messages in transit, but nothing "
        "encrypts them at rest",
    ),
    case(
        secretsmanager.rotation_enabled,
        res(
            "aws.secretsmanager.secret",
            Name="db",
            RotationEnabled=False,
            RotationLambdaARN=f"arn:aws:lambda:{REGION}:{ACCT}:function:rotate",
            RotationRules={"AutomaticallyAfterDays": 30},
        ),
        FAIL,
        "no automatic rotation",
        id="rotation-cancelled",
        looks_fine="a rotation Lambda and a 30-day rule are still configured, but RotationEnabled is false (rotation "
        "was cancelled)",
    ),
    case(
        logs.log_group_retention,
        res("aws.logs.log_group", logGroupName="/audit", retentionInDays=30, metricFilterCount=3),
        FAIL,
        "30 days (< 365)",
        id="monitored-but-short",
        looks_fine="metric filters on the group make it look like a watched audit log, but its events expire after "
        "30 days",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    for module in (rds, kms, backup, dynamodb, efs, sns, sqs, secretsmanager, logs):
        assert_covered(CASES, module)
