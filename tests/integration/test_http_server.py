"""The agent's HTTP port over the wire: every refusal is an answer (JSON, with its status), slow and
partial requests end on their deadline, held connections do not stop /healthz, and nothing reaches
stderr or the log but the agent's JSON records."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from agent.http import JSON, AgentHTTPServer, HTTPLimits
from tests.integration.http_wire import NoAnswer, captured_log, exchange, read_answer, request_bytes

# short deadlines so that expiry is reached quickly; the tests never assert how long anything took
FAST = HTTPLimits(head_timeout=2, body_timeout=2, max_body_bytes=4096, max_head_bytes=4096)


async def echo(request: Request) -> Response:
    return JSON({"received": len(await request.body())})


@pytest.fixture
def server() -> Iterator[AgentHTTPServer]:
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}), limits=FAST)
    http.add_route("POST", "/echo", echo)
    http.start()
    yield http
    http.stop()


def raw(method: str, path: str, *headers: tuple[str, str | bytes], body: bytes = b"") -> bytes:
    return request_bytes(method, path, [("Host", "agent"), *headers], body)


def assert_json_error(answer: Any, status: int, words: str) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    assert words.lower() in answer.json()["error"].lower(), answer.json()


@pytest.mark.parametrize(
    ("data", "half_close", "status", "words"),
    [
        (raw("GET", "/nowhere"), False, 404, "no such path: /nowhere"),
        (raw("BREW", "/healthz"), False, 405, "BREW not allowed"),
        (raw("POST", "/healthz", ("Content-Length", "2"), body=b"{}"), False, 405, "POST not allowed"),
        (raw("DELETE", "/metrics"), False, 405, "not allowed"),
        (raw("GET", "/healthz", ("X-Name", "caf\xe9".encode())), False, 400, "not printable ASCII"),
        (raw("GET", "/healthz", ("X-Name", b"a\x01b")), False, 400, "not printable ASCII"),
        (raw("POST", "/echo", ("Content-Length", "\xb2".encode())), False, 400, "malformed"),
        (raw("POST", "/echo", ("Content-Length", "1, 2")), False, 400, "malformed"),
        (raw("POST", "/echo", ("Transfer-Encoding", "gzip")), False, 400, "malformed"),
        (b"GET /healthz HTTP/1.1\r\n\r\n", False, 400, "malformed"),  # no Host
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32), False, 400, "malformed"),  # TLS to plain HTTP
        (raw("GET", "/healthz", ("X-Big", "b" * 5000)), False, 431, "larger than 4096"),
        (raw("POST", "/echo", ("Content-Length", "5000"), body=b"x" * 5000), False, 413, "larger than 4096"),
        (
            raw("POST", "/echo", ("Transfer-Encoding", "chunked"), body=b"1388\r\n" + b"x" * 5000 + b"\r\n0\r\n\r\n"),
            False,
            413,
            "larger than 4096",
        ),
        (raw("POST", "/echo", ("Content-Length", "10"), body=b"short"), True, 400, "incomplete request"),
        (b"GET /healthz HTTP/1.1\r\nHost: ag", True, 400, "incomplete request"),
    ],
    ids=[
        "unknown-path",
        "unknown-method",
        "wrong-method",
        "delete-metrics",
        "non-ascii-header",
        "control-char-header",
        "non-ascii-content-length",
        "two-content-lengths",
        "unsupported-transfer-encoding",
        "no-host",
        "tls-client-hello",
        "head-too-large",
        "body-too-large",
        "chunked-body-too-large",
        "body-shorter-than-content-length",
        "head-cut-short",
    ],
)
def test_every_refusal_is_a_json_answer(
    server: AgentHTTPServer, capfd: pytest.CaptureFixture[str], data: bytes, half_close: bool, status: int, words: str
) -> None:
    with captured_log() as log:
        answer = exchange(server.address, data, half_close=half_close)
        assert_json_error(answer, status, words)
        if status == 405:
            assert set(answer.headers["allow"].split(", ")) >= {"GET", "HEAD"}
        assert exchange(server.address, raw("GET", "/healthz")).status == 200  # still serving
    assert_clean(log.getvalue(), capfd)


def assert_clean(log: str, capfd: pytest.CaptureFixture[str]) -> None:
    """Every log line is one JSON object and no traceback appears as text, on stderr or in the log."""
    for line in log.splitlines():
        record = json.loads(line)
        assert "exception" not in record, record
    assert "Traceback" not in log
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "Exception" not in err, err[-2000:]


def test_good_requests(server: AgentHTTPServer) -> None:
    base = "http://{}:{}".format(*server.address)
    assert httpx.get(base + "/healthz", timeout=30).json() == {"status": "ok"}
    assert httpx.get(base + "/readyz", timeout=30).json() == {"status": "ready"}
    metrics = httpx.get(base + "/metrics", timeout=30)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert httpx.head(base + "/healthz", timeout=30).status_code == 200
    assert httpx.post(base + "/echo", content=b"x" * 100, timeout=30).json() == {"received": 100}
    with httpx.Client(base_url=base, timeout=30) as client:  # one kept-alive connection
        assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    answer = exchange(server.address, raw("GET", "/healthz"), half_close=True)  # client closed its sending side
    assert answer.status == 200


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "request head not received within 2"),  # connected, said nothing
        (b"GET /healthz HTTP/1.1\r\nHost: agent\r\nX-Slow: ", "request head not received within 2"),
        (raw("POST", "/echo", ("Content-Length", "100"), body=b"part"), "request body not received within 2"),
    ],
    ids=["silent", "partial-head", "partial-body"],
)
def test_slow_requests_end_with_408(server: AgentHTTPServer, data: bytes, words: str) -> None:
    assert_json_error(exchange(server.address, data, timeout=60), 408, words)


def test_healthz_answers_while_300_partial_requests_are_held(capfd: pytest.CaptureFixture[str]) -> None:
    """The slowloris test: 300 connections each with a partial request (some with a partial body)
    are held open; /healthz still answers, and each held connection ends with a 408 of its own.
    The server has its default limits but a body deadline as short as the head's (10 s)."""
    limits = HTTPLimits(body_timeout=HTTPLimits().head_timeout)
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}), limits=limits)
    http.add_route("POST", "/echo", echo)  # reads its body: the partial ones wait for theirs
    http.start()
    held: list[socket.socket] = []
    try:
        with captured_log() as log:
            for i in range(300):
                sock = socket.create_connection(http.address, timeout=60)
                if i % 2:
                    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: agent\r\nContent-Length: 1000\r\n\r\n{")
                else:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: agent\r\nX-Slow: a")
                held.append(sock)
            health = httpx.get("http://{}:{}/healthz".format(*http.address), timeout=60)
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            answers = [read_answer(sock) for sock in held]  # each one's deadline passes in turn
            assert {a.status for a in answers} == {408}
            assert all("not received within 10 seconds" in str(a.json()) for a in answers)
            assert http.alive
        assert_clean(log.getvalue(), capfd)
    finally:
        for sock in held:
            sock.close()
        http.stop()


def test_over_the_cap_the_longest_waiting_connection_makes_room() -> None:
    """8 connections at most: 8 partial requests held, a 9th connection still gets /healthz, and the
    connection that waited longest is told 503 (JSON) and closed."""
    http = AgentHTTPServer(
        "127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}), limits=HTTPLimits(max_connections=8)
    )
    http.start()
    held = [socket.create_connection(http.address, timeout=60) for _ in range(8)]
    try:
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: agent\r\nX-Slow: a")
        for _ in range(600):  # until the server has taken all 8 (hang guard only)
            answer = exchange(http.address, raw("GET", "/healthz"))
            assert answer.status == 200, answer
            if any(_answered(sock) for sock in held):
                break
        evicted = [sock for sock in held if _answered(sock)]
        assert evicted
        assert_json_error(read_answer(evicted[0]), 503, "waited longest")
    finally:
        for sock in held:
            sock.close()
        http.stop()


def _answered(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def test_over_the_cap_with_every_request_in_flight_the_new_one_is_told_503() -> None:
    gate = threading.Event()
    in_flight = threading.Semaphore(0)

    async def slow(request: Request) -> Response:
        in_flight.release()
        await run_in_threadpool(gate.wait, 60)
        return JSON({"done": True})

    http = AgentHTTPServer(
        "127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}), limits=HTTPLimits(max_connections=4)
    )
    http.add_route("GET", "/slow", slow)
    http.start()
    busy = [socket.create_connection(http.address, timeout=60) for _ in range(4)]
    try:
        for sock in busy:
            sock.sendall(raw("GET", "/slow"))
        for _ in busy:  # all 4 in their handler (the timeout only guards against a hang)
            assert in_flight.acquire(timeout=60)
        assert_json_error(exchange(http.address, raw("GET", "/healthz")), 503, "too many connections")
        gate.set()
        assert [read_answer(sock).status for sock in busy] == [200] * 4
        assert exchange(http.address, raw("GET", "/healthz")).status == 200
    finally:
        gate.set()
        for sock in busy:
            sock.close()
        http.stop()


def test_a_failing_handler_is_a_json_500_and_one_json_log_record(
    server: AgentHTTPServer, capfd: pytest.CaptureFixture[str]
) -> None:
    async def broken(request: Request) -> Response:
        raise KeyError("a bug")

    server.add_route("GET", "/broken", broken)
    with captured_log() as log:
        answer = exchange(server.address, raw("GET", "/broken"))
        assert_json_error(answer, 500, "internal error")
        assert "a bug" not in answer.body.decode()  # details go to the log only
    records = [json.loads(line) for line in log.getvalue().splitlines()]
    [failed] = [r for r in records if r["event"] == "http handler failed"]
    assert failed["level"] == "error" and failed["path"] == "/broken" and "KeyError" in failed["exception"]
    assert not [r for r in records if r["logger"].startswith("uvicorn")]
    _, err = capfd.readouterr()
    assert err == ""


def test_readyz_is_503_when_the_readiness_check_fails() -> None:
    def readiness() -> tuple[bool, dict[str, Any]]:
        raise ConnectionError("store gone")

    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), readiness)
    http.start()
    try:
        answer = httpx.get("http://{}:{}/readyz".format(*http.address), timeout=30)
        assert answer.status_code == 503 and answer.json()["status"] == "not ready"
        not_ready = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (False, {"store": "unreachable"}))
        not_ready.start()
        try:
            answer = httpx.get("http://{}:{}/readyz".format(*not_ready.address), timeout=30)
            assert answer.status_code == 503 and answer.json() == {"status": "not ready", "store": "unreachable"}
        finally:
            not_ready.stop()
    finally:
        http.stop()


