"""Application registrations: no expired credentials left behind, no long-lived client secrets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agent.models import Resource
from checks.azure._entra import APP_TYPE
from checks.azure._util import parse_time
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed

DOCS = "https://learn.microsoft.com/entra/identity-platform/"
_READ = (
    "GET /v1.0/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials: "
    "passwordCredentials[].startDateTime/endDateTime, keyCredentials[].endDateTime"
)
_NEEDS = "Application.Read.All (Graph, application)"


def _label(app: Resource) -> str:
    return f"app '{app.attributes.get('displayName') or app.name}' ({app.attributes.get('appId') or app.name})"


def _window(cred: Mapping[str, Any], app: Resource) -> tuple[datetime | None, datetime | None]:
    try:
        return parse_time(cred.get("startDateTime")), parse_time(cred.get("endDateTime"))
    except ValueError as exc:
        raise MissingInput(f"a credential of {_label(app)} has an unreadable date: {exc}") from None


def _name(cred: Mapping[str, Any]) -> str:
    return "'" + str(cred.get("displayName") or str(cred.get("keyId") or "?")[:8]) + "'"


@check(
    id="azure.entra.app_no_expired_credentials",
    title="Application registrations carry no expired client secrets or certificates",
    severity=Severity.LOW,
    resource_type=APP_TYPE,
    rationale=(
        "Expired credentials left on an app show nobody owns its rotation, and a valid credential next to them "
        "does not change that. Remove them once the replacement is in use."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > App registrations > the app > Certificates & secrets: delete each expired "
            "client secret and certificate after confirming the app uses its current credential."
        ),
        cli="az ad app credential delete --id <app-id> --key-id <key-id> [--cert]",
        docs=DOCS + "how-to-add-credentials",
    ),
    reads=(_READ,),
    needs=_NEEDS,
)
def app_no_expired_credentials(app: Resource, ctx: Context) -> Verdict:
    secrets, certs = need(app, "passwordCredentials") or [], need(app, "keyCredentials") or []
    expired = []
    for kind, creds in (("secret", secrets), ("certificate", certs)):
        for cred in creds:
            _, end = _window(cred, app)
            if end is not None and end < ctx.now:
                expired.append(f"{kind} {_name(cred)} expired {end.date()}")
    if expired:
        return failed(f"{_label(app)} still carries expired credentials: {', '.join(expired)}")
    return passed(f"{_label(app)} has no expired credentials ({len(secrets)} secrets, {len(certs)} certificates)")


@check(
    id="azure.entra.app_secret_lifetime",
    title="Client secrets of application registrations are valid for at most a year",
    severity=Severity.MEDIUM,
    resource_type=APP_TYPE,
    rationale=(
        "A client secret is a password for an app that works without MFA from anywhere. Long-lived ones "
        "outlive the people who know them; Microsoft recommends less than 12 months, or certificates."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > App registrations > the app > Certificates & secrets: add a new secret with "
            "an expiry of 12 months or less (or a certificate / federated credential), switch the app to it, "
            "then delete the long-lived secret."
        ),
        cli="az ad app credential reset --id <app-id> --years 1 --append",
        docs=DOCS + "security-best-practices-for-app-registration",
    ),
    params={"max_days": 365},
    reads=(_READ,),
    needs=_NEEDS,
)
def app_secret_lifetime(app: Resource, ctx: Context) -> Verdict:
    max_days = int(ctx.params.get("max_days", 365))
    secrets = need(app, "passwordCredentials") or []
    long_lived = []
    for cred in secrets:
        start, end = _window(cred, app)
        if end is not None and end < ctx.now:
            continue  # expired: app_no_expired_credentials reports it
        if end is None or start is None:
            long_lived.append(f"secret {_name(cred)} has no {'end' if end is None else 'start'} date")
            continue
        days = (end - start).days
        if days > max_days:  # the whole lifetime, not what is left of it
            long_lived.append(f"secret {_name(cred)} is valid {days} days (until {end.date()})")
    if long_lived:
        return failed(f"{_label(app)} has client secrets valid longer than {max_days} days: {', '.join(long_lived)}")
    if not secrets:
        return passed(f"{_label(app)} has no client secrets")
    return passed(f"{_label(app)} has no current client secret valid longer than {max_days} days")
