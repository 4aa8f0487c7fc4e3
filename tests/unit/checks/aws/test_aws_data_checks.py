"""Data stores and their protection: RDS, KMS, Backup, DynamoDB, EFS, SNS, SQS, Secrets Manager, Logs."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

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
    attrs: dict[str, Any] = {"DBInstanceIdentifier": "orders", "Engine": "postgres", "StorageEncrypted": True,
                             "PubliclyAccessible": False, "BackupRetentionPeriod": 7, "MultiAZ": True,
                             "DeletionProtection": True}
    attrs |= over
    for key in errors or {}:
        attrs.pop(key, None)
    return res("aws.rds.instance", f"arn:aws:rds:{REGION}:{ACCT}:db:orders", errors=errors, **attrs)


def key(errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {"KeyId": "k1", "KeyManager": "CUSTOMER", "KeyState": "Enabled",
                             "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS",
                             "KeyRotationEnabled": True}
    attrs |= over
    for k in errors or {}:
        attrs.pop(k, None)
    return res("aws.kms.key", f"arn:aws:kms:{REGION}:{ACCT}:key/k1", errors=errors, **attrs)


def table(name: str = "t", pitr: str | None = "ENABLED", errors: dict[str, str] | None = None,
          region: str = REGION):
    attrs: dict[str, Any] = {"TableName": name}
    if pitr is not None:
        attrs["ContinuousBackups"] = {"ContinuousBackupsStatus": "ENABLED",
                                      "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr}}
    return res("aws.dynamodb.table", f"arn:aws:dynamodb:{region}:{ACCT}:table/{name}", region=region,
               errors=errors, **attrs)


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


def prot(*arns: str) -> list[dict[str, str]]:
    return [{"ResourceArn": a, "ResourceType": "x"} for a in arns]


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
    case(kms.key_rotation, key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", KeyRotationEnabled=None), NA,
         "does not apply", id="asymmetric"),
    case(kms.key_rotation, key(KeyState="PendingDeletion"), NA, "PendingDeletion", id="pending-deletion"),
    case(kms.key_rotation, key(Origin="EXTERNAL", KeyRotationEnabled=None), NA, "EXTERNAL", id="imported"),
    case(kms.key_rotation, key(errors={"KeyRotationEnabled": "AccessDenied"}), ERROR, "AccessDenied",
         id="error"),
    case(kms.key_rotation, res("aws.kms.key", KeyId="k1", errors={"KeyMetadata": "AccessDenied"}), ERROR,
         "KeyMetadata could not be read", id="describe-error"),
    # Backup
    case(backup.plan_covers_region, [bsettings(ProtectedResources=prot(T_ARN, V_ARN)), table(), volume()],
         PASS, "all 2 resource(s)", id="pass"),
    case(backup.plan_covers_region,
         [bsettings(Selections={"p1": [SEL["p1"][0] | {"Resources": ["*"]}]}), table(), volume()],
         PASS, id="selection-star"),
    case(backup.plan_covers_region,
         [bsettings(Selections={"p1": [{"BackupSelection": {"Resources": [f"arn:aws:dynamodb:*:{ACCT}:table/*"]}}]},
                    ProtectedResources=prot(V_ARN)), table(), volume()],
         PASS, id="selection-pattern"),
    case(backup.plan_covers_region, [bsettings(ProtectedResources=prot(T_ARN)), table(), volume()], FAIL,
         "unprotected 1 EBS volume(s) of 2", id="partial"),
    case(backup.plan_covers_region, [bsettings(Plans=[], Selections={}), table()], FAIL,
         "no backup plan with a resource selection", id="no-plan"),
    case(backup.plan_covers_region, [bsettings(Selections={"p1": []}), table()], FAIL,
         "no backup plan with a resource selection", id="plan-without-selection"),
    case(backup.plan_covers_region, [bsettings(), table(region="eu-west-1")], NA,
         "no RDS, DynamoDB, EFS or EBS", id="nothing-here"),
    case(backup.plan_covers_region, [bsettings(errors={"ProtectedResources": "AccessDenied"}), table()], ERROR,
         "ProtectedResources", id="error"),
    case(backup.plan_covers_region, [bsettings(errors={"Selections": "AccessDenied"}), table()], ERROR,
         "Selections", id="selections-error"),
    case(backup.plan_covers_region, [bsettings(errors={"Plans": "AccessDenied"}), table()], ERROR,
         "Plans", id="plans-error"),
    case(backup.plan_covers_region, [bsettings(ProtectedResources=prot(T_ARN)), table()], ERROR,
         "input missing", errors=[listing_error("aws.rds.instance")], id="requires-error"),
    # DynamoDB
    case(dynamodb.pitr_enabled, table(), PASS, id="pass"),
    case(dynamodb.pitr_enabled, table(pitr="DISABLED"), FAIL, "recovery disabled", id="fail"),
    case(dynamodb.pitr_enabled, table(pitr=None, errors={"ContinuousBackups": "AccessDenied"}), ERROR,
         id="error"),
    case(dynamodb.pitr_enabled, table(errors={"Table": "AccessDenied"}), ERROR, "Table could not be read",
         id="describe-error"),
    # EFS
    case(efs.efs_encrypted, res("aws.efs.file_system", FileSystemId="fs-1", Encrypted=True), PASS, id="pass"),
    case(efs.efs_encrypted, res("aws.efs.file_system", FileSystemId="fs-1", Encrypted=False), FAIL,
         "fs-1 is not encrypted", id="fail"),
    case(efs.efs_encrypted, res("aws.efs.file_system", FileSystemId="fs-1"), ERROR, "Encrypted", id="error"),
    # SNS
    case(sns.topic_encrypted, res("aws.sns.topic", f"arn:aws:sns:{REGION}:{ACCT}:alerts",
                                  Attributes={"KmsMasterKeyId": "alias/aws/sns"}), PASS, id="pass"),
    case(sns.topic_encrypted, res("aws.sns.topic", f"arn:aws:sns:{REGION}:{ACCT}:alerts", Attributes={}), FAIL,
         "topic alerts is not encrypted", id="fail"),
    case(sns.topic_encrypted, res("aws.sns.topic", errors={"Attributes": "AuthorizationError"}), ERROR,
         id="error"),
    # SQS
    case(sqs.queue_encrypted, res("aws.sqs.queue", Attributes={"SqsManagedSseEnabled": "true"}), PASS,
         "SQS-managed", id="sse-sqs"),
    case(sqs.queue_encrypted, res("aws.sqs.queue", Attributes={"KmsMasterKeyId": "k"}), PASS, "KMS",
         id="kms"),
    case(sqs.queue_encrypted, res("aws.sqs.queue", Attributes={"SqsManagedSseEnabled": "false"}), FAIL,
         id="fail"),
    case(sqs.queue_encrypted, res("aws.sqs.queue", errors={"Attributes": "AccessDenied"}), ERROR, id="error"),
    # Secrets Manager
    case(secretsmanager.rotation_enabled, res("aws.secretsmanager.secret", Name="db", RotationEnabled=True),
         PASS, id="pass"),
    case(secretsmanager.rotation_enabled, res("aws.secretsmanager.secret", Name="db"), FAIL,
         "secret db has no automatic rotation", id="absent-means-off"),
    case(secretsmanager.rotation_enabled, res("aws.secretsmanager.secret", Name="db", RotationEnabled=False),
         FAIL, id="fail"),
    case(secretsmanager.rotation_enabled, [], ERROR, "could not list",
         errors=[listing_error("aws.secretsmanager.secret")], id="error"),
    # Logs
    case(logs.log_group_retention, res("aws.logs.log_group", logGroupName="/app"), PASS, "never expires",
         id="never-expire"),
    case(logs.log_group_retention, res("aws.logs.log_group", logGroupName="/app", retentionInDays=400), PASS,
         id="pass"),
    case(logs.log_group_retention, res("aws.logs.log_group", logGroupName="/app", retentionInDays=30), FAIL,
         "30 days (< 365)", id="fail"),
    case(logs.log_group_retention, res("aws.logs.log_group", logGroupName="/app", retentionInDays=90), PASS,
         params={"min_days": 90}, id="param"),
    case(logs.log_group_retention, [], ERROR, errors=[listing_error("aws.logs.log_group")], id="error"),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    for module in (rds, kms, backup, dynamodb, efs, sns, sqs, secretsmanager, logs):
        assert_covered(CASES, module)