def test_routes_and_mounted_apps(server: AgentHTTPServer) -> None:
    """How the web console plugs in: routes by method on one path, or a whole app under a prefix."""

    async def read(request: Request) -> Response:
        return JSON({"method": "GET"})

    async def write(request: Request) -> Response:
        return JSON({"method": "POST"}, status_code=201)

    server.add_route("GET", "/things", read)
    server.add_route("POST", "/things", write)
    console = Starlette(routes=[Route("/", lambda request: PlainTextResponse("console"))])
    server.mount("/console", console)
    base = "http://{}:{}".format(*server.address)
    assert httpx.get(base + "/things", timeout=30).json() == {"method": "GET"}
    assert httpx.post(base + "/things", timeout=30).status_code == 201
    wrong = httpx.put(base + "/things", timeout=30)
    assert wrong.status_code == 405 and set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert httpx.get(base + "/console/", timeout=30).text == "console"


def test_the_port_is_bound_at_construction_and_freed_by_stop() -> None:
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}))
    host, port = http.address
    assert port > 0
    with pytest.raises(OSError):  # taken already, before start()
        AgentHTTPServer(host, port, CollectorRegistry(), lambda: (True, {}))
    http.start()
    assert http.alive
    http.stop()
    assert not http.alive
    again = AgentHTTPServer(host, port, CollectorRegistry(), lambda: (True, {}))
    again.stop()


