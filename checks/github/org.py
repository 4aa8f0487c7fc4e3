"""The organisation requires 2FA, and every member has it."""

from __future__ import annotations

from agent.models import Resource
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
from checks.github._util import DOCS, MEMBER_TYPE, ORG_TYPE


@check(
    id="github.organization.two_factor_required",
    title="The GitHub organisation requires two-factor authentication of everyone",
    severity=Severity.HIGH,
    resource_type=ORG_TYPE,
    rationale=(
        "A stolen password alone then cannot push code or change settings: GitHub removes members, outside "
        "collaborators and billing managers without 2FA, and refuses to add new ones until they enable it."
    ),
    remediation=Remediation(
        console=(
            "Organization > Settings > Authentication security > Two-factor authentication: tick 'Require "
            "two-factor authentication for everyone in the organization' (and preferably 'Only allow secure "
            "two-factor methods'), Save. First ask the members listed by the members-without-2FA check to enable "
            "it: GitHub removes them from the organisation when you save."
        ),
        cli="gh api 'orgs/ORG' --jq .two_factor_requirement_enabled",
        docs=DOCS
        + (
            "organizations/keeping-your-organization-secure/managing-two-factor-authentication-for-"
            "your-organization/requiring-two-factor-authentication-in-your-organization"
        ),
    ),
    reads=("GET /orgs/{org}: two_factor_requirement_enabled (shown to owners only)",),
    needs=(
        "an organisation owner's token: fine-grained Organization Administration read, classic "
        "admin:org; or a GitHub App with Organization Administration read"
    ),
)
def two_factor_required(org: Resource, ctx: Context) -> Verdict:
    value = need(org, "two_factor_requirement_enabled")
    if value is True:
        return passed(f"organisation {org.name} requires two-factor authentication")
    if value is False:
        return failed(f"organisation {org.name} does not require two-factor authentication")
    raise MissingInput(f"two_factor_requirement_enabled is {value!r}, not true or false")


@check(
    id="github.member.two_factor_enabled",
    title="Every member of the GitHub organisation has two-factor authentication enabled",
    severity=Severity.HIGH,
    resource_type=MEMBER_TYPE,
    rationale=(
        "A member without 2FA can push to every repository they can write to with a password alone. The list "
        "comes from GitHub's own filter of members without 2FA, which only an organisation owner may read."
    ),
    remediation=Remediation(
        console=(
            "Ask the member to enable it: github.com > Settings > Password and authentication > Enable two-factor "
            "authentication (a passkey, security key or authenticator app; not SMS). Then require 2FA for the "
            "organisation, so that nobody can join or stay without it."
        ),
        cli="gh api 'orgs/ORG/members?filter=2fa_disabled' --paginate --jq '.[].login'",
        docs=DOCS
        + (
            "authentication/securing-your-account-with-two-factor-authentication-2fa/configuring-two-"
            "factor-authentication"
        ),
    ),
    reads=(
        "GET /orgs/{org}/members: every member",
        "GET /orgs/{org}/members?filter=2fa_disabled: members without 2FA (owners only)",
    ),
    needs=(
        "an organisation owner's token (fine-grained: Organization Members read; classic: "
        "read:org) or a GitHub App with Organization Members read"
    ),
)
def two_factor_enabled(member: Resource, ctx: Context) -> Verdict:
    identity = need(member, "identity")
    if not isinstance(identity, dict):
        raise MissingInput("identity is not an object")
    if identity.get("active") is False:
        return not_applicable(f"member {member.name} is suspended and cannot sign in")
    mfa = identity.get("mfa")
    if "TwoFactor" in member.errors:
        raise MissingInput(f"cannot tell whether {member.name} has 2FA: {member.errors['TwoFactor']}")
    if mfa is True:
        return passed(f"member {member.name} has two-factor authentication enabled")
    if mfa is False:
        return failed(f"member {member.name} has no two-factor authentication")
    raise MissingInput(f"cannot tell whether {member.name} has 2FA: the members without 2FA were not read")
