"""The devices page with devices: a Fleet collection (the fake Fleet REST API on loopback) stored by
the real pipeline, every host listed with its antivirus, disk encryption, OS and the check-in its
check recorded, each linking to its resource page, for the operator and an auditor alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from posture_demo.fake_devices import AV_POLICY, FW_POLICY, FakeFleet, demo_hosts

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.store import Store
from collectors.endpoints.config import EndpointSource
from tests.integration.console.conftest import Served, client, login, serve


@pytest.fixture
def devices_console(tmp_path: Path) -> Iterator[Served]:
    fleet = FakeFleet(demo_hosts(), token="t0ken-fleet")
    fleet.start()
    os.environ["CONSOLE_TEST_FLEET_TOKEN"] = "t0ken-fleet"
    db = f"sqlite:///{tmp_path / 'devices.db'}"
    store = Store(db)
    store.upgrade()
    source = EndpointSource.model_validate(
        {
            "name": "fleet",
            "provider": "endpoints",
            "kind": "fleet",
            "fleet": {
                "url": fleet.url,
                "token": "env:CONSOLE_TEST_FLEET_TOKEN",
                "policies": {"antivirus": AV_POLICY, "firewall": FW_POLICY},
            },
        }
    )
    result = Pipeline(parse_config("{}", env={}), store).run_cycle(source)
    assert result.ok, result.error
    http, served = serve(db, store)
    try:
        yield served
    finally:
        http.stop()
        fleet.stop()
        store.close()


@pytest.mark.parametrize("user", ["olivia", "audrey"])
def test_every_device_is_listed_with_its_state(devices_console: Served, user: str) -> None:
    with client(devices_console) as c:
        assert login(c, user).status_code == 303
        page = c.get("/console/devices")
        resource = c.get("/console/resource", params={"id": _first_link(page.text)})
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    hosts = demo_hosts()
    assert f"{len(hosts)} device" in text
    for host in hosts:
        assert str(host.get("display_name") or host["hostname"]) in text
    assert "Last check-in" in text and "No endpoint source has collected devices" not in text
    # each device's last check-in as the check-in check recorded it (the time itself is an observation)
    rows = text[text.index("<tbody>") : text.index("</tbody>")].split("<tr>")[1:]
    assert len(rows) == len(hosts)
    assert all("checked in within" in r or "last checked in on" in r for r in rows), rows
    assert resource.status_code == 200, resource.text[:500]


def _first_link(page: str) -> str:
    marker = "/console/resource?id="
    start = page.index(marker) + len(marker)
    return unquote(unescape(page[start : page.index('"', start)]))
