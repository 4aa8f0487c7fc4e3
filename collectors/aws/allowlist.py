"""The read-only allowlist: the only AWS operations the collector may send.

``ALLOWED_ACTIONS`` is the single source of truth. It holds IAM action names, so the same set is
the IAM policy in deploy/aws/ (a contract test keeps them equal). A botocore ``before-call`` hook
(:func:`install_guard`) refuses any other operation before a request leaves the process.
"""

from __future__ import annotations

from typing import Any

from agent.errors import AgentError

__all__ = ["ALLOWED_ACTIONS", "ReadOnlyViolation", "iam_action", "install_guard"]

ALLOWED_ACTIONS: frozenset[str] = frozenset(
    {
        # identity, accounts, regions
        "sts:GetCallerIdentity",
        "sts:AssumeRole",
        "organizations:ListAccounts",
        "ec2:DescribeRegions",
        # IAM (global)
        "iam:GetAccountSummary",
        "iam:GetAccountPasswordPolicy",
        "iam:GenerateCredentialReport",
        "iam:GetCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        # S3 (IAM action names, not boto3 operation names: see _RENAMED)
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketVersioning",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
        "s3:GetBucketLogging",
        "s3:GetAccountPublicAccessBlock",
        # regional settings
        "access-analyzer:ListAnalyzers",
        "guardduty:ListDetectors",
        "guardduty:GetDetector",
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
        "securityhub:DescribeHub",
        "ec2:GetEbsEncryptionByDefault",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
        "backup:ListProtectedResources",
        # regional resources
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:DescribeSnapshotAttribute",
        "ec2:DescribeImages",
        "ec2:DescribeVpcs",
        "ec2:DescribeFlowLogs",
        "ssm:DescribeInstanceInformation",
        "ssm:ListInventoryEntries",
        "ssm:DescribeInstancePatchStates",  # collectors/endpoints/ssm.py: Patch Manager state of each server
        "rds:DescribeDBInstances",
        "kms:ListKeys",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "logs:DescribeLogGroups",
        "lambda:ListFunctions",
        "lambda:ListFunctionUrlConfigs",
        "secretsmanager:ListSecrets",
        "acm:ListCertificates",
        "acm:DescribeCertificate",
        "dynamodb:ListTables",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeContinuousBackups",
        "elasticfilesystem:DescribeFileSystems",
        "sns:ListTopics",
        "sns:GetTopicAttributes",
        "sqs:ListQueues",
        "sqs:GetQueueAttributes",
        "eks:ListClusters",
        "eks:DescribeCluster",
        "ecr:DescribeRepositories",
    }
)

# boto3 client name -> IAM service prefix, where they differ.
_PREFIX: dict[str, str] = {
    "elbv2": "elasticloadbalancing",
    "accessanalyzer": "access-analyzer",
    "efs": "elasticfilesystem",
    # s3control has no IAM prefix of its own: every operation must be listed in _RENAMED.
    "s3control": "-s3control-",
}

# (boto3 client, boto3 operation) -> IAM action, where the action is not prefix:Operation.
_RENAMED: dict[tuple[str, str], str] = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}


class ReadOnlyViolation(AgentError):
    """An operation outside the read-only allowlist was about to be sent: a bug, never data."""


def iam_action(service: str, operation: str) -> str:
    """The IAM action a boto3 (client name, operation name) needs."""
    return _RENAMED.get((service, operation)) or f"{_PREFIX.get(service, service)}:{operation}"


def install_guard(client: Any) -> None:
    """Refuse, before signing or sending, every operation of ``client`` not on the allowlist."""
    boto_name = client.meta.service_model.service_name  # the boto3 client name: "s3", "elbv2"

    def _before_call(model: Any, **_: Any) -> None:
        action = iam_action(boto_name, model.name)
        if action not in ALLOWED_ACTIONS:
            raise ReadOnlyViolation(f"refused {boto_name}.{model.name} ({action}): not on the read-only allowlist")

    client.meta.events.register("before-call", _before_call)
