"""EFS: file systems are encrypted at rest."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.efs.encrypted",
    title="EFS file systems are encrypted at rest",
    severity=Severity.MEDIUM,
    resource_type="aws.efs.file_system",
    rationale=(
        "Shared file systems often collect exports, uploads and application data. Encryption at "
        "rest can only be chosen when the file system is created, so gaps persist until migrated."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EFS console and choose Create file system > Customize.\n"
            "2. Keep Enable encryption of data at rest selected and choose a KMS key.\n"
            "3. Copy the data across (for example with AWS DataSync) and retire the old file system."
        ),
        cli="aws efs create-file-system --encrypted --kms-key-id <kms-key-arn> --creation-token <token>",
        docs="https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html",
    ),
    reads=("efs:DescribeFileSystems: Encrypted",),
    needs="elasticfilesystem:DescribeFileSystems",
)
def efs_encrypted(fs: Resource, ctx: Context) -> Verdict:
    fid = fs.attributes.get("FileSystemId") or fs.id.rsplit("/", 1)[-1]
    if need(fs, "Encrypted") is True:
        return passed(f"file system {fid} is encrypted at rest")
    return failed(f"file system {fid} is not encrypted at rest")
