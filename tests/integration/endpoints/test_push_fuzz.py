"""Property: whatever arrives at the push endpoint over the wire (any method, path, header bytes,
framing or body, signed or not), the client gets an HTTP answer with a documented status, every
error answer is JSON with an ``error``, a report is stored exactly when the answer is 202, the
server keeps serving, and no traceback reaches stderr or the log. Raw sockets, so that non-ASCII
header bytes and lengths that lie can be sent."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from agent.config import parse_config
from agent.http import AgentHTTPServer, HTTPLimits
from agent.push import sign
from agent.store import Store
from agent.store.devices import device_reports
from tests.integration.http_wire import captured_log, exchange

KEY = "fuzz-shared-key"
CONFIG = """
sources:
  - name: laptops
    provider: endpoints
    kind: push
    push:
      shared_key: env:FUZZ_PUSH_KEY
      max_report_bytes: 4096
"""
# the statuses README.md documents for POST /v1/devices and the port
DOCUMENTED = {202, 400, 401, 404, 405, 408, 409, 411, 413, 415, 422, 431}
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass
class Agent:
    http: AgentHTTPServer
    store: Store

    def stored(self) -> int:
        with self.store.engine.connect() as conn:
            return len(list(conn.execute(device_reports.select())))


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    saved = os.environ.get("FUZZ_PUSH_KEY")
    os.environ["FUZZ_PUSH_KEY"] = KEY
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'posture.db'}")
    store.upgrade()
    from agent.push import register_push

    http = AgentHTTPServer(
        "127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}), limits=HTTPLimits(head_timeout=10, body_timeout=10)
    )
    assert register_push(http, parse_config(CONFIG, env={}), store) is not None
    http.start()
    try:
        yield Agent(http, store)
    finally:
        http.stop()
        store.close()
        if saved is None:
            os.environ.pop("FUZZ_PUSH_KEY", None)
        else:
            os.environ["FUZZ_PUSH_KEY"] = saved


# -- what a request is made of ------------------------------------------------------------------------

DEVICE_IDS = st.from_regex(r"\A[a-z][a-z0-9-]{2,20}\Z")
HEADER_BYTES = st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\0", b""))
TOKENS = st.from_regex(r"\A[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}\Z")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(device: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "device_id": device,
        "hostname": f"{device}.local",
        "platform": "macos",
        "collected_at": now_iso(),
        "os": {"name": "macOS", "version": "14.5", "supported": True, "last_update": now_iso()},
        "antivirus": [{"product": "XProtect", "enabled": True, "up_to_date": True}],
        "disk_encryption": True,
        "firewall": True,
        "screen_lock_seconds": 300,
    }


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [*report("x"), "os", "antivirus", "edr", "mdm", "password", "tamper_protection", "serial", "owner", "agent", "junk"]
)
NUMBERS = st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "9" * 5000, "9" * 400, "1.5", "-1"])


@st.composite
def bodies(draw: st.DrawFn, device: str) -> bytes:
    """Random bytes, deep JSON, surrogates, huge numbers, valid JSON of the wrong shape, or a report
    (good, or with a bad field)."""
    kind = draw(
        st.sampled_from(
            ["report", "bad-field", "bytes", "deep", "surrogate", "raw-surrogate", "number", "json", "empty"]
        )
    )
    doc = report(device)
    if kind == "report":
        return json.dumps(doc).encode()
    if kind == "bad-field":
        doc[draw(FIELDS)] = draw(JSON_VALUES)
        return json.dumps(doc).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=5000))
    if kind == "deep":
        depth = draw(st.integers(1, 3000))
        opening, closing = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opening * depth + "1" + closing * depth).encode()
    if kind == "surrogate":
        field = draw(st.sampled_from(["hostname", "owner", "serial", "device_id"]))
        return json.dumps(doc).replace(f'"{field}": ', f'"{field}": "\\ud83d" , "x{field}": ', 1).encode()
    if kind == "raw-surrogate":
        return json.dumps(doc).encode().replace(b".local", b".\xed\xa0\x80local")
    if kind == "number":
        return json.dumps(doc).replace('"screen_lock_seconds": 300', f'"screen_lock_seconds": {draw(NUMBERS)}').encode()
    if kind == "json":
        return json.dumps(draw(JSON_VALUES), ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    return b""


@st.composite
def posture_headers(draw: st.DrawFn, device: str, body: bytes) -> list[tuple[str, bytes]]:
    """The X-Posture-* headers: signed correctly for the body, or broken in one way."""
    ts = str(int(time.time()))
    nonce = secrets.token_hex(16)
    how = draw(
        mostly("signed", st.sampled_from(["wrong-key", "huge-ts", "very-huge-ts", "non-ascii", "random", "none"]))
    )
    if how == "huge-ts":
        ts = "9" * 19
    elif how == "very-huge-ts":
        ts = "9" * 300
    key = "guessed" if how == "wrong-key" else KEY
    values: dict[str, bytes] = {
        "X-Posture-Device": device.encode(),
        "X-Posture-Timestamp": ts.encode(),
        "X-Posture-Nonce": nonce.encode(),
        "X-Posture-Signature": sign(key, ts, nonce, device, body).encode(),
    }
    if how == "non-ascii":
        name = draw(st.sampled_from(sorted(values)))
        values[name] = values[name][:8] + "\u00e9\u2603".encode() + values[name][8:]
    elif how == "random":
        values[draw(st.sampled_from(sorted(values)))] = draw(HEADER_BYTES)
    elif how == "none":
        values.pop(draw(st.sampled_from(sorted(values))))
    return list(values.items())


CONTENT_TYPES = st.sampled_from(
    [
        b"application/json",
        b"application/json; charset=utf-8",
        b"Application/JSON",
        b"application/jsonp",
        b"application/json-seq",
        b"application/x-json",
        b"text/json",
        b"text/plain",
        b"",
        b"application/json\xc3\xa9",
        b"multipart/form-data; boundary=x",
    ]
)
FRAMINGS = st.sampled_from(["short", "long", "none", "chunked", "two-lengths", "non-ascii"])


def frame(framing: str, body: bytes, extra: int) -> tuple[list[tuple[str, bytes]], bytes]:
    """The length headers and the bytes that follow the head."""
    if framing == "short":  # says more than it sends
        return [("Content-Length", str(len(body) + extra).encode())], body
    if framing == "long":  # sends more than it says
        return [("Content-Length", str(max(0, len(body) - extra)).encode())], body
    if framing == "none":
        return [], body
    if framing == "chunked":
        return [("Transfer-Encoding", b"chunked")], f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    if framing == "two-lengths":
        return [("Content-Length", str(len(body)).encode()), ("Content-Length", str(len(body) + extra).encode())], body
    if framing == "non-ascii":
        return [("Content-Length", str(len(body)).encode() + "\u00b2".encode())], body
    return [("Content-Length", str(len(body)).encode())], body


def mostly(usual: Any, unusual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` 4 times in 5, so that most requests get past the early checks to the later ones."""
    return st.integers(0, 4).flatmap(lambda i: unusual if i == 4 else st.just(usual))  # 0, the simplest, is usual


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(method, path, the whole request as bytes): a signed report, with a few things changed."""
    method = draw(
        mostly("POST", st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"]) | TOKENS)
    )
    path = draw(
        mostly(
            "/v1/devices",
            st.sampled_from(["/v1/devices?x=1", "/v1/devices/", "/V1/devices", "/v1/%64evices", "/"])
            | st.from_regex(r"\A/[!-~]{0,30}\Z")
            | st.binary(min_size=1, max_size=30).map(lambda b: "/" + b.decode("latin-1").replace(" ", "")),
        )
    )
    device = f"{draw(DEVICE_IDS)}-{secrets.token_hex(4)}"  # mostly new, so that a good report is not "not newer"
    body = draw(bodies(device))
    headers: list[tuple[str, bytes]] = [("Host", b"agent")]
    headers += draw(posture_headers(device, body))
    content_type = draw(mostly(b"application/json", st.none() | CONTENT_TYPES))
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    source = draw(mostly(None, st.sampled_from([b"laptops", b"other", b"", b"l\xc3\xa4ptops"])))
    if source is not None:
        headers.append(("X-Posture-Source", source))
    if draw(st.integers(0, 9)) == 0:
        headers.append(("Expect", b"100-continue"))
    headers += draw(mostly([], st.lists(st.tuples(TOKENS, HEADER_BYTES), min_size=1, max_size=2)))
    length_headers, payload = frame(draw(mostly("exact", FRAMINGS)), body, draw(st.integers(1, 100)))
    head = [f"{method} {path} HTTP/1.1".encode("latin-1", "replace")]
    head += [name.encode() + b": " + value for name, value in headers + length_headers]
    return method, path, b"\r\n".join(head) + b"\r\n\r\n" + payload


# -- the properties -------------------------------------------------------------------------------------


class Checker:
    def __init__(self, agent: Agent, capfd: pytest.CaptureFixture[str], log: Any) -> None:
        self.agent, self.capfd, self.log = agent, capfd, log
        self.seen = 0

    def check(self, method: str, data: bytes) -> int:
        before = self.agent.stored()
        answer = exchange(self.agent.http.address, data, half_close=True, head=method == "HEAD", timeout=60)
        assert answer.status in DOCUMENTED | {200}, answer
        event(f"status {answer.status}")  # the spread shows with --hypothesis-show-statistics
        if answer.status >= 400 and method != "HEAD":
            error = json.loads(answer.body)
            assert isinstance(error, dict) and isinstance(error.get("error"), str) and error["error"], answer
            assert answer.headers["content-type"] == "application/json"
        if answer.status == 202:
            assert json.loads(answer.body)["status"] == "accepted"
        assert self.agent.stored() == before + (answer.status == 202), answer
        assert self.agent.http.alive
        lines = self.log.getvalue().splitlines()
        for line in lines[self.seen :]:
            record = json.loads(line)  # every record is the agent's JSON
            assert "exception" not in record and "Traceback" not in line, record
        self.seen = len(lines)
        out, err = self.capfd.readouterr()
        assert "Traceback" not in out and err == "", err[-2000:]
        return answer.status


@settings(SETTINGS, max_examples=350)
@given(request=requests())
def test_any_request_gets_a_documented_answer(
    agent: Agent, capfd: pytest.CaptureFixture[str], request: tuple[str, str, bytes]
) -> None:
    method, _path, data = request
    with captured_log() as log:
        Checker(agent, capfd, log).check(method, data)


@settings(SETTINGS, max_examples=150)
@given(device=DEVICE_IDS, field=FIELDS, value=JSON_VALUES, charset=st.booleans())
def test_signed_reports_store_exactly_when_valid(
    agent: Agent, capfd: pytest.CaptureFixture[str], device: str, field: str, value: Any, charset: bool
) -> None:
    """Correctly signed, well framed, and one field replaced by anything JSON: stored with a 202 when
    the document is valid, refused with 400 or 422 and not stored otherwise."""
    doc = report(device)
    doc[field] = value
    body = json.dumps(doc).encode("utf-8", "surrogatepass")
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    content_type = "application/json; charset=utf-8" if charset else "application/json"
    data = (
        f"POST /v1/devices HTTP/1.1\r\nHost: agent\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nX-Posture-Device: {device}\r\nX-Posture-Timestamp: {ts}\r\n"
        f"X-Posture-Nonce: {nonce}\r\nX-Posture-Signature: {sign(KEY, ts, nonce, device, body)}\r\n\r\n"
    ).encode() + body
    with captured_log() as log:
        status = Checker(agent, capfd, log).check("POST", data)
    assert status in {202, 400, 409, 413, 422}, status


def test_the_fuzzed_server_still_accepts_a_good_report(agent: Agent) -> None:
    from posture_demo.fake_devices import push_report

    before = agent.stored()
    url = "http://{}:{}".format(*agent.http.address)
    answer = push_report(url, KEY, report("after-the-fuzz"))
    assert answer.status_code == 202, answer.text
    assert agent.stored() == before + 1


def test_documented_statuses_are_the_readme_s() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("One HTTP port serves") : readme.index("SIGTERM or SIGINT")]
    assert {int(code) for code in re.findall(r"`(\d{3})`", section)} >= DOCUMENTED
