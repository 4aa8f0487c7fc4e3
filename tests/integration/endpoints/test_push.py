"""POST /v1/devices over HTTP: good, forged, replayed, oversized and malformed reports; then the
push source's cycle turns the latest report per device into findings."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from posture_demo.fake_devices import push_report
from prometheus_client import CollectorRegistry

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.errors import StoreError
from agent.http import AgentHTTPServer
from agent.models import Status
from agent.push import register_push, sign
from agent.store.devices import device_reports, latest_reports
from tests.integration.http_wire import exchange, request_bytes

KEY = "shared-secret-for-tests"
CONFIG = """
sources:
  - name: laptops
    provider: endpoints
    kind: push
    push:
      shared_key: env:TEST_PUSH_KEY
      max_report_bytes: 4096
"""


def now_iso(days: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(device: str = "mac-001", **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": 1,
        "device_id": device,
        "hostname": f"{device}.local",
        "platform": "macos",
        "owner": "alice@example.com",
        "collected_at": now_iso(),
        "os": {"name": "macOS", "version": "14.5", "build": "23F79", "supported": True, "last_update": now_iso(5)},
        "antivirus": [{"product": "XProtect", "enabled": True, "up_to_date": True, "definitions_updated": now_iso(1)}],
        "disk_encryption": True,
        "firewall": True,
        "screen_lock_seconds": 300,
    }
    doc.update(kw)
    return doc


@pytest.fixture
def agent(store) -> Iterator[tuple[str, Any, Any]]:  # type: ignore[no-untyped-def]
    os.environ["TEST_PUSH_KEY"] = KEY
    config = parse_config(CONFIG, env={})
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}))
    assert register_push(http, config, store) is not None
    http.start()
    host, port = http.address
    yield f"http://{host}:{port}", store, config
    http.stop()


def count(store: Any) -> int:
    with store.engine.connect() as conn:
        return len(list(conn.execute(device_reports.select())))


def chain_entries(store: Any) -> int:
    from agent.store.schema import evidence_log

    with store.engine.connect() as conn:
        return len(list(conn.execute(evidence_log.select().where(evidence_log.c.kind == "device_report"))))


def test_good_report_is_accepted_and_stored(agent: tuple[str, Any, Any]) -> None:
    url, store, _ = agent
    r = push_report(url, KEY, report())
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "accepted"
    [saved] = latest_reports(store, "laptops", datetime.now(UTC) - timedelta(days=1))
    assert saved.device_id == "mac-001" and saved.body["hostname"] == "mac-001.local"


@pytest.mark.parametrize(
    ("mutate", "status", "reason"),
    [
        ("wrong-key", 401, "signature"),
        ("tampered-body", 401, "signature"),
        ("missing-headers", 401, "headers"),
        ("old-timestamp", 401, "window"),
        ("oversized", 413, "limit"),
        ("not-json", 400, "not valid JSON"),
        ("bad-schema", 422, "schema"),
        ("unknown-field", 422, "schema"),
        ("impossible-date", 422, "collected_at"),
        ("arabic-digits", 422, "collected_at"),
        ("device-mismatch", 422, "differs"),
        ("wrong-content-type", 415, "application/json"),
    ],
)
def test_refused_reports_store_nothing(agent: tuple[str, Any, Any], mutate: str, status: int, reason: str) -> None:
    url, store, _ = agent
    doc = report()
    ts = str(int(time.time()))
    nonce = "n" * 32
    body = json.dumps(doc).encode()
    key = KEY
    headers = {
        "Content-Type": "application/json",
        "X-Posture-Device": "mac-001",
        "X-Posture-Timestamp": ts,
        "X-Posture-Nonce": nonce,
    }
    if mutate == "wrong-key":
        key = "guessed"
    elif mutate == "old-timestamp":
        ts = str(int(time.time()) - 3600)
        headers["X-Posture-Timestamp"] = ts
    elif mutate == "oversized":
        body = (
            json.dumps(
                report(owner="x" * 200, hostname="h" * 250, antivirus=[{"product": "p" * 120} for _ in range(16)])
            ).encode()
            + b" " * 4096
        )
    elif mutate == "not-json":
        body = b"{not json"
    elif mutate == "bad-schema":
        body = json.dumps(report(platform="amiga")).encode()
    elif mutate == "impossible-date":  # the pattern matches; no calendar has month 13
        body = json.dumps(report(collected_at="2026-13-45T25:61:00Z")).encode()
    elif mutate == "arabic-digits":  # Unicode digits, which \\d in a Python pattern matches
        body = json.dumps(report(collected_at="\u0662\u0660\u0662\u0666-01-01T00:00:00Z")).encode()
    elif mutate == "unknown-field":
        body = json.dumps(report(password="hunter2")).encode()
    elif mutate == "device-mismatch":
        body = json.dumps(report(device="other-device")).encode()
    elif mutate == "wrong-content-type":
        headers["Content-Type"] = "text/plain"
    headers["X-Posture-Signature"] = sign(key, ts, nonce, "mac-001", body)
    if mutate == "tampered-body":
        body = body.replace(b'"firewall": true', b'"firewall": false')
    if mutate == "missing-headers":
        del headers["X-Posture-Signature"]
    r = httpx.post(url + "/v1/devices", content=body, headers=headers, timeout=10)
    assert r.status_code == status, r.text
    assert reason.lower() in r.json()["error"].lower()
    assert KEY not in r.text
    assert count(store) == 0


def test_replayed_report_is_refused(agent: tuple[str, Any, Any]) -> None:
    url, store, _ = agent
    ts, nonce = int(time.time()), "replayed-nonce-0123456789"
    doc = report()
    body = json.dumps(doc).encode()
    first = push_report(url, KEY, doc, timestamp=ts, nonce=nonce, body=body)
    assert first.status_code == 202 and "repeat" not in first.json()
    # the very same request again (a device whose connection dropped before the 202): the same answer
    again = push_report(url, KEY, doc, timestamp=ts, nonce=nonce, body=body)
    assert again.status_code == 202, again.text
    assert again.json() == {**first.json(), "repeat": True}
    # the nonce with another document, or an older timestamp: refused
    other = push_report(url, KEY, doc, timestamp=ts, nonce=nonce, body=json.dumps(report(firewall=False)).encode())
    assert other.status_code == 409, other.text
    older = push_report(url, KEY, doc, timestamp=ts - 10)
    assert older.status_code == 409
    assert count(store) == 1
    assert chain_entries(store) == 1  # the repeat entered nothing in the evidence chain


def test_per_device_keys(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"win-007": "key-of-win-007"}))
    config = parse_config(
        f"""
