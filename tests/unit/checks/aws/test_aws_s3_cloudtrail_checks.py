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

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}
ALL_OFF = dict.fromkeys(ALL_ON, False)
OWNER_ONLY = {"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"},
                                                  "Permission": "FULL_CONTROL"}]}
PUBLIC_ACL = {"Owner": {"ID": "abc"}, "Grants": [
    {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}
PUBLIC_POLICY = {"Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"},
                                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
ORG_POLICY = {"Statement": [{"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::b/*",
                             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}}]}
NEGATED_POLICY = {"Statement": [{"Sid": "Neg", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                 "Resource": "*",
                                 "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}}}]}
TLS_POLICY = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                             "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def bucket(name: str = "b", errors: dict[str, str] | None = None, **over: Any):
    attrs: dict[str, Any] = {
        "Name": name, "CreationDate": "2024-01-01T00:00:00Z", "PublicAccessBlock": ALL_OFF,
        "Encryption": None, "Versioning": {}, "Policy": None, "Acl": OWNER_ONLY, "Logging": None,
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
        "Name": name, "S3BucketName": "logs", "IsMultiRegionTrail": True, "LogFileValidationEnabled": True,
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k", "HomeRegion": "us-east-1",
        "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:ct:*",
        "Status": {"IsLogging": True},
        "EventSelectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]},
    }
    attrs |= over
    for key in errors or {}:
        attrs.pop(key, None)
    return res("aws.cloudtrail.trail", f"arn:aws:cloudtrail:us-east-1:{ACCT}:trail/{name}", errors=errors,
               **attrs)


def acct():
    return res("aws.account", f"arn:aws:iam::{ACCT}:root", region="global", AccountSummary={})


ADV_MGMT = {"AdvancedEventSelectors": [{"Name": "m", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Management"]}]}]}
ADV_READONLY = {"AdvancedEventSelectors": [{"Name": "m", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]}]}

CASES = [
    # account public access block
    case(s3.account_public_access_block, s3acct(ALL_ON), PASS, "blocks all", id="pass"),
    case(s3.account_public_access_block, s3acct(None), FAIL, "no S3 public access block", id="none"),
    case(s3.account_public_access_block, s3acct(ALL_ON | {"BlockPublicPolicy": False}), FAIL,
         "BlockPublicPolicy", id="partial"),
    case(s3.account_public_access_block, s3acct(errors={"PublicAccessBlock": "AccessDenied"}), ERROR,
         "AccessDenied", id="error"),
    # bucket public access block
    case(s3.bucket_public_access_block, [bucket(PublicAccessBlock=ALL_ON), s3acct(None)], PASS, "bucket level",
         id="bucket-level"),
    case(s3.bucket_public_access_block, [bucket(PublicAccessBlock=None), s3acct(ALL_ON)], PASS, "account level",
         id="account-level"),
    case(s3.bucket_public_access_block,
         [bucket(PublicAccessBlock={"BlockPublicAcls": True, "IgnorePublicAcls": True}),
          s3acct({"BlockPublicPolicy": True, "RestrictPublicBuckets": True})], PASS, "account/bucket", id="mixed"),
    case(s3.bucket_public_access_block, [bucket(PublicAccessBlock=None), s3acct(None)], FAIL,
         "BlockPublicAcls, IgnorePublicAcls", id="fail"),
    case(s3.bucket_public_access_block, [bucket(PublicAccessBlock=ALL_ON)], PASS,
         id="account-not-needed"),
    case(s3.bucket_public_access_block, [bucket(PublicAccessBlock=None)], ERROR, "not in this snapshot",
         id="no-account-settings"),
    case(s3.bucket_public_access_block, [bucket(errors={"PublicAccessBlock": "AccessDenied"}), s3acct(ALL_ON)],
         ERROR, "AccessDenied", id="error"),
    # encryption
    case(s3.bucket_default_encryption, bucket(Encryption={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}), PASS, "aws:kms", id="pass"),
    case(s3.bucket_default_encryption, bucket(Encryption=None), FAIL, "no default encryption", id="fail"),
    case(s3.bucket_default_encryption, bucket(errors={"Encryption": "AccessDenied"}), ERROR, id="error"),
    # versioning
    case(s3.bucket_versioning, bucket(Versioning={"Status": "Enabled"}), PASS, id="pass"),
    case(s3.bucket_versioning, bucket(Versioning={"Status": "Suspended"}), FAIL, "suspended", id="suspended"),
    case(s3.bucket_versioning, bucket(Versioning={}), FAIL, "never enabled", id="never"),
    case(s3.bucket_versioning, bucket(errors={"Versioning": "AccessDenied"}), ERROR, id="error"),
    # TLS only
    case(s3.bucket_tls_only, bucket(Policy=TLS_POLICY), PASS, "denies requests without TLS", id="pass"),
    case(s3.bucket_tls_only, bucket(Policy={"Statement": [TLS_POLICY["Statement"][0] | {
        "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}, "Principal": {"AWS": ["*"]}}]}), PASS,
        id="list-forms"),
    case(s3.bucket_tls_only, bucket(Policy=None), FAIL, "no bucket policy", id="no-policy"),
    case(s3.bucket_tls_only, bucket(Policy=ORG_POLICY), FAIL, "does not deny", id="fail"),
    case(s3.bucket_tls_only, bucket(errors={"Policy": "AccessDenied"}), ERROR, id="error"),
    # access logging
    case(s3.bucket_access_logging, bucket(Logging={"TargetBucket": "logs", "TargetPrefix": "b/"}), PASS,
         "logs access to bucket logs", id="pass"),
    case(s3.bucket_access_logging, bucket(Logging=None), FAIL, "logging off", id="fail"),
    case(s3.bucket_access_logging, bucket(errors={"Logging": "AccessDenied"}), ERROR, id="error"),
    # public policy
    case(s3.bucket_no_public_policy, [bucket(Policy=None), s3acct(None)], PASS, "grants nothing", id="none"),
    case(s3.bucket_no_public_policy, [bucket(Policy=ORG_POLICY), s3acct(None)], PASS, id="org-condition"),
    case(s3.bucket_no_public_policy, [bucket(Policy=PUBLIC_POLICY), s3acct(None)], FAIL, "(Open)", id="public"),
    case(s3.bucket_no_public_policy, [bucket(Policy=NEGATED_POLICY), s3acct(None)], FAIL, "Neg",
         id="negated-condition"),
    case(s3.bucket_no_public_policy, [bucket(Policy=PUBLIC_POLICY), s3acct({"RestrictPublicBuckets": True})],
         PASS, "RestrictPublicBuckets is on at account level", id="neutralised-account"),
    case(s3.bucket_no_public_policy,
         [bucket(Policy=PUBLIC_POLICY, PublicAccessBlock={"RestrictPublicBuckets": True})], PASS,
         "at bucket level", id="neutralised-bucket"),
    case(s3.bucket_no_public_policy,
         [bucket(Policy=PUBLIC_POLICY, PublicAccessBlock={"BlockPublicPolicy": True}), s3acct(None)], FAIL,
         id="block-public-policy-does-not-neutralise-existing"),
    case(s3.bucket_no_public_policy,
         [bucket(Policy=PUBLIC_POLICY, PublicAccessBlock={"BlockPublicPolicy": True}), s3acct(None)], PASS,
         "BlockPublicPolicy", params={"neutralising_flags": ["RestrictPublicBuckets", "BlockPublicPolicy"]},
         id="param-flags"),
    case(s3.bucket_no_public_policy, [bucket(Policy=PUBLIC_POLICY), s3acct(errors={"PublicAccessBlock": "x"})],
         ERROR, "PublicAccessBlock", id="account-pab-error"),
    case(s3.bucket_no_public_policy, [bucket(errors={"Policy": "AccessDenied"}), s3acct(None)], ERROR,
         id="error"),
    # public ACL
    case(s3.bucket_no_public_acl, [bucket(), s3acct(None)], PASS, "no public grants", id="pass"),
    case(s3.bucket_no_public_acl, [bucket(Acl=PUBLIC_ACL), s3acct(None)], FAIL, "AllUsers:READ", id="fail"),
    case(s3.bucket_no_public_acl, [bucket(Acl=PUBLIC_ACL), s3acct({"IgnorePublicAcls": True})], PASS,
         "IgnorePublicAcls", id="neutralised"),
    case(s3.bucket_no_public_acl, [bucket(errors={"Acl": "AccessDenied"}), s3acct(None)], ERROR, id="error"),
    # CloudTrail multi-region
    case(ct.multi_region_enabled, [acct(), trail()], PASS, "trail main is multi-region", id="pass"),
    case(ct.multi_region_enabled, [acct(), trail(EventSelectors=ADV_MGMT)], PASS, id="advanced-selectors"),
    case(ct.multi_region_enabled, [acct(), trail(EventSelectors=ADV_READONLY)], FAIL, "management events",
         id="advanced-write-only"),
    case(ct.multi_region_enabled, [acct()], FAIL, "no CloudTrail trail", id="no-trail"),
    case(ct.multi_region_enabled, [acct(), trail(IsMultiRegionTrail=False), trail("b", Status={"IsLogging": False})],
         FAIL, "main: single-region", id="none-qualifies"),
    case(ct.multi_region_enabled,
         [acct(), trail(EventSelectors={"EventSelectors": [{"ReadWriteType": "WriteOnly",
                                                            "IncludeManagementEvents": True}]})],
         FAIL, "no read/write management events", id="write-only"),
    case(ct.multi_region_enabled, [acct(), trail(errors={"Status": "AccessDenied"})], ERROR, "could not be read",
         id="status-error"),
    case(ct.multi_region_enabled, [acct(), trail(errors={"Status": "AccessDenied"}), trail("ok")], PASS,
         id="other-trail-qualifies"),
    case(ct.multi_region_enabled, [acct()], ERROR, "input missing",
         errors=[listing_error("aws.cloudtrail.trail")], id="requires-error"),
    # validation / kms / cloudwatch
    case(ct.log_file_validation, trail(), PASS, id="pass"),
    case(ct.log_file_validation, trail(LogFileValidationEnabled=False), FAIL, "does not validate", id="fail"),
    case(ct.log_file_validation, trail(errors={"LogFileValidationEnabled": "?"}), ERROR, id="error"),
    case(ct.kms_encryption, trail(), PASS, id="pass"),
    case(ct.kms_encryption, trail(KmsKeyId=None), FAIL, "does not use a KMS key", id="fail"),
    case(ct.kms_encryption, [], ERROR, "could not list", errors=[listing_error("aws.cloudtrail.trail")],
         id="error"),
    case(ct.cloudwatch_logs, trail(), PASS, "delivers to", id="pass"),
    case(ct.cloudwatch_logs, trail(CloudWatchLogsLogGroupArn=None), FAIL, id="fail"),
    case(ct.cloudwatch_logs, [], ERROR, errors=[listing_error("aws.cloudtrail.trail")], id="error"),
    # trail bucket not public
    case(ct.bucket_not_public, [trail(), bucket("logs"), s3acct(None)], PASS, "not public", id="pass"),
    case(ct.bucket_not_public, [trail(), bucket("logs", Policy=PUBLIC_POLICY), s3acct(None)], FAIL,
         "policy allows everyone", id="policy"),
    case(ct.bucket_not_public, [trail(), bucket("logs", Acl=PUBLIC_ACL), s3acct(None)], FAIL, "ACL grants",
         id="acl"),
    case(ct.bucket_not_public, [trail(), bucket("logs", Acl=PUBLIC_ACL, Policy=PUBLIC_POLICY), s3acct(ALL_ON)],
         PASS, id="neutralised"),
    case(ct.bucket_not_public, [trail()], ERROR, "bucket not in this snapshot: logs", id="other-account"),
    case(ct.bucket_not_public, [trail(), bucket("logs", errors={"Acl": "AccessDenied"}), s3acct(None)], ERROR,
         "Acl", id="error"),
    case(ct.bucket_not_public, [trail(), bucket("logs"), s3acct(None)], ERROR, "input missing",
         errors=[listing_error("aws.s3.bucket", "global")], id="requires-error"),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    assert_covered(CASES, s3)
    assert_covered(CASES, ct)
