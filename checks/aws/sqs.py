"""SQS: queues are encrypted at rest."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.sqs.queue_encrypted",
    title="SQS queues are encrypted at rest",
    severity=Severity.LOW,
    resource_type="aws.sqs.queue",
    rationale=(
        "Queued messages can carry personal or business data for days. Server-side encryption, "
        "SQS-managed or with KMS, keeps them encrypted while stored."
    ),
    remediation=Remediation(
        console=(
            "1. Open the SQS console and choose the queue, then Edit.\n"
            "2. Under Encryption enable server-side encryption.\n"
            "3. Choose SSE-SQS or SSE-KMS with a key and save."
        ),
        cli="aws sqs set-queue-attributes --queue-url <queue-url> --attributes SqsManagedSseEnabled=true",
        docs="https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html",
    ),
    reads=(
        "sqs:ListQueues: QueueUrls",
        "sqs:GetQueueAttributes (All): Attributes.KmsMasterKeyId, SqsManagedSseEnabled",
    ),
    needs="sqs:ListQueues, sqs:GetQueueAttributes",
)
def queue_encrypted(queue: Resource, ctx: Context) -> Verdict:
    name = queue.id.rsplit(":", 1)[-1]
    attrs = need(queue, "Attributes") or {}
    if attrs.get("KmsMasterKeyId"):
        return passed(f"queue {name} is encrypted with KMS key {attrs['KmsMasterKeyId']}")
    if str(attrs.get("SqsManagedSseEnabled", "")).lower() == "true":
        return passed(f"queue {name} is encrypted with SQS-managed keys")
    return failed(f"queue {name} is not encrypted at rest")