sources:
  - name: fleet-a
    provider: endpoints
    kind: push
    push: {{device_keys: "file:{keys}"}}
  - name: fleet-b
    provider: endpoints
    kind: push
    push: {{shared_key: env:TEST_PUSH_KEY}}
""",
        env={},
    )
    os.environ["TEST_PUSH_KEY"] = KEY
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}))
    register_push(http, config, store)
    http.start()
    try:
        url = "http://{}:{}".format(*http.address)
        doc = report("win-007", platform="windows")
        assert push_report(url, "key-of-win-007", doc, source="fleet-a").status_code == 202
        assert push_report(url, KEY, doc, source="fleet-a").status_code == 401  # another device's key
        assert push_report(url, "key-of-win-007", report("mac-2"), source="fleet-a").status_code == 401
        no_source = push_report(url, KEY, doc)
        assert no_source.status_code == 400 and "X-Posture-Source" in no_source.json()["error"]
    finally:
        http.stop()


def test_push_cycle_turns_latest_reports_into_findings(agent: tuple[str, Any, Any]) -> None:
    url, store, config = agent
    assert push_report(url, KEY, report("mac-001", antivirus=[])).status_code == 202
    time.sleep(1.1)  # reports must be strictly newer (whole-second timestamps)
    assert push_report(url, KEY, report("mac-001")).status_code == 202
    assert (
        push_report(url, KEY, report("linux-9", platform="linux", antivirus=[], disk_encryption=False)).status_code
        == 202
    )
    pipeline = Pipeline(config, store)
    result = pipeline.run_cycle(config.sources[0])
    assert result.ok, result.error
    [snap] = result.snapshots
    assert {r.name for r in snap.resources} == {"mac-001.local", "linux-9.local"}
    by = {(f.resource_id.rsplit(":", 1)[-1], f.check_id): f.status for f in result.findings}
    assert by[("mac-001", "endpoint.device.antivirus_running")] == Status.PASS  # the latest report counts
    assert by[("linux-9", "endpoint.device.antivirus_running")] == Status.FAIL
    assert by[("linux-9", "endpoint.device.disk_encryption")] == Status.FAIL


def test_published_schema_is_the_one_enforced() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    assert (root / "docs" / "device-report.schema.json").read_bytes() == (
        root / "agent" / "device-report.schema.json"
    ).read_bytes()


@pytest.mark.skipif(not all(__import__("shutil").which(t) for t in ("curl", "openssl")), reason="needs curl, openssl")
def test_the_shell_reporting_script_signs_and_is_accepted(agent: tuple[str, Any, Any]) -> None:
    import subprocess
    from pathlib import Path

    url, store, _ = agent
    script = Path(__file__).resolve().parents[3] / "deploy" / "endpoint" / "posture-report.sh"
    env = {**os.environ, "POSTURE_URL": url, "POSTURE_DEVICE_ID": "script-host", "POSTURE_DEVICE_KEY": KEY}
    out = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr + out.stdout
    assert '"accepted"' in out.stdout
    assert [r.device_id for r in latest_reports(store, "laptops", datetime.now(UTC) - timedelta(days=1))] == [
        "script-host"
    ]


# -- input that used to get no answer (a traceback on stderr instead), and the store failing --------


def signed_request(
    body: bytes, *, ts: str | None = None, content_type: bytes = b"application/json", **over: bytes
) -> bytes:
    """A raw POST /v1/devices, signed for ``body``; ``over`` replaces header values byte for byte."""
    ts = ts or str(int(time.time()))
    nonce = os.urandom(16).hex()
    headers: dict[str, bytes] = {
        "Host": b"agent",
        "Content-Type": content_type,
        "Content-Length": str(len(body)).encode(),
        "X-Posture-Device": b"mac-001",
        "X-Posture-Timestamp": ts.encode(),
        "X-Posture-Nonce": nonce.encode(),
        "X-Posture-Signature": sign(KEY, ts, nonce, "mac-001", body).encode(),
    }
    for name, value in over.items():
        headers[name.replace("_", "-")] = value
    return request_bytes("POST", "/v1/devices", list(headers.items()), body)


GOOD = json.dumps(report()).encode()


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (
            signed_request(GOOD, X_Posture_Signature="\u00e9".encode() * 32),
            400,
            "x-posture-signature is not printable ASCII",
        ),
        (signed_request(GOOD, Content_Length="\u0664\u0660".encode()), 400, "malformed"),  # Arabic-Indic digits
        (signed_request(b"[" * 1000 + b"]" * 1000), 400, "nested deeper than 32"),
        (signed_request(b'{"a":' * 600 + b"1" + b"}" * 600), 400, "nested deeper than 32"),
        (signed_request(GOOD.replace(b'"alice@example.com"', b'"\\udc00"')), 400, "lone surrogate"),
        (signed_request(GOOD.replace(b"alice", b"\xed\xa0\x80")), 400, "not UTF-8"),
        (
            signed_request(GOOD.replace(b'"screen_lock_seconds": 300', b'"screen_lock_seconds": 1e999')),
            400,
            "out of range",
        ),
        (
            signed_request(GOOD.replace(b'"screen_lock_seconds": 300', b'"screen_lock_seconds": NaN')),
            400,
            "not valid JSON",
        ),
        (signed_request(GOOD, ts="9" * 19), 401, "away from the agent's clock"),
        (signed_request(GOOD, ts="9" * 400), 401, "malformed"),
        (signed_request(GOOD, content_type=b"application/jsonp"), 415, "application/json"),
        (signed_request(GOOD, content_type=b"application/json-seq"), 415, "application/json"),
        (signed_request(GOOD)[:-10], 400, "incomplete request"),  # shorter than its Content-Length
        (signed_request(GOOD, Transfer_Encoding=b"chunked"), 411, "Content-Length"),
    ],
    ids=[
        "non-ascii-signature",
        "non-ascii-content-length",
        "deep-array",
        "deep-object",
        "lone-surrogate-escape",
        "encoded-surrogate",
        "huge-number",
        "nan",
        "huge-timestamp",
        "enormous-timestamp",
        "jsonp",
        "json-seq",
        "short-body",
        "chunked",
    ],
)
def test_bad_input_is_answered_and_stores_nothing(
    agent: tuple[str, Any, Any], capfd: pytest.CaptureFixture[str], data: bytes, status: int, words: str
) -> None:
    url, store, _ = agent
    host, port = url.removeprefix("http://").split(":")
    answer = exchange((host, int(port)), data, half_close=True)
    assert answer.status == status, answer
    assert words.lower() in answer.json()["error"].lower()  # type: ignore[index]
    assert count(store) == 0
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_content_type_parameters_and_case_are_fine(agent: tuple[str, Any, Any], content_type: str) -> None:
    url, store, _ = agent
    host, port = url.removeprefix("http://").split(":")
    answer = exchange((host, int(port)), signed_request(GOOD, content_type=content_type.encode()))
    assert answer.status == 202, answer
    assert count(store) == 1


def test_a_failing_store_is_503_and_stores_nothing(
    agent: tuple[str, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, store, _ = agent
    import agent.store.devices as devices

    with store.engine.begin() as conn:  # the driver's own error, from the first read
        conn.exec_driver_sql("ALTER TABLE device_reports RENAME TO device_reports_away")
    try:
        gone = push_report(url, KEY, report())
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE device_reports_away RENAME TO device_reports")
    assert gone.status_code == 503 and "nothing was stored" in gone.json()["error"]
    assert gone.headers["Retry-After"].isdigit()

    def fail(*args: Any, **kwargs: Any) -> int:
        raise StoreError("could not store device report: OperationalError")

    monkeypatch.setattr(devices, "save_report", fail)  # the write fails after every check passed
    failed = push_report(url, KEY, report())
    assert failed.status_code == 503, failed.text
    assert count(store) == 0
    monkeypatch.undo()
    assert push_report(url, KEY, report()).status_code == 202  # and the next report is stored
    assert count(store) == 1
