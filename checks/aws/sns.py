"""SNS: topics are encrypted at rest."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.sns.topic_encrypted",
    title="SNS topics are encrypted with KMS",
    severity=Severity.LOW,
    resource_type="aws.sns.topic",
    rationale=(
        "Messages waiting for delivery are stored by SNS. Server-side encryption with KMS protects "
        "them at rest and adds a key permission to who can publish or read."
    ),
    remediation=Remediation(
        console=(
            "1. Open the SNS console and choose Topics, then the topic.\n"
            "2. Choose Edit and expand Encryption.\n"
            "3. Enable encryption, pick a KMS key and save."
        ),
        cli="aws sns set-topic-attributes --topic-arn <topic-arn> --attribute-name KmsMasterKeyId "
        "--attribute-value <kms-key-id>",
        docs="https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic.html",
    ),
    reads=(
        "sns:ListTopics: TopicArn",
        "sns:GetTopicAttributes: Attributes.KmsMasterKeyId",
    ),
    needs="sns:ListTopics, sns:GetTopicAttributes",
)
def topic_encrypted(topic: Resource, ctx: Context) -> Verdict:
    name = topic.id.rsplit(":", 1)[-1]
    key = (need(topic, "Attributes") or {}).get("KmsMasterKeyId")
    if key:
        return passed(f"topic {name} is encrypted with {key}")
    return failed(f"topic {name} is not encrypted")
