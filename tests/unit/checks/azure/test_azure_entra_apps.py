"""Application registrations: expired credentials left behind, long-lived client secrets."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

import pytest
from azure_check_fixtures import ERROR, FAIL, PASS, Case, ago, assert_covered, case, check_case
from entra_fixtures import app, secret

import checks.azure.entra_apps as apps

CERT_EXPIRED = {
    "keyId": "c1",
    "displayName": "CN=billing",
    "type": "AsymmetricX509Cert",
    "usage": "Verify",
    "startDateTime": ago(800),
    "endDateTime": ago(70),
}
DENIED = {"passwordCredentials": "Authorization_RequestDenied: Application.Read.All"}

CASES = [
    case(
        apps.app_no_expired_credentials,
        app(passwordCredentials=[secret(30, -300)]),
        PASS,
        "no expired credentials (1 secrets, 0 certificates)",
        id="pass",
    ),
    case(apps.app_no_expired_credentials, app(), PASS, "no expired", id="no-credentials"),
    case(
        apps.app_no_expired_credentials,
        app(passwordCredentials=[secret(400, 35, "old")]),
        FAIL,
        "secret 'old' expired",
        id="expired-secret",
    ),
    case(
        apps.app_no_expired_credentials,
        app(passwordCredentials=[secret(400, 35, "old"), secret(40, -140, "new")]),
        FAIL,
        "secret 'old' expired",
        id="expired-next-to-valid",
        looks_fine="the app works with its valid new secret, but the expired old one was never removed",
    ),
    case(
        apps.app_no_expired_credentials,
        app(keyCredentials=[CERT_EXPIRED]),
        FAIL,
        "certificate 'CN=billing' expired",
        id="expired-cert",
    ),
    case(apps.app_no_expired_credentials, app(errors=DENIED), ERROR, "Application.Read.All", id="denied"),
    case(
        apps.app_no_expired_credentials,
        app(passwordCredentials=[{"displayName": "x", "endDateTime": "soon"}]),
        ERROR,
        "unreadable date",
        id="garbage",
    ),
    case(
        apps.app_secret_lifetime,
        app(passwordCredentials=[secret(10, -300)]),
        PASS,
        "no current client secret valid longer than 365 days",
        id="pass",
    ),
    case(apps.app_secret_lifetime, app(), PASS, "no client secrets", id="none"),
    case(
        apps.app_secret_lifetime,
        app(passwordCredentials=[secret(10, -720, "two-years")]),
        FAIL,
        "'two-years' is valid 730 days",
        id="two-years",
    ),
    case(
        apps.app_secret_lifetime,
        app(passwordCredentials=[secret(400, -330, "long")]),
        FAIL,
        "valid 730 days",
        id="long-but-half-used",
        looks_fine="the secret expires in 330 days, under a year from now, but it was issued for two years",
    ),
    case(
        apps.app_secret_lifetime,
        app(passwordCredentials=[secret(800, 70, "expired-long")]),
        PASS,
        "no current",
        id="expired-ignored",
    ),
    case(
        apps.app_secret_lifetime,
        app(passwordCredentials=[secret(10, -200)]),
        FAIL,
        "valid 210 days",
        params={"max_days": 180},
        id="param",
    ),
    case(
        apps.app_secret_lifetime,
        app(
            passwordCredentials=[
                {"keyId": "k", "displayName": "forever", "startDateTime": ago(10), "endDateTime": None}
            ]
        ),
        FAIL,
        "no end date",
        id="no-end",
    ),
    case(apps.app_secret_lifetime, app(errors=DENIED), ERROR, "Application.Read.All", id="denied"),
]


@pytest.mark.parametrize("c", CASES)
def test_entra_apps_case(c: Case) -> None:
    check_case(c)


def test_every_check_has_pass_fail_error() -> None:
    assert_covered(CASES, [apps])
