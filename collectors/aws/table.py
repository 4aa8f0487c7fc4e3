"""The declarative table: one row per resource type in docs/aws-resources.md.

Adding a type is a row. A row names the service, the list operation and the JMESPath to its items,
how to build the id, whether it is global, and per-item calls (``describe`` replaces the item,
``details`` add keys). Rows with ``custom`` run a small function from custom.py instead.
"""

from __future__ import annotations

import json
from typing import Any

from collectors.aws import custom
from collectors.aws.permissions import DISCOVERY, operations_of
from collectors.aws.unit import Detail, ResourceType, Unit

__all__ = ["PAGE_SIZE", "TABLE", "all_operations"]

# Small on purpose: every listing crosses page boundaries in tests; real accounts pay a few
# extra calls. Only used where the operation accepts a page size in this range.
PAGE_SIZE = 50

_ACM_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def _ec2_arn(kind: str, key: str) -> Any:
    return lambda item, unit: unit.arn("ec2", f"{kind}/{item[key]}")


def _field(key: str) -> Any:
    return lambda item, unit: item[key]


def _own_ids(item: dict[str, Any], unit: Unit) -> str:
    raise AssertionError("custom rows build their own ids")


_OWN_IDS = _own_ids


def _bucket_region(location: dict[str, Any]) -> str:
    # A null LocationConstraint means us-east-1; "EU" is the legacy name of eu-west-1.
    constraint = location.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if constraint == "EU" else str(constraint)


def _bucket(key: str, operation: str, result: str | None, missing: str = "", transform: Any = None) -> Detail:
    return Detail(
        key,
        operation,
        lambda b: {"Bucket": b["Name"]},
        result,
        frozenset({missing}) if missing else frozenset(),
        transform,
    )


