"""Account-wide IAM settings: the root user and the password policy (resource type aws.account)."""

from __future__ import annotations

from typing import Any

from agent.models import Resource
from checks.aws._util import cred_bool
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

IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"


def _summary_value(account: Resource, key: str) -> Any:
    summary = need(account, "AccountSummary") or {}
    if key not in summary:
        raise MissingInput(f"account summary has no {key}")
    return summary[key]


@check(
    id="aws.iam.root_mfa_enabled",
    title="The root user has MFA enabled",
    severity=Severity.CRITICAL,
    resource_type="aws.account",
    rationale=(
        "The root user can do anything in the account, including closing it, and cannot be "
        "limited by IAM policies. A second factor keeps a leaked root password from being enough "
        "to take the account over."
    ),
    remediation=Remediation(
        console=(
            "1. Sign in as the root user.\n"
            "2. Open the account menu and choose Security credentials.\n"
            "3. Under Multi-factor authentication (MFA), choose Assign MFA device.\n"
            "4. Register a hardware key or authenticator app and store recovery details safely."
        ),
        cli=(
            "# Root MFA can only be assigned while signed in as root; verify with:\n"
            "aws iam get-account-summary --query 'SummaryMap.AccountMFAEnabled'"
        ),
        docs=IAM_DOCS + "enable-mfa-for-root.html",
    ),
    reads=("iam:GetAccountSummary: SummaryMap.AccountMFAEnabled",),
    needs="iam:GetAccountSummary",
)
def root_mfa_enabled(account: Resource, ctx: Context) -> Verdict:
    if int(_summary_value(account, "AccountMFAEnabled")) >= 1:
        return passed(f"root user of account {account.account} has MFA enabled")
    return failed(f"root user of account {account.account} has no MFA device")


@check(
    id="aws.iam.root_access_keys_absent",
    title="The root user has no access keys",
    severity=Severity.CRITICAL,
    resource_type="aws.account",
    rationale=(
        "Root access keys give unrestricted programmatic control of the account and cannot be "
        "scoped down. Day-to-day automation belongs to IAM roles or users with least privilege."
    ),
    remediation=Remediation(
        console=(
            "1. Sign in as the root user and open Security credentials.\n"
            "2. Under Access keys, note where each key is used and move that use to an IAM role.\n"
            "3. Choose Actions > Deactivate, then Delete, for every root access key."
        ),
        cli=("# Must run with root credentials:\naws iam delete-access-key --access-key-id <root-access-key-id>"),
        docs=IAM_DOCS + "id_root-user_manage_delete-key.html",
    ),
    reads=(
        "iam:GetAccountSummary: SummaryMap.AccountAccessKeysPresent",
        (
            "iam:GenerateCredentialReport/GetCredentialReport (when the summary is missing): <root_account> row "
            "access_key_1_active, access_key_2_active"
        ),
    ),
    needs="iam:GetAccountSummary; iam:GenerateCredentialReport, iam:GetCredentialReport as a fallback",
)
def root_access_keys_absent(account: Resource, ctx: Context) -> Verdict:
    # The account summary counts root keys directly; the credential report row is a fallback.
    try:
        present = int(_summary_value(account, "AccountAccessKeysPresent"))
    except MissingInput:
        row = need(account, "RootCredentials")
        if row is None:
            raise MissingInput("neither the account summary nor a root credential-report row is available") from None
        present = sum(cred_bool(row, f"access_key_{n}_active") for n in (1, 2))
    if present:
        return failed(f"root user of account {account.account} has {present} access key(s)")
    return passed(f"root user of account {account.account} has no access keys")


_PASSWORD_DEFAULTS = {
    "min_length": 14,
    "reuse_prevention": 24,
    "require_symbols": True,
    "require_numbers": True,
    "require_uppercase": True,
    "require_lowercase": True,
}
_CLASSES = {
    "require_symbols": ("RequireSymbols", "symbols"),
    "require_numbers": ("RequireNumbers", "numbers"),
    "require_uppercase": ("RequireUppercaseCharacters", "uppercase letters"),
    "require_lowercase": ("RequireLowercaseCharacters", "lowercase letters"),
}


@check(
    id="aws.iam.password_policy_strong",
    title="The IAM password policy requires long, complex, non-reused passwords",
    severity=Severity.MEDIUM,
    resource_type="aws.account",
    rationale=(
        "IAM users who sign in with a password are only as safe as the password. Requiring length, "
        "several character classes and no reuse makes guessing and credential stuffing harder."
    ),
    remediation=Remediation(
        console=(
            "1. Open the IAM console and choose Account settings.\n"
            "2. In Password policy choose Edit, then Custom.\n"
            "3. Set a minimum length of at least 14, require uppercase, lowercase, numbers and symbols.\n"
            "4. Enable Prevent password reuse with 24 remembered passwords and save."
        ),
        cli=(
            "aws iam update-account-password-policy --minimum-password-length 14 "
            "--require-symbols --require-numbers --require-uppercase-characters "
            "--require-lowercase-characters --password-reuse-prevention 24"
        ),
        docs=IAM_DOCS + "id_credentials_passwords_account-policy.html",
    ),
    params=_PASSWORD_DEFAULTS,
    reads=(
        (
            "iam:GetAccountPasswordPolicy: PasswordPolicy.MinimumPasswordLength, PasswordReusePrevention, "
            "RequireSymbols, RequireNumbers, RequireUppercaseCharacters, RequireLowercaseCharacters (NoSuchEntity ="
            " none)"
        ),
    ),
    needs="iam:GetAccountPasswordPolicy",
)
def password_policy_strong(account: Resource, ctx: Context) -> Verdict:
    policy = need(account, "PasswordPolicy")
    if policy is None:
        return failed(f"account {account.account} has no IAM password policy (AWS defaults apply)")
    p = {**_PASSWORD_DEFAULTS, **ctx.params}
    gaps: list[str] = []
    length = int(policy.get("MinimumPasswordLength", 0) or 0)
    if length < int(p["min_length"]):
        gaps.append(f"minimum length {length} < {p['min_length']}")
    reuse = int(policy.get("PasswordReusePrevention", 0) or 0)
    if reuse < int(p["reuse_prevention"]):
        gaps.append(f"reuse prevention {reuse} < {p['reuse_prevention']}")
    for param, (key, label) in _CLASSES.items():
        if p[param] and not policy.get(key, False):
            gaps.append(f"{label} not required")
    if gaps:
        return failed(f"password policy of account {account.account} is weak: " + "; ".join(gaps))
    return passed(
        f"password policy requires length >= {length}, all character classes and {reuse} remembered passwords"
    )
