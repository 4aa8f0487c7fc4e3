"""The Azure collector against a fake tenant on the wire: real azure-identity, real TLS, real httpx."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from posture_demo.fake_azure import DEMO_SUBSCRIPTION, DEMO_TENANT, FakeAzure

from agent.evaluate import evaluate
from agent.models import Snapshot, Status
from agent.registry import load_checks
from collectors import CollectContext
from collectors.azure import ALLOWED, ReadOnlyViolation, collect
from collectors.azure.config import AzureCredentials, AzureSource
from collectors.azure.credential import make_credential
from collectors.azure.http import AuthError, AzureHttp, allowed
from collectors.endpoints.config import EndpointSource
from collectors.endpoints.intune import collect_intune


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, service: str, operation: str, code: str | None) -> None:
        self.seen.append((service, operation, code))


def run(fake: FakeAzure, **extra: Any) -> tuple[list[Snapshot], Calls]:
    calls = Calls()
    snaps = collect(AzureSource.model_validate(fake.source_config(**extra)), CollectContext(on_api_call=calls))
    return snaps, calls


def by_account(snaps: list[Snapshot]) -> dict[str, Snapshot]:
    return {s.account: s for s in snaps}


def test_one_snapshot_per_tenant_and_subscription(fake: FakeAzure) -> None:
    snaps, calls = run(fake)
    got = by_account(snaps)
    assert set(got) == {DEMO_TENANT, DEMO_SUBSCRIPTION}
    assert all(s.complete and s.provider == "azure" for s in snaps)
    entra, sub = got[DEMO_TENANT], got[DEMO_SUBSCRIPTION]
    assert len(entra.of_type("azure.entra.user")) == 6
    carol = entra.get(f"entra:{DEMO_TENANT}:user:u-carol")
    assert carol is not None and carol.attributes["Registration"]["isMfaRegistered"] is False
    assert carol.attributes["Roles"][0]["name"] == "Global Administrator"
    assert entra.of_type("azure.entra.tenant")[0].attributes["SecurityDefaults"] == {"isEnabled": False}
    assert len(sub.of_type("azure.storage.account")) == 2 and len(sub.of_type("azure.security.pricing")) == 5
    server = sub.of_type("azure.sql.server")[0]
    assert server.attributes["AuditingSettings"]["properties"]["state"] == "Disabled"
    assert server.id.startswith(f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/")
    assert all(code is None for _, _, code in calls.seen)
    assert ("graph", "ListUsers", None) in calls.seen and ("arm", "ListSubscriptions", None) in calls.seen


@pytest.mark.parametrize(
    "api,path",
    [
        ("graph", "/v1.0/users"),
        ("graph", "/v1.0/reports/authenticationMethods/userRegistrationDetails"),
        ("graph", "/v1.0/roleManagement/directory/roleAssignments"),
        ("graph", "/v1.0/identity/conditionalAccess/policies"),
        ("arm", "/Microsoft.Storage/storageAccounts"),
        ("arm", "/Microsoft.Network/networkSecurityGroups"),
        ("arm", "/Microsoft.Security/pricings"),
    ],
)
def test_every_list_call_follows_paging_past_the_first_page(fake: FakeAzure, api: str, path: str) -> None:
    fake.page_size = 1
    tenant = fake.tenant.graph if api == "graph" else fake.tenant.arm
    key = next(k for k in tenant if k.endswith(path))
    if len(tenant[key]) < 2:  # make sure there is a second page to follow
        tenant[key] = tenant[key] + [dict(tenant[key][0], id=f"{tenant[key][0]['id']}-2")]
    snaps, _ = run(fake)
    pages = [r for r in fake.calls(api, path + "$") if r[3] == 200]
    assert len(pages) == len(tenant[key]) >= 2, "each page fetched once, through the next link"
    assert all(s.complete for s in snaps)


def test_all_items_collected_with_tiny_pages(fake: FakeAzure) -> None:
    fake.page_size = 1
    snaps, _ = run(fake)
    got = by_account(snaps)
    assert len(got[DEMO_TENANT].of_type("azure.entra.user")) == 6
    assert len(got[DEMO_SUBSCRIPTION].of_type("azure.network.nsg")) == 2


def test_429_retry_after_is_honoured(fake: FakeAzure) -> None:
    fake.fail("graph", r"^/v1\.0/users$", 429, times=1, retry_after="1")
    t0 = time.monotonic()
    snaps, calls = run(fake)
    assert time.monotonic() - t0 >= 1.0
    assert by_account(snaps)[DEMO_TENANT].complete
    assert ("graph", "ListUsers", "TooManyRequests") in calls.seen
    statuses = [r[3] for r in fake.calls("graph", r"^/v1\.0/users$")]
    assert statuses[:2] == [429, 200]


def test_retries_are_bounded(fake: FakeAzure) -> None:
    fake.fail("arm", r"/Microsoft\.KeyVault/vaults$", 503, times=-1, retry_after="0")
    snaps, _ = run(fake, max_retries=2)
    sub = by_account(snaps)[DEMO_SUBSCRIPTION]
    assert [e.resource_type for e in sub.errors] == ["azure.keyvault.vault"]
    assert len(fake.calls("arm", r"/Microsoft\.KeyVault/vaults$")) == 3
    assert sub.of_type("azure.storage.account"), "the rest of the subscription is still collected"


def test_403_becomes_errors_and_error_results(fake: FakeAzure) -> None:
    fake.fail("graph", r"userRegistrationDetails", 403, times=-1)
    fake.fail("arm", r"/auditingSettings/default$", 403, times=-1)
    fake.fail("arm", r"/Microsoft\.Storage/storageAccounts$", 403, times=-1)
    snaps, _ = run(fake)
    checks = [c for c in load_checks().values() if c.id.startswith("azure.")]
    findings = [f for s in snaps for f in evaluate(s, checks)]
    mfa = [f for f in findings if f.check_id == "azure.entra.user_mfa_registered" and f.status != Status.NOT_APPLICABLE]
    assert mfa and all(f.status == Status.ERROR and "Authorization_RequestDenied" in f.message for f in mfa)
    audit = [f for f in findings if f.check_id == "azure.sql.server_auditing_enabled"]
    assert len(audit) == 2 and all(f.status == Status.ERROR for f in audit)  # both SQL servers
    blob = [f for f in findings if f.check_id == "azure.storage.no_public_blob_access"]
    assert [f.status for f in blob] == [Status.ERROR] and blob[0].resource_id.startswith("scope:azure/")


def test_no_sign_in_activity_without_p1_falls_back(fake: FakeAzure) -> None:
    fake.fail("graph", r"^/v1\.0/users$", 403, times=1, query="signInActivity")
    snaps, _ = run(fake)
    users = by_account(snaps)[DEMO_TENANT].of_type("azure.entra.user")
    assert len(users) == 6 and all("SignInActivity" in u.errors for u in users)


def test_subscription_filter(fake: FakeAzure) -> None:
    snaps, _ = run(fake, subscriptions=["contoso-prod"], entra=False)
    assert [s.account for s in snaps] == [DEMO_SUBSCRIPTION]
    snaps, _ = run(fake, subscriptions=["other"], entra=False)
    assert snaps == []


def test_wrong_secret_stops_the_run_with_one_line_and_no_secret(fake: FakeAzure) -> None:
    real = fake.tenant.client_secret
    fake.tenant.client_secret = "rotated-" + real
    with pytest.raises(AuthError) as info:
        run(fake)
    text = str(info.value)
    assert "could not get a token" in text and "AADSTS7000215" in text
    assert real not in text and "\n" not in text


def test_graph_token_is_not_sent_to_arm_and_tokens_are_cached(fake: FakeAzure) -> None:
    run(fake)
    assert fake.token_requests == 2  # one per API scope, reused for every call
    assert not [r for r in fake.requests if r[3] == 401]


def test_read_only_guard_refuses_before_sending(fake: FakeAzure) -> None:
    src = AzureSource.model_validate(fake.source_config())
    creds = src.credentials()
    before = len(fake.requests)
    with AzureHttp(make_credential(creds), creds, CollectContext()) as http:
        with pytest.raises(ReadOnlyViolation):
            http.client.post(creds.graph_url + "/v1.0/users", json={})
        with pytest.raises(ReadOnlyViolation):
            http.client.delete(creds.arm_url + f"/subscriptions/{DEMO_SUBSCRIPTION}")
        with pytest.raises(ReadOnlyViolation):
            http.get("graph", "/v1.0/groups", operation="x")  # GET, but not on the allowlist
        with pytest.raises(ReadOnlyViolation):
            http.client.get("https://example.invalid/v1.0/users")  # a token never goes to another host
    assert len(fake.requests) == before, "nothing reached the server"


def test_a_next_link_to_another_host_is_refused(fake: FakeAzure) -> None:
    fake.tenant.arm[f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.KeyVault/vaults"] = {
        "value": [],
        "nextLink": "https://attacker.example/subscriptions",
    }
    with pytest.raises(ReadOnlyViolation):
        run(fake)


def test_allowlist_is_get_only() -> None:
    assert {m for m, _, _ in ALLOWED} == {"GET"}
    assert allowed("GET", "arm", f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.Storage/storageAccounts")
    assert not allowed("PUT", "arm", f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.Storage/storageAccounts")
    assert not allowed(
        "GET",
        "arm",
        f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.Storage/storageAccounts/a/listKeys",
    )


def test_untrusted_ca_is_refused(fake: FakeAzure) -> None:
    cfg = fake.source_config()
    cfg.pop("ca_bundle")
    src = AzureSource.model_validate(cfg)
    creds = src.credentials()
    with (
        AzureHttp(
            make_credential(AzureCredentials.model_validate({**fake.credentials()})), creds, CollectContext()
        ) as http,
        pytest.raises(httpx.ConnectError),
    ):
        http.client.get(creds.graph_url + "/v1.0/users")


def test_intune_devices(fake: FakeAzure) -> None:
    fake.page_size = 1
    src = EndpointSource.model_validate(fake.intune_config())
    [snap] = collect_intune(src, CollectContext())
    assert snap.provider == "endpoints" and snap.account == DEMO_TENANT and snap.complete
    devices = {r.name: r for r in snap.of_type("endpoint.device")}
    assert {"LAPTOP-ALICE", "LAPTOP-BOB"} <= set(devices)
    assert devices["LAPTOP-ALICE"].attributes["antivirus"][0]["enabled"] is True
    bob = devices["LAPTOP-BOB"].attributes
    assert bob["antivirus"][0] == {
        "product": "Microsoft Defender Antivirus",
        "enabled": False,
        "up_to_date": False,
        "definitions_updated": None,
    }
    assert bob["platform"] == "windows" and bob["disk_encryption"] is False and bob["owner"] == "bob@contoso.example"
    assert len([r for r in fake.calls("graph", r"managedDevices$") if r[3] == 200]) == len(devices)  # one a page


def test_intune_protection_state_path_is_configurable_and_errors_are_kept(fake: FakeAzure) -> None:
    for dev in ("dev-1", "dev-2"):
        fake.tenant.graph[f"/v1.0/deviceManagement/managedDevices/{dev}/windowsProtectionState"] = (
            fake.tenant.graph.pop(f"/beta/deviceManagement/managedDevices/{dev}/windowsProtectionState")
        )
    fake.fail("graph", r"dev-2/windowsProtectionState", 403, times=-1)
    cfg = fake.intune_config()
    cfg["azure"]["protection_state_path"] = "/v1.0/deviceManagement/managedDevices/{id}/windowsProtectionState"
    [snap] = collect_intune(EndpointSource.model_validate(cfg), CollectContext())
    devices = {r.name: r for r in snap.of_type("endpoint.device")}
    assert devices["LAPTOP-ALICE"].attributes["antivirus"][0]["enabled"] is True
    assert devices["LAPTOP-BOB"].attributes["antivirus"] is None
    assert "Authorization_RequestDenied" in devices["LAPTOP-BOB"].errors["antivirus"]


def test_intune_listing_denied_is_an_error_for_devices(fake: FakeAzure) -> None:
    fake.fail("graph", r"managedDevices$", 403, times=-1)
    [snap] = collect_intune(EndpointSource.model_validate(fake.intune_config()), CollectContext())
    assert [e.resource_type for e in snap.errors] == ["endpoint.device"]
