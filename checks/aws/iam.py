"""IAM users: credential hygiene from the credential report, and what policies they hold."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from agent.models import Resource
from checks.aws._util import as_list, auth_detail, cred_bool, cred_time, days_since, parse_policy, statements
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"


def _row(user: Resource) -> Mapping[str, Any]:
    row = need(user, "Credentials")
    if not isinstance(row, Mapping):
        raise MissingInput(f"user {_name(user)} has no credential-report row")
    return row


def _name(user: Resource) -> str:
    return str(user.attributes.get("UserName") or user.name or user.id.rsplit("/", 1)[-1])


def _active_keys(row: Mapping[str, Any]) -> list[int]:
    return [n for n in (1, 2) if cred_bool(row, f"access_key_{n}_active")]


def _on(ts: datetime) -> str:
    # the day, not "N days ago": a message that changed every day would be a finding event every day
    return f"on {ts.date().isoformat()}"


# -- console MFA -------------------------------------------------------------------------------


@check(
    id="aws.iam.console_user_mfa",
    title="IAM users with console access have MFA enabled",
    severity=Severity.HIGH,
    resource_type="aws.iam.user",
    rationale=(
        "A console password alone can be phished, guessed or reused from another breach. Requiring "
        "a second factor for every user who can sign in stops a stolen password from being enough."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console and choose Users, then the user.\n"
            "2. On the Security credentials tab choose Assign MFA device.\n"
            "3. Register a security key or authenticator app with the user present.\n"
            "4. Consider a policy that denies actions without aws:MultiFactorAuthPresent."
        ),
        cli=(
            "aws iam create-virtual-mfa-device --virtual-mfa-device-name <user-name> "
            "--outfile <qr-code.png> --bootstrap-method QRCodePNG && "
            "aws iam enable-mfa-device --user-name <user-name> --serial-number <mfa-arn> "
            "--authentication-code1 <code-1> --authentication-code2 <code-2>"
        ),
        docs=IAM_DOCS + "id_credentials_mfa_enable.html",
    ),
    reads=("iam:GenerateCredentialReport/GetCredentialReport: password_enabled, mfa_active",),
    needs="iam:GenerateCredentialReport, iam:GetCredentialReport",
)
def console_user_mfa(user: Resource, ctx: Context) -> Verdict:
    row = _row(user)
    if not cred_bool(row, "password_enabled"):
        return not_applicable(f"user {_name(user)} has no console password")
    if cred_bool(row, "mfa_active"):
        return passed(f"user {_name(user)} has console access and an MFA device")
    return failed(f"user {_name(user)} has console access and no MFA device")


# -- unused / inactive credentials -------------------------------------------------------------


def _stale_password(row: Mapping[str, Any], now: datetime, days: int) -> str | None:
    if not cred_bool(row, "password_enabled"):
        return None
    last = cred_time(row, "password_last_used")
    if last is not None:
        return f"password last used {_on(last)}" if days_since(last, now) >= days else None
    # Never used: judge by when it was set, so a fresh password gets its grace period.
    issued = cred_time(row, "password_last_changed") or cred_time(row, "user_creation_time")
    if issued is None or days_since(issued, now) >= days:
        when = f" since it was set {_on(issued)}" if issued else ""
        return f"password never used{when}"
    return None


def _stale_key(row: Mapping[str, Any], n: int, now: datetime, days: int) -> str | None:
    last = cred_time(row, f"access_key_{n}_last_used_date")
    if last is not None:
        return f"access key {n} last used {_on(last)}" if days_since(last, now) >= days else None
    issued = cred_time(row, f"access_key_{n}_last_rotated") or cred_time(row, "user_creation_time")
    if issued is None or days_since(issued, now) >= days:
        when = f" since it was created {_on(issued)}" if issued else ""
        return f"access key {n} never used{when}"
    return None


@check(
    id="aws.iam.user_unused_credentials_45d",
    title="IAM users have no passwords or active access keys left unused for 45 days",
    severity=Severity.MEDIUM,
    resource_type="aws.iam.user",
    rationale=(
        "Credentials nobody uses are nobody's to notice when they leak. Disabling passwords and "
        "keys after 45 days without use shrinks what an attacker can find and use."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console, choose Users and the user.\n"
            "2. On Security credentials, for an unused console password choose Manage console access "
            "> Disable.\n"
            "3. For each unused access key choose Actions > Deactivate (delete it once confirmed unused)."
        ),
        cli=(
            "aws iam update-access-key --user-name <user-name> --access-key-id <access-key-id> "
            "--status Inactive && aws iam delete-login-profile --user-name <user-name>"
        ),
        docs=IAM_DOCS + "id_credentials_finding-unused.html",
    ),
    params={"days": 45},
    reads=(
        (
            "iam:GenerateCredentialReport/GetCredentialReport: password_enabled, password_last_used, "
            "password_last_changed, user_creation_time, access_key_N_active, access_key_N_last_used_date, "
            "access_key_N_last_rotated"
        ),
    ),
    needs="iam:GenerateCredentialReport, iam:GetCredentialReport",
)
def user_unused_credentials_45d(user: Resource, ctx: Context) -> Verdict:
    row, days = _row(user), int(ctx.params.get("days", 45))
    stale = [_stale_password(row, ctx.now, days)]
    stale += [_stale_key(row, n, ctx.now, days) for n in _active_keys(row)]
    problems = [s for s in stale if s]
    if problems:
        return failed(f"user {_name(user)} has credentials unused for {days}+ days: " + "; ".join(problems))
    return passed(f"user {_name(user)} has no password or active key unused for {days}+ days")


def _last_activity(row: Mapping[str, Any]) -> datetime | None:
    dates = [cred_time(row, "password_last_used")]
    dates += [cred_time(row, f"access_key_{n}_last_used_date") for n in (1, 2)]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


@check(
    id="aws.iam.user_inactive_90d",
    title="IAM users that can sign in or call APIs have been active in the last 90 days",
    severity=Severity.MEDIUM,
    resource_type="aws.iam.user",
    rationale=(
        "Users who have not signed in or used a key for 90 days are usually leavers or forgotten "
        "service accounts. Removing their access is part of regular access review."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console and choose Users; sort by Last activity.\n"
            "2. Confirm with the owner that the user is no longer needed.\n"
            "3. Disable console access and deactivate access keys, then delete the user."
        ),
        cli="aws iam delete-login-profile --user-name <user-name> && "
        "aws iam update-access-key --user-name <user-name> --access-key-id <access-key-id> --status "
        "Inactive",
        docs=IAM_DOCS + "id_credentials_finding-unused.html",
    ),
    params={"days": 90},
    reads=(
        (
            "iam:GenerateCredentialReport/GetCredentialReport: password_enabled, password_last_used, "
            "access_key_N_active, access_key_N_last_used_date, user_creation_time"
        ),
    ),
    needs="iam:GenerateCredentialReport, iam:GetCredentialReport",
)
def user_inactive_90d(user: Resource, ctx: Context) -> Verdict:
    row, days = _row(user), int(ctx.params.get("days", 90))
    if not cred_bool(row, "password_enabled") and not _active_keys(row):
        return passed(f"user {_name(user)} has no console password and no active access key")
    last = _last_activity(row)
    if last is not None:
        if days_since(last, ctx.now) < days:
            return passed(
                f"user {_name(user)} was active in the last {days} days", observed=f"last activity {last.isoformat()}"
            )
        return failed(f"user {_name(user)} has credentials but was last active {_on(last)}, {days} or more days ago")
    created = cred_time(row, "user_creation_time")
    if created is not None and days_since(created, ctx.now) < days:
        return passed(f"user {_name(user)} was created {_on(created)} and has not been used yet")
    return failed(f"user {_name(user)} has credentials and no recorded activity in {days} days")


# -- access keys -------------------------------------------------------------------------------


@check(
    id="aws.iam.access_key_rotated_90d",
    title="Active IAM access keys are rotated at least every 90 days",
    severity=Severity.MEDIUM,
    resource_type="aws.iam.user",
    rationale=(
        "Long-lived keys end up in laptops, CI logs and old scripts. Rotating them regularly "
        "limits how long a key that leaked unnoticed stays useful."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console, choose Users and the user, then Security credentials.\n"
            "2. Create a second access key and update every consumer to use it.\n"
            "3. Deactivate the old key, watch for failures, then delete it."
        ),
        cli=(
            "aws iam create-access-key --user-name <user-name> && "
            "aws iam update-access-key --user-name <user-name> --access-key-id <old-access-key-id> "
            "--status Inactive"
        ),
        docs=IAM_DOCS + "id_credentials_access-keys.html#rotating_access_keys_console",
    ),
    params={"days": 90},
    reads=("iam:GenerateCredentialReport/GetCredentialReport: access_key_N_active, access_key_N_last_rotated",),
    needs="iam:GenerateCredentialReport, iam:GetCredentialReport",
)
def access_key_rotated_90d(user: Resource, ctx: Context) -> Verdict:
    row, days = _row(user), int(ctx.params.get("days", 90))
    active = _active_keys(row)
    if not active:
        return not_applicable(f"user {_name(user)} has no active access key")
    old: list[str] = []
    for n in active:
        rotated = cred_time(row, f"access_key_{n}_last_rotated")
        if rotated is None:
            raise MissingInput(f"access key {n} of user {_name(user)} has no rotation date")
        if days_since(rotated, ctx.now) >= days:
            old.append(f"key {n} last rotated {_on(rotated)}")
    if old:
        return failed(f"user {_name(user)} has access keys older than {days} days: " + "; ".join(old))
    return passed(f"user {_name(user)}'s active access keys were rotated within {days} days")


@check(
    id="aws.iam.single_active_access_key",
    title="IAM users have at most one active access key",
    severity=Severity.LOW,
    resource_type="aws.iam.user",
    rationale=(
        "Two active keys are meant for a short rotation window. A user that keeps both active "
        "doubles the credentials to track and often means an old key was never retired."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console, choose Users and the user, then Security credentials.\n"
            "2. Find which key is still in use (Last used column).\n"
            "3. Deactivate the other key and delete it once nothing breaks."
        ),
        cli="aws iam update-access-key --user-name <user-name> --access-key-id <access-key-id> --status Inactive",
        docs=IAM_DOCS + "id_credentials_access-keys.html",
    ),
    reads=("iam:GenerateCredentialReport/GetCredentialReport: access_key_1_active, access_key_2_active",),
    needs="iam:GenerateCredentialReport, iam:GetCredentialReport",
)
def single_active_access_key(user: Resource, ctx: Context) -> Verdict:
    active = _active_keys(_row(user))
    if len(active) > 1:
        return failed(f"user {_name(user)} has {len(active)} active access keys")
    return passed(f"user {_name(user)} has {len(active)} active access key(s)")


# -- policies ----------------------------------------------------------------------------------


# What counts as full administrator privileges ("* on *"), for the user check and the policy check:
# - an Allow statement whose Action is "*" (or "*:*"), as a string or anywhere in a list;
# - on Resource "*" (string or in a list), or on NotResource: every action on every resource but the
#   ones named still includes iam:*, so the holder can grant itself the rest;
# - with or without a Condition: a condition (MFA present, a source network, a time window) says when
#   the grant applies, not what it grants; whoever meets it can do everything;
# - Deny statements beside it do not clear it: the grant itself is what CIS and IAM call full
#   administrator access, and a carve-out rarely removes the IAM actions that undo it.
# NotAction with Allow is not counted: it grants every action but the ones named, the shape of AWS's
# PowerUserAccess, and telling how much that still grants needs a catalogue of actions we do not keep.
_ALL_ACTIONS = {"*", "*:*"}


def _allows_everything(document: Any) -> bool:
    for stmt in statements(document):
        if stmt.get("Effect") != "Allow" or "NotAction" in stmt:
            continue
        if not _ALL_ACTIONS & {str(a) for a in as_list(stmt.get("Action"))}:
            continue
        if "*" in as_list(stmt.get("Resource")) or "NotResource" in stmt:
            return True
    return False


def _default_document(policy: Resource) -> Any:
    default = policy.attributes.get("DefaultVersionId")
    versions = need(policy, "PolicyVersionList") or []
    for version in versions:
        if version.get("IsDefaultVersion") or version.get("VersionId") == default:
            if version.get("Document") is None:  # an empty document would read as "grants nothing"
                raise MissingInput(f"policy {policy.id}: the default version has no document")
            return version.get("Document")
    raise MissingInput(f"policy {policy.id} has no default version document")


def _managed_admin(arn: str, ctx: Context, holder: str) -> str | None:
    # AWS managed policies live in account "aws" of every partition (aws, aws-us-gov, aws-cn).
    partition, _, rest = arn.partition(":iam::aws:")
    if rest and partition.startswith("arn:aws"):
        if rest == "policy/AdministratorAccess":
            return f"{holder} has AdministratorAccess attached"
        return None  # other AWS managed policies are not collected; only AdministratorAccess matters
    policy = ctx.snapshot.get(arn)
    if policy is None:
        raise MissingInput(f"customer managed policy {arn} is not in this snapshot")
    if _allows_everything(_default_document(policy)):
        return f"{holder} has managed policy {policy.attributes.get('PolicyName', arn)} allowing * on *"
    return None


def _holder_admin(attrs: Mapping[str, Any], inline_key: str, ctx: Context, holder: str) -> list[str]:
    found = [
        f"{holder} has inline policy {p.get('PolicyName', '?')} allowing * on *"
        for p in attrs.get(inline_key) or []
        if _allows_everything(parse_policy(p.get("PolicyDocument")))
    ]
    for attached in attrs.get("AttachedManagedPolicies") or []:
        hit = _managed_admin(str(attached.get("PolicyArn", "")), ctx, holder)
        if hit:
            found.append(hit)
    return found


def _group(ctx: Context, account: str, name: str) -> Resource:
    for group in ctx.snapshot.of_type("aws.iam.group"):
        if group.account == account and group.attributes.get("GroupName") == name:
            return group
    raise MissingInput(f"group {name} is not in this snapshot")


def _group_names(groups: Iterable[Any]) -> list[str]:
    # GroupList holds names; tolerate dicts in case a collector stores richer items.
    return [str(g.get("GroupName")) if isinstance(g, Mapping) else str(g) for g in groups]


@check(
    id="aws.iam.user_no_admin_policy",
    title="IAM users do not hold full administrator privileges",
    severity=Severity.HIGH,
    resource_type="aws.iam.user",
    requires=("aws.iam.policy", "aws.iam.group"),
    rationale=(
        "A user whose policies allow every action on every resource turns any leak of that user's "
        "password or keys into full account compromise. Administration should go through roles "
        "assumed for the task, with MFA."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console, choose Users and the user, then Permissions.\n"
            "2. Remove AdministratorAccess and any policy or group granting Action * on Resource *.\n"
            "3. Grant the specific permissions the user needs, or an admin role they assume with MFA."
        ),
        cli=(
            "aws iam detach-user-policy --user-name <user-name> "
            "--policy-arn arn:aws:iam::aws:policy/AdministratorAccess"
        ),
        docs=IAM_DOCS + "best-practices.html#grant-least-privilege",
    ),
    reads=(
        (
            "iam:GetAccountAuthorizationDetails: UserDetailList[].UserPolicyList, AttachedManagedPolicies, "
            "GroupList; GroupDetailList[].GroupPolicyList, AttachedManagedPolicies; Policies[].DefaultVersionId, "
            "PolicyVersionList[].Document"
        ),
    ),
    needs="iam:GetAccountAuthorizationDetails",
)
def user_no_admin_policy(user: Resource, ctx: Context) -> Verdict:
    name = _name(user)
    attrs = {
        "UserPolicyList": auth_detail(user, "UserPolicyList"),
        "AttachedManagedPolicies": auth_detail(user, "AttachedManagedPolicies"),
    }
    findings = _holder_admin(attrs, "UserPolicyList", ctx, f"user {name}")
    for group_name in _group_names(auth_detail(user, "GroupList") or []):
        group = _group(ctx, user.account, group_name)
        findings += _holder_admin(group.attributes, "GroupPolicyList", ctx, f"via group {group_name}, user {name}")
    if findings:
        return failed("; ".join(findings))
    return passed(f"user {name} has no policy allowing every action on every resource")


def _policy_name(policy: Resource) -> str:
    # GetAccountAuthorizationDetails gives PolicyName; the ARN ends with it (after any path) otherwise
    return str(policy.attributes.get("PolicyName") or policy.name or policy.id.rsplit("/", 1)[-1])


@check(
    id="aws.iam.policy_no_admin_attached",
    title="Customer managed IAM policies granting full administrator privileges are not attached",
    severity=Severity.HIGH,
    resource_type="aws.iam.policy",
    rationale=(
        "A managed policy that allows every action on every resource makes each user, group and role it "
        "is attached to a full administrator, and every principal attached later too. The policy is what "
        "to fix: replace it with the permissions its holders need. An admin policy attached to nothing "
        "grants nothing and passes (the reason says so); a policy used only as a permissions boundary "
        "grants nothing either and is not counted as attached."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console, choose Policies and the policy, then Entities attached.\n"
            "2. For each user, group and role, find the permissions it really needs and grant them with a "
            "narrower policy.\n"
            "3. Detach the policy from every entity, or create a new default version that names specific "
            "actions and resources."
        ),
        cli=(
            "aws iam list-entities-for-policy --policy-arn <policy-arn> && "
            "aws iam detach-role-policy --role-name <role-name> --policy-arn <policy-arn> && "
            "aws iam create-policy-version --policy-arn <policy-arn> --policy-document file://least-privilege.json "
            "--set-as-default"
        ),
        docs=IAM_DOCS + "best-practices.html#grant-least-privilege",
    ),
    reads=(
        (
            "iam:GetAccountAuthorizationDetails (Filter LocalManagedPolicy): Policies[].Arn, AttachmentCount, "
            "DefaultVersionId, PolicyVersionList[].IsDefaultVersion, PolicyVersionList[].Document"
        ),
    ),
    needs="iam:GetAccountAuthorizationDetails",
)
def policy_no_admin_attached(policy: Resource, ctx: Context) -> Verdict:
    name = _policy_name(policy)
    admin = _allows_everything(_default_document(policy))
    count = need(policy, "AttachmentCount")
    if not isinstance(count, int) or isinstance(count, bool):
        raise MissingInput(f"policy {name} has no attachment count: {count!r}")
    if not admin:
        return passed(f"policy {name} does not allow every action on every resource")
    if count > 0:
        holders = "1 user, group or role" if count == 1 else f"{count} users, groups or roles"
        return failed(f"policy {name} allows * on * and is attached to {holders}")
    return passed(f"policy {name} allows * on * but is attached to no user, group or role")


@check(
    id="aws.iam.user_no_direct_policies",
    title="IAM users receive permissions through groups or roles, not directly attached policies",
    severity=Severity.LOW,
    resource_type="aws.iam.user",
    rationale=(
        "Permissions attached to individual users are hard to review and drift apart over time. "
        "Granting them through groups keeps access consistent and easy to audit."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console, choose Users and the user, then Permissions.\n"
            "2. Add the user to a group that carries the same permissions.\n"
            "3. Remove the policies attached directly to the user."
        ),
        cli=(
            "aws iam add-user-to-group --user-name <user-name> --group-name <group-name> && "
            "aws iam detach-user-policy --user-name <user-name> --policy-arn <policy-arn>"
        ),
        docs=IAM_DOCS + "id_groups_manage_attach-policy.html",
    ),
    reads=("iam:GetAccountAuthorizationDetails: UserDetailList[].UserPolicyList, AttachedManagedPolicies",),
    needs="iam:GetAccountAuthorizationDetails",
)
def user_no_direct_policies(user: Resource, ctx: Context) -> Verdict:
    inline = [p.get("PolicyName", "?") for p in auth_detail(user, "UserPolicyList") or []]
    attached = [
        p.get("PolicyName") or p.get("PolicyArn", "?") for p in auth_detail(user, "AttachedManagedPolicies") or []
    ]
    if inline or attached:
        parts = []
        if inline:
            parts.append("inline " + ", ".join(map(str, inline)))
        if attached:
            parts.append("attached " + ", ".join(map(str, attached)))
        return failed(f"user {_name(user)} has policies directly on the user: " + "; ".join(parts))
    return passed(f"user {_name(user)} has no policies attached directly")
