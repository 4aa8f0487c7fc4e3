"""S3 bucket/account checks and CloudTrail checks (which read the trail's bucket)."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from aws_check_fixtures import (
    ACCT,
    ERROR,
    FAIL,
    PASS,
    Case,
    assert_covered,
    case,
    check_case,
    listing_error,
    res,
)

import checks.aws.cloudtrail as ct
import checks.aws.s3 as s3

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
ALL_OFF = dict.fromkeys(ALL_ON, False)
OWNER_ONLY = {
    "Owner": {"ID": "abc"},
    "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}],
}
PUBLIC_ACL = {
    "Owner": {"ID": "abc"},
    "Grants": [
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}
    ],
}
PUBLIC_POLICY = {
    "Statement": [
        {
            "Sid": "Open",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        }
    ]
}
ORG_POLICY = {
    "Statement": [
        {
            "Sid": "Org",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}},
        }
    ]
}
NEGATED_POLICY = {
    "Statement": [
        {
            "Sid": "Neg",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}},
        }
    ]
}
TLS_POLICY = {
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
}

AUTH_ACL = {
    "Owner": {"ID": "abc"},
    "Grants": [
        {
            "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
            "Permission": "WRITE",
        }
    ],
}
LOG_TARGET_POLICY = {
    "Statement": [
        {
            "Sid": "S3ServerAccessLogsPolicy",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCT}},
        }
    ]
}


def allow_all(condition: dict[str, Any] | None = None, **stmt: Any) -> dict[str, Any]:
    """A one-statement bucket policy allowing s3:GetObject to everyone, narrowed by ``condition``."""
    body: dict[str, Any] = {
        "Sid": "Shared",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    } | stmt
    if condition is not None:
        body["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [body]}


def deny_http(resource: Any = ("arn:aws:s3:::b", "arn:aws:s3:::b/*"), **over: Any) -> dict[str, Any]:
    body = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": list(resource),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    } | over
    return {"Version": "2012-10-17", "Statement": [body]}


def bucket(name: str = "b", errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {
        "Name": name,
        "CreationDate": "2024-01-01T00:00:00Z",
        "PublicAccessBlock": ALL_OFF,
        "Encryption": None,
        "Versioning": {},
        "Policy": None,
        "Acl": OWNER_ONLY,
        "Logging": None,
    }
    attrs |= over
    for key in errors or {}:
        attrs.pop(key, None)
    return res("aws.s3.bucket", f"arn:aws:s3:::{name}", errors=errors, **attrs)


def s3acct(pab: Any = None, errors: dict[str, str] | None = None):
    attrs = {} if errors else {"PublicAccessBlock": pab}
    return res("aws.s3.account", f"arn:aws:s3::{ACCT}:account", region="global", errors=errors, **attrs)


def trail(name: str = "main", errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {
        "Name": name,
        "S3BucketName": "logs",
        "IsMultiRegionTrail": True,
        "LogFileValidationEnabled": True,
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
        "HomeRegion": "us-east-1",
        "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
        "Status": {"IsLogging": True},
        "EventSelectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]},
    }
    attrs |= over
    for key in errors or {}:
        attrs.pop(key, None)
    return res("aws.cloudtrail.trail", f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{name}", errors=errors, **attrs)


def acct():
    return res("aws.account", f"arn:aws:iam::{ACCT}:root", region="global", AccountSummary={})


ADV_MGMT = {
    "AdvancedEventSelectors": [{"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
}
ADV_READONLY = {
    "AdvancedEventSelectors": [
        {
            "Name": "m",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Management"]},
                {"Field": "readOnly", "Equals": ["false"]},
            ],
        }
    ]
}

CASES = [
    # account public access block
    case(s3.account_public_access_block, s3acct(ALL_ON), PASS, "blocks all", id="pass"),
    case(s3.account_public_access_block, s3acct(None), FAIL, "no S3 public access block", id="none"),
    case(
        s3.account_public_access_block,
        s3acct(ALL_ON | {"BlockPublicPolicy": False}),
        FAIL,
        "BlockPublicPolicy",
        id="partial",
    ),
    case(
        s3.account_public_access_block,
        s3acct(errors={"PublicAccessBlock": "AccessDenied"}),
        ERROR,
        "AccessDenied",
        id="error",
    ),
    # bucket public access block
    case(
        s3.bucket_public_access_block,
        [bucket(PublicAccessBlock=ALL_ON), s3acct(None)],
        PASS,
        "bucket level",
        id="bucket-level",
    ),
    case(
        s3.bucket_public_access_block,
        [bucket(PublicAccessBlock=None), s3acct(ALL_ON)],
        PASS,
        "account level",
        id="account-level",
    ),
    case(
        s3.bucket_public_access_block,
        [
            bucket(PublicAccessBlock={"BlockPublicAcls": True, "IgnorePublicAcls": True}),
            s3acct({"BlockPublicPolicy": True, "RestrictPublicBuckets": True}),
        ],
        PASS,
        "account/bucket",
        id="mixed",
    ),
    case(
        s3.bucket_public_access_block,
        [bucket(PublicAccessBlock=None), s3acct(None)],
        FAIL,
        "BlockPublicAcls, IgnorePublicAcls",
        id="fail",
    ),
    case(s3.bucket_public_access_block, [bucket(PublicAccessBlock=ALL_ON)], PASS, id="account-not-needed"),
    case(
        s3.bucket_public_access_block,
        [bucket(PublicAccessBlock=None)],
        ERROR,
        "not in this snapshot",
        id="no-account-settings",
    ),
    case(
        s3.bucket_public_access_block,
        [bucket(errors={"PublicAccessBlock": "AccessDenied"}), s3acct(ALL_ON)],
        ERROR,
        "AccessDenied",
        id="error",
    ),
    # encryption
    case(
        s3.bucket_default_encryption,
        bucket(Encryption={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}),
        PASS,
        "aws:kms",
        id="pass",
    ),
    case(s3.bucket_default_encryption, bucket(Encryption=None), FAIL, "no default encryption", id="fail"),
    case(s3.bucket_default_encryption, bucket(errors={"Encryption": "AccessDenied"}), ERROR, id="error"),
    # versioning
    case(s3.bucket_versioning, bucket(Versioning={"Status": "Enabled"}), PASS, id="pass"),
    case(s3.bucket_versioning, bucket(Versioning={"Status": "Suspended"}), FAIL, "suspended", id="suspended"),
    case(s3.bucket_versioning, bucket(Versioning={}), FAIL, "never enabled", id="never"),
    case(s3.bucket_versioning, bucket(errors={"Versioning": "AccessDenied"}), ERROR, id="error"),
    # TLS only
    case(s3.bucket_tls_only, bucket(Policy=TLS_POLICY), PASS, "denies requests without TLS", id="pass"),
    case(
        s3.bucket_tls_only,
        bucket(
            Policy={
                "Statement": [
                    TLS_POLICY["Statement"][0]
                    | {"Condition": {"Bool": {"aws:SecureTransport": ["false"]}}, "Principal": {"AWS": ["*"]}}
                ]
            }
        ),
        PASS,
        id="list-forms",
    ),
    case(s3.bucket_tls_only, bucket(Policy=None), FAIL, "no bucket policy", id="no-policy"),
    case(s3.bucket_tls_only, bucket(Policy=ORG_POLICY), FAIL, "does not deny", id="fail"),
    case(s3.bucket_tls_only, bucket(errors={"Policy": "AccessDenied"}), ERROR, id="error"),
    # access logging
    case(
        s3.bucket_access_logging,
        bucket(Logging={"TargetBucket": "logs", "TargetPrefix": "b/"}),
        PASS,
        "logs access to bucket logs",
        id="pass",
    ),
    case(s3.bucket_access_logging, bucket(Logging=None), FAIL, "logging off", id="fail"),
    case(s3.bucket_access_logging, bucket(errors={"Logging": "AccessDenied"}), ERROR, id="error"),
    # public policy
    case(s3.bucket_no_public_policy, [bucket(Policy=None), s3acct(None)], PASS, "grants nothing", id="none"),
    case(s3.bucket_no_public_policy, [bucket(Policy=ORG_POLICY), s3acct(None)], PASS, id="org-condition"),
    case(s3.bucket_no_public_policy, [bucket(Policy=PUBLIC_POLICY), s3acct(None)], FAIL, "(Open)", id="public"),
    case(
        s3.bucket_no_public_policy, [bucket(Policy=NEGATED_POLICY), s3acct(None)], FAIL, "Neg", id="negated-condition"
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=PUBLIC_POLICY), s3acct({"RestrictPublicBuckets": True})],
        PASS,
        "RestrictPublicBuckets is on at account level",
        id="neutralised-account",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=PUBLIC_POLICY, PublicAccessBlock={"RestrictPublicBuckets": True})],
        PASS,
        "at bucket level",
        id="neutralised-bucket",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=PUBLIC_POLICY, PublicAccessBlock={"BlockPublicPolicy": True}), s3acct(None)],
        FAIL,
        id="block-public-policy-does-not-neutralise-existing",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=PUBLIC_POLICY, PublicAccessBlock={"BlockPublicPolicy": True}), s3acct(None)],
        PASS,
        "BlockPublicPolicy",
        params={"neutralising_flags": ["RestrictPublicBuckets", "BlockPublicPolicy"]},
        id="param-flags",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=PUBLIC_POLICY), s3acct(errors={"PublicAccessBlock": "x"})],
        ERROR,
        "PublicAccessBlock",
        id="account-pab-error",
    ),
    case(s3.bucket_no_public_policy, [bucket(errors={"Policy": "AccessDenied"}), s3acct(None)], ERROR, id="error"),
    # public ACL
    case(s3.bucket_no_public_acl, [bucket(), s3acct(None)], PASS, "no public grants", id="pass"),
    case(s3.bucket_no_public_acl, [bucket(Acl=PUBLIC_ACL), s3acct(None)], FAIL, "AllUsers:READ", id="fail"),
    case(
        s3.bucket_no_public_acl,
        [bucket(Acl=PUBLIC_ACL), s3acct({"IgnorePublicAcls": True})],
        PASS,
        "IgnorePublicAcls",
        id="neutralised",
    ),
    case(s3.bucket_no_public_acl, [bucket(errors={"Acl": "AccessDenied"}), s3acct(None)], ERROR, id="error"),
    # CloudTrail multi-region
    case(ct.multi_region_enabled, [acct(), trail()], PASS, "trail main is multi-region", id="pass"),
    case(ct.multi_region_enabled, [acct(), trail(EventSelectors=ADV_MGMT)], PASS, id="advanced-selectors"),
    case(
        ct.multi_region_enabled,
        [acct(), trail(EventSelectors=ADV_READONLY)],
        FAIL,
        "management events",
        id="advanced-write-only",
    ),
    case(ct.multi_region_enabled, [acct()], FAIL, "no CloudTrail trail", id="no-trail"),
    case(
        ct.multi_region_enabled,
        [acct(), trail(IsMultiRegionTrail=False), trail("b", Status={"IsLogging": False})],
        FAIL,
        "main: single-region",
        id="none-qualifies",
    ),
    case(
        ct.multi_region_enabled,
        [
            acct(),
            trail(EventSelectors={"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}),
        ],
        FAIL,
        "no read/write management events",
        id="write-only",
    ),
    case(
        ct.multi_region_enabled,
        [acct(), trail(errors={"Status": "AccessDenied"})],
        ERROR,
        "could not be read",
        id="status-error",
    ),
    case(
        ct.multi_region_enabled,
        [acct(), trail(errors={"Status": "AccessDenied"}), trail("ok")],
        PASS,
        id="other-trail-qualifies",
    ),
    case(
        ct.multi_region_enabled,
        [acct()],
        ERROR,
        "input missing",
        errors=[listing_error("aws.cloudtrail.trail")],
        id="requires-error",
    ),
    # validation / kms / cloudwatch
    case(ct.log_file_validation, trail(), PASS, id="pass"),
    case(ct.log_file_validation, trail(LogFileValidationEnabled=False), FAIL, "does not validate", id="fail"),
    case(ct.log_file_validation, trail(errors={"LogFileValidationEnabled": "?"}), ERROR, id="error"),
    case(ct.kms_encryption, trail(), PASS, id="pass"),
    case(ct.kms_encryption, trail(KmsKeyId=None), FAIL, "does not use a KMS key", id="fail"),
    case(ct.kms_encryption, [], ERROR, "could not list", errors=[listing_error("aws.cloudtrail.trail")], id="error"),
    case(ct.cloudwatch_logs, trail(), PASS, "delivers to", id="pass"),
    case(ct.cloudwatch_logs, trail(CloudWatchLogsLogGroupArn=None), FAIL, id="fail"),
    case(ct.cloudwatch_logs, [], ERROR, errors=[listing_error("aws.cloudtrail.trail")], id="error"),
    # trail bucket not public
    case(ct.bucket_not_public, [trail(), bucket("logs"), s3acct(None)], PASS, "not public", id="pass"),
    case(
        ct.bucket_not_public,
        [trail(), bucket("logs", Policy=PUBLIC_POLICY), s3acct(None)],
        FAIL,
        "policy allows everyone",
        id="policy",
    ),
    case(ct.bucket_not_public, [trail(), bucket("logs", Acl=PUBLIC_ACL), s3acct(None)], FAIL, "ACL grants", id="acl"),
    case(
        ct.bucket_not_public,
        [trail(), bucket("logs", Acl=PUBLIC_ACL, Policy=PUBLIC_POLICY), s3acct(ALL_ON)],
        PASS,
        id="neutralised",
    ),
    case(ct.bucket_not_public, [trail()], ERROR, "bucket not in this snapshot: logs", id="other-account"),
    case(
        ct.bucket_not_public,
        [trail(), bucket("logs", errors={"Acl": "AccessDenied"}), s3acct(None)],
        ERROR,
        "Acl",
        id="error",
    ),
    case(
        ct.bucket_not_public,
        [trail(), bucket("logs"), s3acct(None)],
        ERROR,
        "input missing",
        errors=[listing_error("aws.s3.bucket", "global")],
        id="requires-error",
    ),
    # -- looks fine but is not ----------------------------------------------------------------------
    case(
        s3.account_public_access_block,
        s3acct({"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True}),
        FAIL,
        "RestrictPublicBuckets",
        id="flag-absent",
        looks_fine="every flag present is true, so 'all values true' holds, but RestrictPublicBuckets is absent, "
        "which means off",
    ),
    case(
        s3.bucket_public_access_block,
        [
            bucket(
                PublicAccessBlock={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": False,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": False,
                }
            ),
            s3acct(None),
        ],
        FAIL,
        "IgnorePublicAcls, RestrictPublicBuckets",
        id="block-flags-only",
        looks_fine="both Block settings are on, but they only refuse new public ACLs and policies; the two that "
        "disarm existing ones are off",
    ),
    case(
        s3.bucket_default_encryption,
        bucket(Encryption={"Rules": [{"BucketKeyEnabled": True}]}),
        FAIL,
        "no default encryption",
        id="rule-without-default",
        looks_fine="an encryption configuration with a rule exists (BucketKeyEnabled true), but the rule has no "
        "ApplyServerSideEncryptionByDefault",
    ),
    case(
        s3.bucket_versioning,
        bucket(Versioning={"Status": "Suspended", "MFADelete": "Disabled"}),
        FAIL,
        "suspended",
        id="suspended-with-status",
        looks_fine="GetBucketVersioning answers with a Status, so versioning was set up, but Suspended keeps no new "
        "versions",
    ),
    case(
        s3.bucket_tls_only,
        bucket(Policy=allow_all({"Bool": {"aws:SecureTransport": "true"}}, Principal="*")),
        FAIL,
        "does not deny",
        id="allow-secure-transport-true",
        looks_fine="the policy names aws:SecureTransport, but in an Allow with true: other grants still let plain "
        "HTTP in; only a Deny on false blocks it",
    ),
    case(
        s3.bucket_tls_only,
        bucket(Policy=deny_http(resource=["arn:aws:s3:::b"])),
        FAIL,
        "all its objects",
        id="defect-deny-bucket-arn-only",
        looks_fine="the Deny on aws:SecureTransport false is there, but its Resource is the bucket ARN alone, so "
        "GetObject and PutObject over HTTP are not denied",
    ),
    case(
        s3.bucket_tls_only,
        bucket(Policy=deny_http(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})),
        FAIL,
        "does not deny",
        id="tls-version-only",
        looks_fine="old TLS versions are denied, but a plain HTTP request has no s3:TlsVersion, so the condition "
        "never matches it",
    ),
    case(
        s3.bucket_tls_only,
        bucket(
            Policy=deny_http(resource=["arn:aws:s3:::b*"], Condition={"BoolIfExists": {"aws:SecureTransport": "false"}})
        ),
        PASS,
        "denies requests without TLS",
        id="bool-if-exists-wildcard-resource",
    ),
    case(
        s3.bucket_access_logging,
        bucket(Logging=None, Policy=LOG_TARGET_POLICY),
        FAIL,
        "logging off",
        id="is-a-log-target",
        looks_fine="the policy lets logging.s3.amazonaws.com write, which is how an access-logging setup looks, but "
        "that makes it a log target; its own LoggingEnabled is absent",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=allow_all({"StringLike": {"aws:SourceAccount": "*"}})), s3acct(None)],
        FAIL,
        "Shared",
        id="source-account-wildcard",
        looks_fine="Principal {AWS: *} comes with an aws:SourceAccount condition, but its value is the wildcard *",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=allow_all({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}})), s3acct(None)],
        FAIL,
        "Shared",
        id="defect-source-arn-any-account",
        looks_fine="aws:SourceArn names CloudTrail trails, like the documented log-bucket policy, but the account "
        "field is *, so any account's trail matches",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=allow_all({"StringLike": {"aws:PrincipalOrgID": "o-*"}})), s3acct(None)],
        FAIL,
        "Shared",
        id="defect-org-id-wildcard",
        looks_fine="aws:PrincipalOrgID looks like the organization guard, but o-* matches every organization",
    ),
    case(
        s3.bucket_no_public_policy,
        [bucket(Policy=allow_all({"ForAllValues:StringEquals": {"aws:SourceAccount": [ACCT]}})), s3acct(None)],
        FAIL,
        "Shared",
        id="defect-for-all-values",
        looks_fine="aws:SourceAccount is pinned to our account, but under ForAllValues, which is true when the "
        "request carries no aws:SourceAccount at all (any direct request)",
    ),
    case(
        s3.bucket_no_public_policy,
        [
            bucket(
                Policy={
                    "Statement": [
                        {
                            "Sid": "AllButPartner",
                            "Effect": "Allow",
                            "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::b/*",
                        }
                    ]
                }
            ),
            s3acct(None),
        ],
        FAIL,
        "AllButPartner",
        id="defect-allow-not-principal",
        looks_fine="no statement has Principal *, but Allow with NotPrincipal grants every principal except the "
        "one named",
    ),
    case(
        s3.bucket_no_public_policy,
        [
            bucket(Policy=allow_all({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{ACCT}:trail/*"}})),
            s3acct(None),
        ],
        PASS,
        "grants nothing",
        id="source-arn-own-account",
    ),
    case(
        s3.bucket_no_public_policy,
        [
            bucket(Policy=allow_all({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3/r-ab12/*"]}})),
            s3acct(None),
        ],
        PASS,
        id="org-path",
    ),
    case(
        s3.bucket_no_public_acl,
        [bucket(Acl=AUTH_ACL, PublicAccessBlock={"BlockPublicAcls": True}), s3acct(None)],
        FAIL,
        "AuthenticatedUsers:WRITE",
        id="authenticated-users",
        looks_fine="the grantee is 'authenticated users' and BlockPublicAcls is on, but that group is every AWS "
        "account and BlockPublicAcls only refuses new ACLs",
    ),
    case(
        ct.multi_region_enabled,
        [acct(), trail(Status={"IsLogging": False, "StopLoggingTime": "2025-05-01T00:00:00Z"})],
        FAIL,
        "not logging",
        id="multi-region-stopped",
        looks_fine="the trail is multi-region with validation, KMS and management events, but IsLogging is false",
    ),
    case(
        ct.multi_region_enabled,
        [
            acct(),
            trail(
                EventSelectors={
                    "EventSelectors": [
                        {
                            "ReadWriteType": "All",
                            "IncludeManagementEvents": False,
                            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
                        }
                    ]
                }
            ),
        ],
        FAIL,
        "no read/write management events",
        id="data-events-only",
        looks_fine="the selector records ReadWriteType All for every S3 object, but IncludeManagementEvents is false",
    ),
    case(
        ct.log_file_validation,
        trail(IsOrganizationTrail=True, LogFileValidationEnabled=False),
        FAIL,
        "does not validate",
        id="org-trail-unvalidated",
        looks_fine="an organization trail with KMS and CloudWatch Logs looks fully governed, but no digest files "
        "prove its logs unchanged",
    ),
    case(
        ct.kms_encryption,
        [
            trail(KmsKeyId=None),
            bucket("logs", Encryption={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
        ],
        FAIL,
        "does not use a KMS key",
        id="bucket-sse-s3",
        looks_fine="the log bucket encrypts every object (SSE-S3, as all buckets do since 2023), but not with a KMS "
        "key of the trail",
    ),
    case(
        ct.bucket_not_public,
        [
            trail(),
            bucket(
                "logs",
                Policy=allow_all(
                    {"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}}, Resource="arn:aws:s3:::logs/*"
                ),
            ),
            s3acct(None),
        ],
        FAIL,
        "policy allows everyone",
        id="defect-source-arn-any-account",
        looks_fine="the statement carries an aws:SourceArn condition like the documented CloudTrail bucket policy, "
        "but any account's trail matches it",
    ),
    case(
        ct.cloudwatch_logs,
        trail(
            Status={
                "IsLogging": True,
                "LatestCloudWatchLogsDeliveryTime": "2025-05-02T00:00:00Z",
                "LatestCloudWatchLogsDeliveryError": "AccessDeniedException: not authorized to CreateLogStream",
            }
        ),
        FAIL,
        "fails to deliver",
        id="defect-delivery-error",
        looks_fine="CloudWatchLogsLogGroupArn is set, but CloudTrail cannot write to the group: GetTrailStatus "
        "reports a delivery error",
    ),
    case(
        ct.cloudwatch_logs,
        trail(Status={"IsLogging": True, "LatestCloudWatchLogsDeliveryTime": "2025-05-02T00:00:00Z"}),
        FAIL,
        "more than 24 hours ago",
        id="defect-delivery-stale",
        looks_fine="the log group is configured and no error is shown, but nothing was delivered for a month",
    ),
    case(
        ct.cloudwatch_logs,
        trail(Status={"IsLogging": True, "LatestCloudWatchLogsDeliveryTime": "2025-06-01T11:55:00Z"}),
        PASS,
        "delivers to",
        id="recent-delivery",
    ),
    case(ct.cloudwatch_logs, trail(errors={"Status": "AccessDenied"}), ERROR, "Status", id="status-error"),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    assert_covered(CASES, s3)
    assert_covered(CASES, ct)
