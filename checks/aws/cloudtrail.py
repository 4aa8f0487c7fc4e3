"""CloudTrail: an account-wide, tamper-evident, encrypted record of API activity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.aws._util import as_list, effective_pab, parse_time, public_acl_grants, public_statements
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    passed,
)

CT_DOCS = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"


def _trail_name(trail: Resource) -> str:
    return str(trail.attributes.get("Name") or trail.name or trail.id.rsplit("/", 1)[-1])


def _advanced_logs_management(selectors: list[Mapping[str, Any]]) -> bool:
    for sel in selectors:
        fields = {f.get("Field"): f for f in sel.get("FieldSelectors", []) or []}
        category = fields.get("eventCategory", {})
        # A readOnly filter means only reads or only writes are kept: not the whole picture.
        if "Management" in as_list(category.get("Equals")) and "readOnly" not in fields:
            return True
    return False


def _logs_management_events(selectors: Mapping[str, Any] | None) -> bool:
    selectors = selectors or {}
    advanced = selectors.get("AdvancedEventSelectors") or []
    if advanced:
        return _advanced_logs_management(advanced)
    return any(
        s.get("IncludeManagementEvents") is True and s.get("ReadWriteType", "All") == "All"
        for s in selectors.get("EventSelectors") or []
    )


def _trail_gaps(trail: Resource) -> list[str]:
    gaps = []
    if trail.attributes.get("IsMultiRegionTrail") is not True:
        gaps.append("single-region")
    if (need(trail, "Status") or {}).get("IsLogging") is not True:
        gaps.append("not logging")
    if not _logs_management_events(need(trail, "EventSelectors")):
        gaps.append("no read/write management events")
    return gaps


@check(
    id="aws.cloudtrail.multi_region_enabled",
    title="A multi-region CloudTrail trail records all management events",
    severity=Severity.HIGH,
    resource_type="aws.account",
    requires=("aws.cloudtrail.trail",),
    rationale=(
        "Without a trail that covers every region, API calls made in an unused region leave no "
        "durable record, which is exactly where an attacker would work. The trail must be logging "
        "and include both read and write management events."
    ),
    remediation=Remediation(
        console=(
            "1. Open the CloudTrail console and choose Trails > Create trail.\n"
            "2. Apply it to all regions (and the organization, if you manage one).\n"
            "3. Under Events select Management events with Read and Write.\n"
            "4. Create the trail and confirm its Logging status is On."
        ),
        cli=(
            "aws cloudtrail create-trail --name <trail-name> --s3-bucket-name <bucket-name> "
            "--is-multi-region-trail --enable-log-file-validation && "
            "aws cloudtrail start-logging --name <trail-name>"
        ),
        docs=CT_DOCS + "cloudtrail-create-and-update-a-trail.html",
    ),
    reads=(
        "cloudtrail:DescribeTrails: Name, IsMultiRegionTrail",
        "cloudtrail:GetTrailStatus: IsLogging",
        (
            "cloudtrail:GetEventSelectors: EventSelectors[].IncludeManagementEvents, ReadWriteType; "
            "AdvancedEventSelectors[].FieldSelectors (eventCategory, readOnly)"
        ),
    ),
    needs="cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus, cloudtrail:GetEventSelectors",
)
def multi_region_enabled(account: Resource, ctx: Context) -> Verdict:
    trails = [t for t in ctx.snapshot.of_type("aws.cloudtrail.trail") if t.account == account.account]
    notes: list[str] = []
    unreadable: list[str] = []
    for trail in trails:
        try:
            gaps = _trail_gaps(trail)
        except MissingInput as exc:
            unreadable.append(f"{_trail_name(trail)} ({exc})")
            continue
        if not gaps:
            return passed(f"trail {_trail_name(trail)} is multi-region, logging and records management events")
        notes.append(f"{_trail_name(trail)}: {', '.join(gaps)}")
    if unreadable:
        detail = "; ".join(unreadable)
        raise MissingInput(f"no qualifying trail found and some trails could not be read: {detail}")
    if not trails:
        return failed(f"account {account.account} has no CloudTrail trail")
    return failed("no multi-region trail logging management events; " + "; ".join(notes))


@check(
    id="aws.cloudtrail.log_file_validation",
    title="CloudTrail trails have log file integrity validation enabled",
    severity=Severity.MEDIUM,
    resource_type="aws.cloudtrail.trail",
    rationale=(
        "Validation makes CloudTrail write signed, chained digest files, so you can prove that log "
        "files were not changed or deleted after delivery. Audit evidence relies on that proof."
    ),
    remediation=Remediation(
        console=(
            "1. Open the CloudTrail console and choose Trails, then the trail.\n"
            "2. In General details choose Edit.\n"
            "3. Under Additional settings enable Log file validation and save."
        ),
        cli="aws cloudtrail update-trail --name <trail-name> --enable-log-file-validation",
        docs=CT_DOCS + "cloudtrail-log-file-validation-enabling.html",
    ),
    reads=("cloudtrail:DescribeTrails: LogFileValidationEnabled",),
    needs="cloudtrail:DescribeTrails",
)
def log_file_validation(trail: Resource, ctx: Context) -> Verdict:
    if need(trail, "LogFileValidationEnabled") is True:
        return passed(f"trail {_trail_name(trail)} has log file validation enabled")
    return failed(f"trail {_trail_name(trail)} does not validate its log files")


@check(
    id="aws.cloudtrail.kms_encryption",
    title="CloudTrail logs are encrypted with a customer managed KMS key",
    severity=Severity.MEDIUM,
    resource_type="aws.cloudtrail.trail",
    rationale=(
        "Encrypting trail logs with your own KMS key adds a second permission, kms:Decrypt, that a "
        "reader needs besides S3 access, and records every use of the key."
    ),
    remediation=Remediation(
        console=(
            "1. Open the CloudTrail console and choose Trails, then the trail.\n"
            "2. In General details choose Edit.\n"
            "3. Enable Log file SSE-KMS encryption, pick or create a key, and save."
        ),
        cli="aws cloudtrail update-trail --name <trail-name> --kms-key-id <kms-key-arn>",
        docs=CT_DOCS + "encrypting-cloudtrail-log-files-with-aws-kms.html",
    ),
    reads=("cloudtrail:DescribeTrails: KmsKeyId",),
    needs="cloudtrail:DescribeTrails",
)
def kms_encryption(trail: Resource, ctx: Context) -> Verdict:
    key = trail.attributes.get("KmsKeyId")
    if key:
        return passed(f"trail {_trail_name(trail)} encrypts logs with {key}")
    return failed(f"trail {_trail_name(trail)} does not use a KMS key for its logs")


@check(
    id="aws.cloudtrail.bucket_not_public",
    title="The S3 bucket that stores CloudTrail logs is not public",
    severity=Severity.CRITICAL,
    resource_type="aws.cloudtrail.trail",
    requires=("aws.s3.bucket", "aws.s3.account"),
    rationale=(
        "Trail logs describe the whole account: who did what, from where. A public log bucket hands "
        "that map to anyone and may let them delete the evidence."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the trail's bucket.\n"
            "2. On Permissions, turn on all four Block public access settings.\n"
            "3. Remove bucket policy statements and ACL grants for everyone or any authenticated user."
        ),
        cli=(
            "aws s3api put-public-access-block --bucket <bucket-name> --public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
        ),
        docs=CT_DOCS + "create-s3-bucket-policy-for-cloudtrail.html",
    ),
    reads=(
        "cloudtrail:DescribeTrails: S3BucketName",
        "s3:GetBucketPolicy: Policy.Statement[].Effect, Principal, NotPrincipal, Condition",
        "s3:GetBucketAcl: Grants[].Grantee.URI, Grants[].Permission",
        "s3:GetPublicAccessBlock (bucket): PublicAccessBlockConfiguration.RestrictPublicBuckets, IgnorePublicAcls",
        (
            "s3control:GetPublicAccessBlock (account): PublicAccessBlockConfiguration.RestrictPublicBuckets, "
            "IgnorePublicAcls"
        ),
    ),
    needs=(
        "cloudtrail:DescribeTrails, s3:ListAllMyBuckets, s3:GetBucketPolicy, s3:GetBucketAcl, "
        "s3:GetBucketPublicAccessBlock, s3:GetAccountPublicAccessBlock"
    ),
)
def bucket_not_public(trail: Resource, ctx: Context) -> Verdict:
    name = need(trail, "S3BucketName")
    bucket = ctx.snapshot.get(f"arn:aws:s3:::{name}")
    if bucket is None:
        raise MissingInput(
            f"bucket not in this snapshot: {name}, the log bucket of trail "
            f"{_trail_name(trail)} (another account, or not collected)"
        )
    exposures: list[str] = []
    policy_open = public_statements(need(bucket, "Policy"))
    if policy_open and not effective_pab(bucket, ctx.snapshot, "RestrictPublicBuckets"):
        exposures.append("bucket policy allows everyone")
    grants = public_acl_grants(need(bucket, "Acl"))
    if grants and not effective_pab(bucket, ctx.snapshot, "IgnorePublicAcls"):
        exposures.append("ACL grants " + ", ".join(grants))
    if exposures:
        return failed(f"trail {_trail_name(trail)} logs to public bucket {name}: " + "; ".join(exposures))
    return passed(f"trail {_trail_name(trail)} logs to bucket {name}, which is not public")


@check(
    id="aws.cloudtrail.cloudwatch_logs",
    title="CloudTrail trails deliver events to CloudWatch Logs",
    severity=Severity.LOW,
    resource_type="aws.cloudtrail.trail",
    rationale=(
        "Sending trail events to CloudWatch Logs allows metric filters and alarms on sensitive "
        "activity such as root sign-in or policy changes, in near real time."
    ),
    remediation=Remediation(
        console=(
            "1. Open the CloudTrail console and choose Trails, then the trail.\n"
            "2. Under CloudWatch Logs choose Edit and enable it.\n"
            "3. Choose a log group and an IAM role CloudTrail can assume, then save."
        ),
        cli=(
            "aws cloudtrail update-trail --name <trail-name> --cloud-watch-logs-log-group-arn "
            "<log-group-arn> --cloud-watch-logs-role-arn <role-arn>"
        ),
        docs=CT_DOCS + "send-cloudtrail-events-to-cloudwatch-logs.html",
    ),
    params={"max_delivery_age_hours": 24},
    reads=(
        "cloudtrail:DescribeTrails: CloudWatchLogsLogGroupArn",
        "cloudtrail:GetTrailStatus: LatestCloudWatchLogsDeliveryError, LatestCloudWatchLogsDeliveryTime",
    ),
    needs="cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus",
)
def cloudwatch_logs(trail: Resource, ctx: Context) -> Verdict:
    group = trail.attributes.get("CloudWatchLogsLogGroupArn")
    if not group:
        return failed(f"trail {_trail_name(trail)} is not integrated with CloudWatch Logs")
    # A configured log group proves nothing when CloudTrail cannot write to it (a broken role):
    # GetTrailStatus then reports a delivery error and the last delivery time stops moving.
    status = need(trail, "Status") or {}
    error = status.get("LatestCloudWatchLogsDeliveryError")
    if error:
        return failed(f"trail {_trail_name(trail)} fails to deliver to {group}: {error}")
    try:
        last = parse_time(status.get("LatestCloudWatchLogsDeliveryTime"))
    except ValueError as exc:
        raise MissingInput(f"trail {_trail_name(trail)} has an unreadable CloudWatch Logs delivery time") from exc
    hours = int(ctx.params.get("max_delivery_age_hours", 24))
    if last is not None and (ctx.now - last).total_seconds() > hours * 3600:
        return failed(
            f"trail {_trail_name(trail)} last delivered to {group} on {last.isoformat()}, more than {hours} hours ago"
        )
    return passed(f"trail {_trail_name(trail)} delivers to {group}")
