"""The AWS operations the code sends outside the resource table, declared in one place.

The resource table (collectors/aws/table.py) names what each row calls. Everything else the agent
sends to AWS through a guarded client is declared here with the module that sends it: account and
region discovery, and the SSM endpoint collector. Together they are everything the read-only
allowlist holds: ``make permissions`` (``python -m collectors.permissions --write``) writes the
allowlist (collectors/aws/allowed_actions.py), the IAM policy and the CloudFormation role in
deploy/aws/ and the table in docs/aws-permissions.md from them, and a test fails when any of those
files is stale.

After adding an API call: a row or detail of the table for collected data, else an entry here; then
``make permissions``. An operation that is on neither is refused at run time (ReadOnlyViolation).

Not here: the evidence anchor writer (agent/evidence/anchoring.py) has a client, allowlist
(``ANCHOR_ACTIONS``) and IAM policy (deploy/aws/posture-agent-anchor-policy.json) of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DISCOVERY", "OUTSIDE_TABLE", "SSM_ENDPOINTS", "Call", "operations_of"]


@dataclass(frozen=True)
class Call:
    """One boto3 operation sent outside the resource table."""

    service: str  # the boto3 client name ("sts", "elbv2")
    operation: str  # the API operation name ("GetCallerIdentity")
    by: str  # the module that sends it
    why: str  # one line for docs/aws-permissions.md


#: Sent for every AWS source: whose credentials these are, which accounts and regions to scan.
DISCOVERY: tuple[Call, ...] = (
    Call("sts", "GetCallerIdentity", "collectors/aws/accounts.py", "the account and partition of each session"),
    Call("sts", "AssumeRole", "collectors/aws/accounts.py", "into each member account (role_arn, role_name)"),
    Call(
        "organizations", "ListAccounts", "collectors/aws/accounts.py", "the accounts to scan, with organization: true"
    ),
    Call("ec2", "DescribeRegions", "collectors/aws/collection.py", "the enabled regions, when regions is not set"),
)

#: Sent by the endpoint collector of kind ``ssm`` (servers managed by Systems Manager), on top of DISCOVERY.
SSM_ENDPOINTS: tuple[Call, ...] = (
    Call("ssm", "DescribeInstanceInformation", "collectors/endpoints/ssm.py", "the managed instances"),
    Call("ssm", "ListInventoryEntries", "collectors/endpoints/ssm.py", "installed applications, services, hotfixes"),
    Call("ssm", "DescribeInstancePatchStates", "collectors/endpoints/ssm.py", "Patch Manager state of each server"),
)

OUTSIDE_TABLE: tuple[Call, ...] = DISCOVERY + SSM_ENDPOINTS


def operations_of(calls: tuple[Call, ...]) -> frozenset[tuple[str, str]]:
    """The (boto3 client, operation) pairs of ``calls``."""
    return frozenset((c.service, c.operation) for c in calls)