def test_no_answer_is_reported_as_such() -> None:
    """The helper itself: a server that closes without answering is a failure, not an empty answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(listener.getsockname(), timeout=30) as sock:
            conn, _ = listener.accept()
            conn.close()
            with pytest.raises(NoAnswer):
                read_answer(sock)
    finally:
        listener.close()


def test_the_config_http_section_sets_the_limits() -> None:
    from agent.config import parse_config
    from agent.http import limits_from

    cfg = parse_config("http:\n  head_timeout: 20s\n  max_head_bytes: 2048\n  max_connections: 40\n", env={})
    limits = limits_from(cfg.http)
    assert (limits.head_timeout, limits.max_head_bytes, limits.max_connections) == (20, 2048, 40)
    assert limits.body_timeout == HTTPLimits().body_timeout  # what the section leaves out keeps its default
    assert limits_from(parse_config("", env={}).http).max_connections == HTTPLimits().max_connections
    http = AgentHTTPServer("127.0.0.1", 0, CollectorRegistry(), lambda: (True, {}), limits=limits)
    http.start()
    try:
        assert_json_error(
            exchange(http.address, raw("GET", "/healthz", ("X-Big", "b" * 3000))), 431, "larger than 2048"
        )
        assert exchange(http.address, raw("GET", "/healthz", ("X-Big", "b" * 1500))).status == 200
    finally:
        http.stop()
