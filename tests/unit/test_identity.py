"""agent.identity: one view of an identity across Okta, Google Workspace, GitHub, Entra ID and IAM users.

The adapters never raise, and a fact that was not collected is unknown (mfa None), never a guess that
would let a check pass."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.identity import IDENTITY_TYPES, IdentityView, identity_of
from agent.models import Resource

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "identity",
        "userPrincipalName",
        "mail",
        "accountEnabled",
        "userType",
        "Roles",
        "EligibleRoles",
        "Registration",
        "AuthenticationMethods",
        "UserName",
        "Credentials",
        "AttachedManagedPolicies",
    ]
) | st.text(max_size=10)


def _res(rtype: str, attrs: dict[str, Any], errors: dict[str, str] | None = None, provider: str = "x") -> Resource:
    return Resource(
        provider=provider,
        account="acct",
        region="global",
        type=rtype,
        id=f"{rtype}:1",
        name="the-name",
        attributes=attrs,
        errors=errors or {},
    )


def _record(**over: Any) -> dict[str, Any]:
    base = {"email": "Ann@Example.com", "login": "ann", "active": True, "human": True, "admin": False, "mfa": True}
    return {**base, **over}


# -- the identity record of okta.user, googleworkspace.user and github.member --------------------


def test_identity_record_is_read() -> None:
    view = identity_of(_res("okta.user", {"identity": _record()}, provider="okta"))
    assert view == IdentityView(
        provider="okta",
        account="acct",
        resource_type="okta.user",
        resource_id="okta.user:1",
        email="ann@example.com",
        login="ann",
        active=True,
        human=True,
        admin=False,
        mfa=True,
    )


def test_record_with_unknowns() -> None:
    view = identity_of(_res("github.member", {"identity": _record(email=None, admin=None, mfa=None)}))
    assert view is not None
    assert (view.email, view.admin, view.mfa, view.unknown) == (None, False, None, frozenset({"admin"}))


def test_record_missing_or_in_errors_is_all_unknown() -> None:
    for res in (
        _res("googleworkspace.user", {}),
        _res("googleworkspace.user", {"identity": _record()}, {"identity": "not read"}),
        _res("googleworkspace.user", {"identity": "odd"}),
    ):
        view = identity_of(res)
        assert view is not None
        assert view.mfa is None and view.active and view.unknown == {"active", "human", "admin", "email"}
        assert view.login == "the-name"


def test_not_an_identity() -> None:
    assert identity_of(_res("aws.s3.bucket", {"identity": _record()})) is None
    assert identity_of(None) is None  # type: ignore[arg-type]
    assert identity_of("okta.user") is None  # type: ignore[arg-type]


# -- Entra ID users --------------------------------------------------------------------------------


def _entra(**attrs: Any) -> dict[str, Any]:
    base = {
        "userPrincipalName": "Bob@Contoso.com",
        "accountEnabled": True,
        "userType": "Member",
        "Roles": [],
        "EligibleRoles": [],
        "Registration": {"isMfaCapable": True},
    }
    return {**base, **attrs}


def test_entra_user() -> None:
    view = identity_of(_res("azure.entra.user", _entra(), provider="azure"))
    assert view is not None
    assert (view.email, view.login, view.active, view.human, view.admin, view.mfa) == (
        "bob@contoso.com",
        "Bob@Contoso.com",
        True,
        True,
        False,
        True,
    )
    assert view.unknown == frozenset()


def test_entra_admin_disabled_no_mfa() -> None:
    attrs = _entra(accountEnabled=False, EligibleRoles=[{"name": "Global Administrator"}])
    attrs["Registration"] = {"isMfaCapable": False}
    view = identity_of(_res("azure.entra.user", attrs))
    assert view is not None and (view.active, view.admin, view.mfa) == (False, True, False)


def test_entra_guest_upn_is_no_email() -> None:
    view = identity_of(_res("azure.entra.user", _entra(userPrincipalName="eve_partner.com#EXT#@contoso.com")))
    assert view is not None and view.email is None


def test_entra_mfa_unknown_when_not_collected() -> None:
    attrs = _entra()
    del attrs["Registration"]
    # no registration report and no methods: unknown, as the Entra checks say error
    view = identity_of(_res("azure.entra.user", attrs, {"Registration": "403 no licence"}))
    assert view is not None and view.mfa is None
    # methods but no tenant policy to judge them by: unknown
    attrs["AuthenticationMethods"] = [{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod"}]
    view = identity_of(_res("azure.entra.user", attrs, {"Registration": "403 no licence"}))
    assert view is not None and view.mfa is None
    # a method Entra never gates by policy (Windows Hello) with the tenant's policy: capable
    tenant = _res("azure.entra.tenant", {"AuthenticationMethodsPolicy": {"authenticationMethodConfigurations": []}})
    attrs["AuthenticationMethods"] = [{"@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"}]
    view = identity_of(_res("azure.entra.user", attrs, {"Registration": "403"}), tenant=tenant)
    assert view is not None and view.mfa is True
    # FIDO2 registered but disabled in the policy: not capable (as azure.entra.user_mfa_registered says)
    attrs["AuthenticationMethods"] = [{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod"}]
    view = identity_of(_res("azure.entra.user", attrs, {"Registration": "403"}), tenant=tenant)
    assert view is not None and view.mfa is False


def test_entra_roles_unknown() -> None:
    view = identity_of(_res("azure.entra.user", _entra(), {"Roles": "403", "EligibleRoles": "403"}))
    assert view is not None and view.admin is False and view.unknown == {"admin"}
    view = identity_of(_res("azure.entra.user", _entra(Roles=[{"name": "x"}]), {"EligibleRoles": "no P2"}))
    assert view is not None and view.admin is True and view.unknown == frozenset()


# -- IAM users ---------------------------------------------------------------------------------------


def _row(password: str = "true", mfa: str = "true", key1: str = "false", key2: str = "false") -> dict[str, str]:
    return {"password_enabled": password, "mfa_active": mfa, "access_key_1_active": key1, "access_key_2_active": key2}


def _iam(row: Any, policies: Any = (), errors: dict[str, str] | None = None) -> IdentityView:
    attrs = {"UserName": "carol", "Credentials": row, "AttachedManagedPolicies": list(policies)}
    view = identity_of(_res("aws.iam.user", attrs, errors, provider="aws"))
    assert view is not None
    return view


def test_iam_console_user() -> None:
    view = _iam(_row(mfa="false"), [{"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}])
    assert (view.email, view.login, view.active, view.human, view.admin, view.mfa) == (
        None,
        "carol",
        True,
        True,
        True,
        False,
    )


def test_iam_keys_only_is_machine_and_active() -> None:
    view = _iam(_row(password="false", mfa="false", key2="true"))
    assert (view.active, view.human, view.admin) == (True, False, False)


def test_iam_nothing_usable_is_inactive() -> None:
    assert not _iam(_row(password="false")).active


def test_iam_credentials_not_collected() -> None:
    view = _iam(None, errors={"Credentials": "AccessDenied", "AuthorizationDetails": "AccessDenied"})
    assert view.mfa is None and view.active and view.unknown == {"active", "human", "admin"}
    view = _iam({"password_enabled": "not_supported", "mfa_active": "maybe"})
    assert view.mfa is None and "human" in view.unknown and "active" in view.unknown


# -- never raises ----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    rtype=st.sampled_from(sorted(IDENTITY_TYPES) + ["aws.s3.bucket"]),
    attrs=st.dictionaries(_KEYS, _JSON, max_size=6),
    errors=st.dictionaries(_KEYS, st.text(max_size=8), max_size=3),
    tenant_attrs=st.none() | st.dictionaries(st.just("AuthenticationMethodsPolicy") | _KEYS, _JSON, max_size=3),
)
def test_arbitrary_attributes_never_raise(
    rtype: str, attrs: dict[str, Any], errors: dict[str, str], tenant_attrs: dict[str, Any] | None
) -> None:
    tenant = None if tenant_attrs is None else _res("azure.entra.tenant", tenant_attrs)
    view = identity_of(_res(rtype, attrs, errors), tenant=tenant)
    if rtype not in IDENTITY_TYPES:
        assert view is None
        return
    assert view is not None
    assert isinstance(view.active, bool) and isinstance(view.human, bool) and isinstance(view.admin, bool)
    assert view.mfa is None or isinstance(view.mfa, bool)
    assert view.email is None or (view.email == view.email.lower() and "@" in view.email)
    assert isinstance(view.login, str) and view.login
    # a fact the collector could not read is never a confident answer
    carried = rtype in ("okta.user", "googleworkspace.user", "github.member")
    if ("identity" in errors and carried) or ("Credentials" in errors and rtype == "aws.iam.user"):
        assert view.mfa is None
    if rtype == "azure.entra.user" and "Registration" in errors and "AuthenticationMethods" in errors:
        assert view.mfa is None


@settings(max_examples=100, deadline=None)
@given(record=st.dictionaries(st.sampled_from(["email", "login", "active", "human", "admin", "mfa"]), _JSON))
def test_odd_identity_records(record: dict[str, Any]) -> None:
    view = identity_of(_res("okta.user", {"identity": record}))
    assert view is not None
    if not isinstance(record.get("mfa"), bool):
        assert view.mfa is None
    if not isinstance(record.get("active"), bool):
        assert view.active and "active" in view.unknown