def _symmetric(key: dict[str, Any]) -> bool:
    # KeyUsage defaults to ENCRYPT_DECRYPT when a key is created without it (moto omits it).
    return (
        bool(key.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT")
        and key.get("KeyUsage", "ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT"
    )


def _queue_arn(item: dict[str, Any], unit: Unit) -> str:
    arn = (item.get("Attributes") or {}).get("QueueArn")
    return arn or unit.arn("sqs", item["QueueUrl"].rstrip("/").rsplit("/", 1)[-1])


def _last_used(row: str) -> tuple[str, ...]:
    # credential report columns that change whenever the credential is used (IAM User Guide,
    # "Getting credential reports": password_last_used, access_key_N_last_used_date/_region/_service)
    keys = ["password_last_used"] + [
        f"access_key_{n}_last_used_{x}" for n in (1, 2) for x in ("date", "region", "service")
    ]
    return tuple(f"{row}.{k}" for k in keys)


R = ResourceType
TABLE: tuple[ResourceType, ...] = (
    # -- IAM (global) ---------------------------------------------------------------------------
    R(
        "aws.account",
        "iam",
        _OWN_IDS,
        global_=True,
        custom=custom.iam_account,
        calls=(
            ("iam", "GetAccountSummary"),
            ("iam", "GetAccountPasswordPolicy"),
            ("iam", "GenerateCredentialReport"),
            ("iam", "GetCredentialReport"),
        ),
        observations=_last_used("RootCredentials"),
    ),
    R(
        "aws.iam.user",
        "iam",
        _field("Arn"),
        global_=True,
        custom=custom.iam_users,
        calls=(
            ("iam", "GenerateCredentialReport"),
            ("iam", "GetCredentialReport"),
            ("iam", "GetAccountAuthorizationDetails"),
        ),
        observations=_last_used("Credentials"),
    ),
    R(
        "aws.iam.policy",
        "iam",
        _field("Arn"),
        global_=True,
        custom=custom.iam_policies,
        calls=(("iam", "GetAccountAuthorizationDetails"),),
    ),
    R(
        "aws.iam.group",
        "iam",
        _field("Arn"),
        global_=True,
        custom=custom.iam_groups,
        calls=(("iam", "GetAccountAuthorizationDetails"),),
    ),
    # -- S3 (listing is global; a bucket's region is its location) -------------------------------
    R(
        "aws.s3.account",
        "s3control",
        lambda _, u: u.arn("s3", "account", region=""),
        global_=True,
        details=(
            Detail(
                "PublicAccessBlock",
                "GetPublicAccessBlock",
                lambda _: {},
                "PublicAccessBlockConfiguration",
                frozenset({"NoSuchPublicAccessBlockConfiguration"}),
                account_param="AccountId",
            ),
        ),
    ),
    R(
        "aws.s3.bucket",
        "s3",
        lambda b, u: f"arn:{u.account.partition}:s3:::{b['Name']}",
        "ListBuckets",
        "Buckets",
        name="Name",
        global_=True,
        region_of=Detail("Region", "GetBucketLocation", lambda b: {"Bucket": b["Name"]}, transform=_bucket_region),
        details=(
            _bucket(
                "PublicAccessBlock",
                "GetPublicAccessBlock",
                "PublicAccessBlockConfiguration",
                "NoSuchPublicAccessBlockConfiguration",
            ),
            _bucket(
                "Encryption",
                "GetBucketEncryption",
                "ServerSideEncryptionConfiguration",
                "ServerSideEncryptionConfigurationNotFoundError",
            ),
            _bucket("Versioning", "GetBucketVersioning", None),
            _bucket(
                "Policy", "GetBucketPolicy", "Policy", "NoSuchBucketPolicy", lambda p: json.loads(p) if p else None
            ),
            _bucket("Acl", "GetBucketAcl", "{Owner: Owner, Grants: Grants}"),
            _bucket("Logging", "GetBucketLogging", "LoggingEnabled"),
        ),
    ),
    # -- per-region settings ---------------------------------------------------------------------
    R(
        "aws.accessanalyzer.settings",
        "accessanalyzer",
        _OWN_IDS,
        custom=custom.accessanalyzer_settings,
        calls=(("accessanalyzer", "ListAnalyzers"),),
        # the analyzer's progress through the account's resources (AnalyzerSummary)
        observations=("Analyzers[].lastResourceAnalyzed", "Analyzers[].lastResourceAnalyzedAt"),
    ),
    R(
        "aws.guardduty.settings",
        "guardduty",
        _OWN_IDS,
        custom=custom.guardduty_settings,
        calls=(("guardduty", "ListDetectors"), ("guardduty", "GetDetector")),
    ),
    R(
        "aws.config.settings",
        "config",
        _OWN_IDS,
        custom=custom.config_settings,
        calls=(("config", "DescribeConfigurationRecorders"), ("config", "DescribeConfigurationRecorderStatus")),
        # ConfigurationRecorderStatus: the outcome and time of the latest recording, every few minutes
        observations=("RecorderStatus[].lastStatus", "RecorderStatus[].lastStatusChangeTime"),
    ),
    R(
        "aws.securityhub.settings",
        "securityhub",
        lambda _, u: u.settings_id("securityhub"),
        name="'securityhub settings'",
        details=(Detail("Hub", "DescribeHub", lambda _: {}, None, frozenset({"InvalidAccessException"})),),
    ),
    R("aws.ec2.settings", "ec2", _OWN_IDS, custom=custom.ec2_settings, calls=(("ec2", "GetEbsEncryptionByDefault"),)),
    R(
        "aws.backup.settings",
        "backup",
        _OWN_IDS,
        custom=custom.backup_settings,
        calls=(("backup", "ListBackupPlans"), ("backup", "ListBackupSelections"), ("backup", "ListProtectedResources")),
        # ProtectedResource: what the latest backup job made and when (checks judge its age)
        observations=(
            "ProtectedResources[].LastBackupTime",
            "ProtectedResources[].LastBackupVaultArn",
            "ProtectedResources[].LastRecoveryPointArn",
        ),
    ),
    # -- regional resources ----------------------------------------------------------------------
    R(
        "aws.cloudtrail.trail",
        "cloudtrail",
        _field("TrailARN"),
        "DescribeTrails",
        "trailList",
        name="Name",
        params={"includeShadowTrails": False},
        details=(
            Detail("Status", "GetTrailStatus", lambda t: {"Name": t["TrailARN"]}),
            Detail("EventSelectors", "GetEventSelectors", lambda t: {"TrailName": t["TrailARN"]}),
        ),
        # GetTrailStatus: delivery and notification times and outcomes change with every log file;
        # IsLogging, TimeLoggingStarted/Stopped and the Latest*Error fields stay configuration
        observations=tuple(
            f"Status.{k}"
            for k in (
                "LatestDeliveryTime",
                "LatestDeliveryAttemptTime",
                "LatestDeliveryAttemptSucceeded",
                "LatestNotificationTime",
                "LatestNotificationAttemptTime",
                "LatestNotificationAttemptSucceeded",
                "LatestDigestDeliveryTime",
                "LatestCloudWatchLogsDeliveryTime",
            )
        ),
    ),
    R(
        "aws.ec2.instance",
        "ec2",
        _ec2_arn("instance", "InstanceId"),
        "DescribeInstances",
        "Reservations[].Instances[]",
        name="InstanceId",
        page_size=PAGE_SIZE,
    ),
    R(
        "aws.ec2.security_group",
        "ec2",
        _ec2_arn("security-group", "GroupId"),
        "DescribeSecurityGroups",
        "SecurityGroups",
        name="GroupName",
        page_size=PAGE_SIZE,
    ),
    R(
        "aws.ec2.volume",
        "ec2",
        _ec2_arn("volume", "VolumeId"),
        "DescribeVolumes",
        "Volumes",
        name="VolumeId",
        page_size=PAGE_SIZE,
    ),
    R(
        "aws.ec2.snapshot",
        "ec2",
        _ec2_arn("snapshot", "SnapshotId"),
        "DescribeSnapshots",
        "Snapshots",
        name="SnapshotId",
        params={"OwnerIds": ["self"]},
        page_size=PAGE_SIZE,
        details=(
            Detail(
                "CreateVolumePermissions",
                "DescribeSnapshotAttribute",
                lambda s: {"SnapshotId": s["SnapshotId"], "Attribute": "createVolumePermission"},
                "CreateVolumePermissions",
            ),
        ),
    ),
    R(
        "aws.ec2.image",
        "ec2",
        _ec2_arn("image", "ImageId"),
        "DescribeImages",
        "Images",
        name="Name",
        params={"Owners": ["self"]},
        page_size=PAGE_SIZE,
        observations=("LastLaunchedTime",),
    ),
    R(
        "aws.ec2.vpc",
        "ec2",
        _ec2_arn("vpc", "VpcId"),
        page_size=PAGE_SIZE,
        custom=custom.vpcs,
        calls=(("ec2", "DescribeVpcs"), ("ec2", "DescribeFlowLogs")),
    ),
    R(
        "aws.ssm.managed_instance",
        "ssm",
        lambda i, u: u.arn("ssm", f"managed-instance/{i['InstanceId']}"),
        "DescribeInstanceInformation",
        "InstanceInformationList",
        name="InstanceId",
        page_size=PAGE_SIZE,
        details=(
            Detail(
                "Applications",
                "ListInventoryEntries",
                lambda i: {"InstanceId": i["InstanceId"], "TypeName": "AWS:Application"},
                "Entries",
                token="NextToken",
            ),
        ),
        # InstanceInformation: the agent's check-in and association runs (every few minutes)
        observations=(
            "LastPingDateTime",
            "LastAssociationExecutionDate",
            "LastSuccessfulAssociationExecutionDate",
            "AssociationStatus",
            "AssociationOverview",
        ),
    ),
    R(
        "aws.rds.instance",
        "rds",
        _field("DBInstanceArn"),
        "DescribeDBInstances",
        "DBInstances",
        name="DBInstanceIdentifier",
        page_size=PAGE_SIZE,
        observations=("LatestRestorableTime",),
    ),  # moves every five minutes with the backups
    R(
        "aws.kms.key",
        "kms",
        lambda k, u: k.get("Arn") or k["KeyArn"],
        "ListKeys",
        "Keys",
        name="KeyId",
        page_size=PAGE_SIZE,
        describe=Detail("KeyMetadata", "DescribeKey", lambda k: {"KeyId": k["KeyId"]}, "KeyMetadata"),
        keep=lambda k: k.get("KeyManager") == "CUSTOMER",
        details=(
            Detail(
                "KeyRotationEnabled",
                "GetKeyRotationStatus",
                lambda k: {"KeyId": k["KeyId"]},
                "KeyRotationEnabled",
                applies=_symmetric,
            ),
        ),
    ),
    R(
        "aws.elbv2.load_balancer",
        "elbv2",
        _field("LoadBalancerArn"),
        "DescribeLoadBalancers",
        "LoadBalancers",
        name="LoadBalancerName",
        page_size=PAGE_SIZE,
        details=(
            Detail(
                "Listeners", "DescribeListeners", lambda lb: {"LoadBalancerArn": lb["LoadBalancerArn"]}, "Listeners"
            ),
        ),
    ),
    R(
        "aws.logs.log_group",
        "logs",
        lambda g, u: g["arn"].removesuffix(":*"),
        "DescribeLogGroups",
        "logGroups",
        name="logGroupName",
        page_size=PAGE_SIZE,
        observations=("storedBytes",),
    ),
    R(
        "aws.lambda.function",
        "lambda",
        _field("FunctionArn"),
        "ListFunctions",
        "Functions",
        name="FunctionName",
        page_size=PAGE_SIZE,
        details=(
            Detail(
                "UrlConfigs",
                "ListFunctionUrlConfigs",
                lambda f: {"FunctionName": f["FunctionName"]},
                "FunctionUrlConfigs",
                token="NextMarker",
                token_param="Marker",
            ),
        ),
    ),
    R(
        "aws.secretsmanager.secret",
        "secretsmanager",
        _field("ARN"),
        "ListSecrets",
        "SecretList",
        name="Name",
        page_size=PAGE_SIZE,
        observations=("LastAccessedDate",),
    ),
    R(
        "aws.acm.certificate",
        "acm",
        _field("CertificateArn"),
        "ListCertificates",
        "CertificateSummaryList",
        name="DomainName",
        page_size=PAGE_SIZE,
        params={"Includes": {"keyTypes": _ACM_KEY_TYPES}},
        details=(
            Detail(
                "Certificate", "DescribeCertificate", lambda c: {"CertificateArn": c["CertificateArn"]}, "Certificate"
            ),
        ),
    ),
    R(
        "aws.dynamodb.table",
        "dynamodb",
        lambda t, u: t.get("TableArn") or u.arn("dynamodb", f"table/{t['TableName']}"),
        "ListTables",
        "TableNames",
        name="TableName",
        page_size=PAGE_SIZE,
        wrap="TableName",
        describe=Detail("Table", "DescribeTable", lambda t: {"TableName": t["TableName"]}, "Table"),
        details=(
            Detail(
                "ContinuousBackups",
                "DescribeContinuousBackups",
                lambda t: {"TableName": t["TableName"]},
                "ContinuousBackupsDescription",
            ),
        ),
        # sizes and counts refreshed about every six hours; the point-in-time window moves constantly
        observations=(
            "TableSizeBytes",
            "ItemCount",
            "GlobalSecondaryIndexes[].IndexSizeBytes",
            "GlobalSecondaryIndexes[].ItemCount",
            "LocalSecondaryIndexes[].IndexSizeBytes",
            "LocalSecondaryIndexes[].ItemCount",
            "ContinuousBackups.PointInTimeRecoveryDescription.EarliestRestorableDateTime",
            "ContinuousBackups.PointInTimeRecoveryDescription.LatestRestorableDateTime",
        ),
    ),
    R(
        "aws.efs.file_system",
        "efs",
        _field("FileSystemArn"),
        "DescribeFileSystems",
        "FileSystems",
        name="Name",
        page_size=PAGE_SIZE,
        observations=("SizeInBytes",),
    ),  # metered with its own Timestamp
    R(
        "aws.sns.topic",
        "sns",
        _field("TopicArn"),
        "ListTopics",
        "Topics",
        name="TopicArn",
        details=(Detail("Attributes", "GetTopicAttributes", lambda t: {"TopicArn": t["TopicArn"]}, "Attributes"),),
    ),
    R(
        "aws.sqs.queue",
        "sqs",
        _queue_arn,
        "ListQueues",
        "QueueUrls",
        name="QueueUrl",
        page_size=PAGE_SIZE,
        wrap="QueueUrl",
        details=(
            Detail(
                "Attributes",
                "GetQueueAttributes",
                lambda q: {"QueueUrl": q["QueueUrl"], "AttributeNames": ["All"]},
                "Attributes",
            ),
        ),
        observations=(
            "Attributes.ApproximateNumberOfMessages",
            "Attributes.ApproximateNumberOfMessagesNotVisible",
            "Attributes.ApproximateNumberOfMessagesDelayed",
        ),
    ),
    R(
        "aws.eks.cluster",
        "eks",
        lambda c, u: c.get("arn") or u.arn("eks", f"cluster/{c['name']}"),
        "ListClusters",
        "clusters",
        name="name",
        page_size=PAGE_SIZE,
        wrap="name",
        describe=Detail("cluster", "DescribeCluster", lambda c: {"name": c["name"]}, "cluster"),
    ),
    R(
        "aws.ecr.repository",
        "ecr",
        _field("repositoryArn"),
        "DescribeRepositories",
        "repositories",
        name="repositoryName",
        page_size=PAGE_SIZE,
    ),
)
del R


def all_operations() -> set[tuple[str, str]]:
    """Every (boto3 client, operation) the table can send, plus account and region discovery
    (declared in collectors/aws/permissions.py)."""
    ops = set(operations_of(DISCOVERY))
    for rt in TABLE:
        ops |= rt.operations()
    return ops
