"""S3: public access, encryption, versioning, transport security and access logging."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from agent.models import Resource
from checks.aws._util import (
    PAB_FLAGS,
    as_list,
    effective_pab,
    public_acl_grants,
    public_statements,
    statements,
)
from checks.base import (
    Context,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    passed,
)

S3_DOCS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
PAB_CLI = "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"


def _bucket(b: Resource) -> str:
    return str(b.attributes.get("Name") or b.name or b.id.rsplit(":", 1)[-1])


@check(
    id="aws.s3.account_public_access_block",
    title="S3 Block Public Access is on for the whole account",
    severity=Severity.HIGH,
    resource_type="aws.s3.account",
    rationale=(
        "The account-level public access block overrides every bucket's policy and ACLs, so one "
        "mistaken bucket setting cannot expose data. It is the simplest guard against public buckets."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose Block Public Access settings for this account.\n"
            "2. Choose Edit and select Block all public access.\n"
            "3. Save and confirm."
        ),
        cli=(
            "aws s3control put-public-access-block --account-id <account-id> "
            f"--public-access-block-configuration {PAB_CLI}"
        ),
        docs=S3_DOCS + "configuring-block-public-access-account.html",
    ),
    reads=(
        (
            "s3control:GetPublicAccessBlock: PublicAccessBlockConfiguration.BlockPublicAcls, IgnorePublicAcls, "
            "BlockPublicPolicy, RestrictPublicBuckets (NoSuchPublicAccessBlockConfiguration = none)"
        ),
    ),
    needs="s3:GetAccountPublicAccessBlock",
)
def account_public_access_block(account: Resource, ctx: Context) -> Verdict:
    config = need(account, "PublicAccessBlock")
    if config is None:
        return failed(f"account {account.account} has no S3 public access block")
    off = [f for f in PAB_FLAGS if config.get(f) is not True]
    if off:
        return failed(f"account {account.account} public access block leaves off: {', '.join(off)}")
    return passed(f"account {account.account} blocks all public S3 access")


@check(
    id="aws.s3.bucket_public_access_block",
    title="S3 buckets have all Block Public Access settings on (bucket or account level)",
    severity=Severity.HIGH,
    resource_type="aws.s3.bucket",
    requires=("aws.s3.account",),
    rationale=(
        "With all four public access block settings in force, neither a bucket policy nor an ACL "
        "can make the bucket's objects public by accident."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket.\n"
            "2. On Permissions, under Block public access, choose Edit.\n"
            "3. Select Block all public access and save (or enable it for the whole account)."
        ),
        cli=f"aws s3api put-public-access-block --bucket <bucket-name> --public-access-block-configuration {PAB_CLI}",
        docs=S3_DOCS + "configuring-block-public-access-bucket.html",
    ),
    reads=(
        (
            "s3:GetPublicAccessBlock (bucket): PublicAccessBlockConfiguration.BlockPublicAcls, IgnorePublicAcls, "
            "BlockPublicPolicy, RestrictPublicBuckets"
        ),
        (
            "s3control:GetPublicAccessBlock (account): PublicAccessBlockConfiguration.BlockPublicAcls, "
            "IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets"
        ),
    ),
    needs="s3:ListAllMyBuckets, s3:GetBucketPublicAccessBlock, s3:GetAccountPublicAccessBlock",
)
def bucket_public_access_block(bucket: Resource, ctx: Context) -> Verdict:
    where = {flag: effective_pab(bucket, ctx.snapshot, flag) for flag in PAB_FLAGS}
    off = [flag for flag, level in where.items() if level is None]
    if off:
        return failed(f"bucket {_bucket(bucket)} has public access block off for: {', '.join(off)}")
    levels = sorted(set(filter(None, where.values())))
    return passed(f"bucket {_bucket(bucket)} has all public access block settings on ({'/'.join(levels)} level)")


@check(
    id="aws.s3.bucket_default_encryption",
    title="S3 buckets have default encryption configured",
    severity=Severity.MEDIUM,
    resource_type="aws.s3.bucket",
    rationale=(
        "Default encryption makes sure every object written to the bucket is encrypted at rest, "
        "whatever the client sends. It is a baseline expectation for data at rest."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket.\n"
            "2. On Properties, under Default encryption, choose Edit.\n"
            "3. Choose SSE-KMS (or SSE-S3) and save."
        ),
        cli=(
            "aws s3api put-bucket-encryption --bucket <bucket-name> --server-side-encryption-configuration "
            '\'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms",'
            '"KMSMasterKeyID":"<kms-key-arn>"},"BucketKeyEnabled":true}]}\''
        ),
        docs=S3_DOCS + "default-bucket-encryption.html",
    ),
    reads=(
        (
            "s3:GetBucketEncryption: "
            "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm"
        ),
    ),
    needs="s3:ListAllMyBuckets, s3:GetEncryptionConfiguration",
)
def bucket_default_encryption(bucket: Resource, ctx: Context) -> Verdict:
    config = need(bucket, "Encryption")
    rules = (config or {}).get("Rules") or []
    algos = [
        str((r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm"))
        for r in rules
        if r.get("ApplyServerSideEncryptionByDefault")
    ]
    if algos:
        return passed(f"bucket {_bucket(bucket)} encrypts new objects by default with {', '.join(algos)}")
    return failed(f"bucket {_bucket(bucket)} has no default encryption")


@check(
    id="aws.s3.bucket_versioning",
    title="S3 buckets have versioning enabled",
    severity=Severity.LOW,
    resource_type="aws.s3.bucket",
    rationale=(
        "Versioning keeps earlier versions of overwritten or deleted objects, so accidental deletes "
        "and ransomware-style overwrites can be recovered."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket.\n"
            "2. On Properties, under Bucket Versioning, choose Edit.\n"
            "3. Select Enable and save."
        ),
        cli="aws s3api put-bucket-versioning --bucket <bucket-name> --versioning-configuration Status=Enabled",
        docs=S3_DOCS + "manage-versioning-examples.html",
    ),
    reads=("s3:GetBucketVersioning: Status",),
    needs="s3:ListAllMyBuckets, s3:GetBucketVersioning",
)
def bucket_versioning(bucket: Resource, ctx: Context) -> Verdict:
    status = (need(bucket, "Versioning") or {}).get("Status")
    if status == "Enabled":
        return passed(f"bucket {_bucket(bucket)} has versioning enabled")
    state = "suspended" if status == "Suspended" else "never enabled"
    return failed(f"bucket {_bucket(bucket)} versioning is {state}")


def _covers(stmt: Mapping[str, Any], arn: str) -> bool:
    # IAM resource patterns use * and ?, which fnmatch reads the same way; ARNs are case-sensitive.
    return any(fnmatchcase(arn, str(pattern)) for pattern in as_list(stmt.get("Resource")))


def _denies_insecure_transport(stmt: Mapping[str, Any], bucket_arn: str) -> bool:
    if stmt.get("Effect") != "Deny":
        return False
    principal = stmt.get("Principal")
    if not (principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS")))):
        return False
    actions = {str(a).lower() for a in as_list(stmt.get("Action"))}
    if not actions & {"s3:*", "*"}:
        return False
    # The deny must reach both the bucket and its objects: a statement on the bucket ARN alone
    # still lets GetObject and PutObject travel over plain HTTP.
    if not (_covers(stmt, bucket_arn) and _covers(stmt, f"{bucket_arn}/any-object-key")):
        return False
    for operator, pairs in (stmt.get("Condition") or {}).items():
        if str(operator).lower() not in ("bool", "boolifexists") or not isinstance(pairs, Mapping):
            continue
        for key, value in pairs.items():
            if str(key).lower() == "aws:securetransport" and any(str(v).lower() == "false" for v in as_list(value)):
                return True
    return False


@check(
    id="aws.s3.bucket_tls_only",
    title="S3 bucket policies deny requests that do not use TLS",
    severity=Severity.MEDIUM,
    resource_type="aws.s3.bucket",
    rationale=(
        "S3 still answers plain HTTP. A policy that denies any request with aws:SecureTransport "
        "false keeps data and credentials from crossing the network unencrypted."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket, then Permissions > Bucket policy > Edit.\n"
            "2. Add a statement: Effect Deny, Principal *, Action s3:*, Resource the bucket and "
            "bucket/*, Condition Bool aws:SecureTransport false.\n"
            "3. Save the policy."
        ),
        cli=(
            "aws s3api put-bucket-policy --bucket <bucket-name> --policy "
            '\'{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport",'
            '"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":'
            '["arn:aws:s3:::<bucket-name>","arn:aws:s3:::<bucket-name>/*"],'
            '"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}\''
        ),
        docs="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
    ),
    reads=(
        (
            "s3:GetBucketPolicy: Policy.Statement[].Effect, Principal, Action, Resource, "
            "Condition.Bool.aws:SecureTransport"
        ),
    ),
    needs="s3:ListAllMyBuckets, s3:GetBucketPolicy",
)
def bucket_tls_only(bucket: Resource, ctx: Context) -> Verdict:
    policy = need(bucket, "Policy")
    if policy is None:
        return failed(f"bucket {_bucket(bucket)} has no bucket policy, so plain HTTP is allowed")
    if any(_denies_insecure_transport(s, bucket.id) for s in statements(policy)):
        return passed(f"bucket {_bucket(bucket)} policy denies requests without TLS")
    return failed(
        f"bucket {_bucket(bucket)} policy does not deny aws:SecureTransport false on the bucket and all its objects"
    )


@check(
    id="aws.s3.bucket_access_logging",
    title="S3 buckets have server access logging enabled",
    severity=Severity.LOW,
    resource_type="aws.s3.bucket",
    rationale=(
        "Server access logs record each request made to the bucket, which is needed to find out "
        "what was read or changed during an investigation."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket.\n"
            "2. On Properties, under Server access logging, choose Edit.\n"
            "3. Enable it, choose a destination bucket in the same region, and save."
        ),
        cli=(
            "aws s3api put-bucket-logging --bucket <bucket-name> --bucket-logging-status "
            '\'{"LoggingEnabled":{"TargetBucket":"<log-bucket-name>","TargetPrefix":"<bucket-name>/"}}\''
        ),
        docs=S3_DOCS + "enable-server-access-logging.html",
    ),
    reads=("s3:GetBucketLogging: LoggingEnabled.TargetBucket",),
    needs="s3:ListAllMyBuckets, s3:GetBucketLogging",
)
def bucket_access_logging(bucket: Resource, ctx: Context) -> Verdict:
    logging = need(bucket, "Logging")
    target = (logging or {}).get("TargetBucket")
    if target:
        return passed(f"bucket {_bucket(bucket)} logs access to bucket {target}")
    return failed(f"bucket {_bucket(bucket)} has server access logging off")


def _neutralised(bucket: Resource, ctx: Context, flags: list[str]) -> str | None:
    for flag in flags:
        level = effective_pab(bucket, ctx.snapshot, flag)
        if level:
            return f"{flag} is on at {level} level"
    return None


@check(
    id="aws.s3.bucket_no_public_policy",
    title="S3 bucket policies do not grant access to everyone",
    severity=Severity.CRITICAL,
    resource_type="aws.s3.bucket",
    requires=("aws.s3.account",),
    rationale=(
        "A bucket policy that allows Principal * without a condition tying it to your accounts, "
        "organization or network makes the data readable, or writable, by anyone on the internet."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket, then Permissions > Bucket policy.\n"
            "2. Remove or narrow statements that allow Principal * (add aws:PrincipalOrgID, "
            "aws:SourceVpce or named principals).\n"
            "3. Turn on Block public access for the bucket or account."
        ),
        cli=f"aws s3api put-public-access-block --bucket <bucket-name> --public-access-block-configuration {PAB_CLI}",
        docs=S3_DOCS + "access-control-block-public-access.html",
    ),
    # BlockPublicPolicy only rejects new public policies; an existing one keeps working, so by
    # default only RestrictPublicBuckets is taken to neutralise a public policy.
    params={"neutralising_flags": ["RestrictPublicBuckets"]},
    reads=(
        "s3:GetBucketPolicy: Policy.Statement[].Effect, Principal, NotPrincipal, Condition",
        "s3:GetPublicAccessBlock (bucket): PublicAccessBlockConfiguration.RestrictPublicBuckets",
        "s3control:GetPublicAccessBlock (account): PublicAccessBlockConfiguration.RestrictPublicBuckets",
    ),
    needs="s3:ListAllMyBuckets, s3:GetBucketPolicy, s3:GetBucketPublicAccessBlock, s3:GetAccountPublicAccessBlock",
)
def bucket_no_public_policy(bucket: Resource, ctx: Context) -> Verdict:
    public = public_statements(need(bucket, "Policy"))
    if not public:
        return passed(f"bucket {_bucket(bucket)} policy grants nothing to everyone")
    sids = ", ".join(str(s.get("Sid") or f"#{i + 1}") for i, s in enumerate(public))
    guard = _neutralised(bucket, ctx, list(ctx.params.get("neutralising_flags", ["RestrictPublicBuckets"])))
    if guard:
        return passed(f"bucket {_bucket(bucket)} policy statement(s) {sids} allow everyone, but {guard}")
    return failed(f"bucket {_bucket(bucket)} policy allows everyone without a restricting condition ({sids})")


@check(
    id="aws.s3.bucket_no_public_acl",
    title="S3 bucket ACLs do not grant access to all users or all AWS accounts",
    severity=Severity.CRITICAL,
    resource_type="aws.s3.bucket",
    requires=("aws.s3.account",),
    rationale=(
        "ACL grants to the AllUsers or AuthenticatedUsers groups expose the bucket to the internet "
        "or to every AWS customer. ACLs are legacy and rarely needed."
    ),
    remediation=Remediation(
        console=(
            "1. Open the S3 console and choose the bucket, then Permissions.\n"
            "2. Under Object Ownership choose Bucket owner enforced, which disables ACLs.\n"
            "3. Or edit the ACL and remove grants to Everyone and Authenticated users group."
        ),
        cli="aws s3api put-bucket-ownership-controls --bucket <bucket-name> "
        "--ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'",
        docs=S3_DOCS + "about-object-ownership.html",
    ),
    reads=(
        "s3:GetBucketAcl: Grants[].Grantee.URI, Grants[].Permission",
        "s3:GetPublicAccessBlock (bucket): PublicAccessBlockConfiguration.IgnorePublicAcls",
        "s3control:GetPublicAccessBlock (account): PublicAccessBlockConfiguration.IgnorePublicAcls",
    ),
    needs="s3:ListAllMyBuckets, s3:GetBucketAcl, s3:GetBucketPublicAccessBlock, s3:GetAccountPublicAccessBlock",
)
def bucket_no_public_acl(bucket: Resource, ctx: Context) -> Verdict:
    grants = public_acl_grants(need(bucket, "Acl"))
    if not grants:
        return passed(f"bucket {_bucket(bucket)} ACL has no public grants")
    guard = _neutralised(bucket, ctx, ["IgnorePublicAcls"])
    if guard:
        return passed(f"bucket {_bucket(bucket)} ACL grants {', '.join(grants)}, but {guard}")
    return failed(f"bucket {_bucket(bucket)} ACL grants {', '.join(grants)}")
