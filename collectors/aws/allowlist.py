"""The read-only allowlist: the only AWS operations the collector may send.

``ALLOWED_ACTIONS`` holds IAM action names. It is generated (collectors/aws/allowed_actions.py), like
the IAM policy and the CloudFormation role in deploy/aws/, by ``make permissions`` from the resource
table (collectors/aws/table.py) and the calls declared outside it (collectors/aws/permissions.py),
mapped to IAM actions by :func:`iam_action`. A botocore ``before-call`` hook (:func:`install_guard`)
refuses any other operation before a request leaves the process.
"""

from __future__ import annotations

from typing import Any

from agent.errors import AgentError
from collectors.aws.allowed_actions import ALLOWED_ACTIONS

__all__ = ["ALLOWED_ACTIONS", "ReadOnlyViolation", "iam_action", "install_guard"]

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
