"""The agent's one HTTP port: /metrics, /healthz (process alive), /readyz (store reachable and
every source collected within twice its interval), and the routes other parts add (the device push
endpoint, later the web console).

The app is Starlette, served by uvicorn (its pure-Python h11 protocol) on an asyncio loop in one
thread of the agent. A held or slow connection costs a few kilobytes on that loop, not a thread.
uvicorn bounds the request head (``max_head_bytes``) and the idle time between requests
(``keep_alive_timeout``) but has no deadline for receiving a request; ``_Protocol`` adds one, caps the
number of connections, answers every refusal it makes itself as JSON and closes connections
lingering (FIN after the answer, the rest of the request read and dropped) so a client sees the
answer rather than a reset. ``_Guard`` wraps the app: bodies are bounded while read, header values
must be printable ASCII, and an error in a handler becomes a JSON 500 and one structured log record.

Every error answer is JSON, ``{"error": "..."}``, with its status: 400 malformed request or header,
404 unknown path, 405 (with ``Allow``) wrong method, 408 request not received in time, 413 body too
large, 431 request head too large, 503 too many connections (over the cap, the connection that has
waited longest for a request head is told so and closed to make room; only when every connection
has a request in flight is the new one refused); the routes add their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import logging
import re
import resource
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from agent.config import HttpConfig

__all__ = ["AgentHTTPServer", "Endpoint", "HTTPLimits", "JSON", "error_response"]

log = logging.getLogger("agent.http")

Readiness = Callable[[], tuple[bool, dict[str, Any]]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _default_max_connections() -> int:
    """Half the process's file descriptors, at most 1,000: the store, logs and clients need the rest."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(32, min(1000, soft // 2))


@dataclass(frozen=True, kw_only=True)
class HTTPLimits:
    """What one client may cost the agent. Times are seconds."""

    head_timeout: float = 10.0  # connection opened (or first byte of a next request) to the whole request head
    body_timeout: float = 30.0  # request head to the whole body
    keep_alive_timeout: int = 5  # idle between two requests on one connection
    linger_timeout: float = 2.0  # after the answer, wait at most this for the client to close
    max_connections: int = field(default_factory=_default_max_connections)
    max_head_bytes: int = 16 * 1024  # request line and headers
    max_body_bytes: int = 1024 * 1024  # any route; a route may set less (the push endpoint: max_report_bytes)
    shutdown_timeout: int = 3  # stop(): requests in flight get this long to finish (the daemon exits within 10 s)


def limits_from(config: HttpConfig) -> HTTPLimits:
    """The limits the config's ``http:`` section sets (its defaults are HTTPLimits' own)."""
    extra = {"max_connections": config.max_connections} if config.max_connections is not None else {}
    return HTTPLimits(
        head_timeout=config.head_timeout.total_seconds(),
        body_timeout=config.body_timeout.total_seconds(),
        keep_alive_timeout=int(config.keep_alive.total_seconds()),
        max_head_bytes=config.max_head_bytes,
        max_body_bytes=config.max_body_bytes,
        **extra,
    )


class JSON(JSONResponse):
    """A JSON answer, always ASCII (an escaped lone surrogate cannot break the encoding)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"), default=str).encode()


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return JSON({"error": message}, status_code=status, headers=headers)


def _raw_error(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection, written by the protocol itself."""
    body = json.dumps({"error": message}, separators=(",", ":")).encode()
    phrase = http.HTTPStatus(status).phrase
    head = (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


# -- the connection: deadlines, connection cap, lingering close ------------------------------------


class _LingeringTransport(asyncio.Transport):
    """The socket transport as uvicorn sees it: ``close()`` sends FIN after what was written and drops
    what the client still sends until it closes too (or ``linger`` seconds pass). Closing at once with
    unread input would send a reset, and the client could lose the answer in flight."""

    def __init__(self, transport: asyncio.Transport, linger: float) -> None:
        super().__init__()
        self._t = transport
        self._linger = linger
        self.lingering = False
        self.peer_eof = False
        self._timer: asyncio.TimerHandle | None = None

    def close(self) -> None:
        if self.lingering:
            return
        self.lingering = True
        t = self._t
        if t.is_closing():
            return
        if self.peer_eof or not t.can_write_eof():
            t.close()
            return
        try:
            t.write_eof()
            t.resume_reading()
        except (OSError, RuntimeError):
            t.close()
            return
        self._timer = asyncio.get_running_loop().call_later(self._linger, t.close)

    def finish(self) -> None:
        """Close now (the client closed its side, or the connection is gone)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.lingering = True
        if not self._t.is_closing():
            self._t.close()

    def is_closing(self) -> bool:
        return self.lingering or self._t.is_closing()

    def abort(self) -> None:
        self.lingering = True
        self._t.abort()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.is_closing():  # after close() nothing more goes out
            self._t.write(data)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self._t.write_eof()

    def can_write_eof(self) -> bool:
        return self._t.can_write_eof()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._t.get_extra_info(name, default)

    def pause_reading(self) -> None:
        if not self.lingering:
            self._t.pause_reading()

    def resume_reading(self) -> None:
        self._t.resume_reading()

    def is_reading(self) -> bool:
        return self._t.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._t.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._t.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._t.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._t.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._t.get_protocol()


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request, a connection cap, JSON refusals and
    lingering close. A subclass per server sets ``limits``."""

    limits: HTTPLimits = HTTPLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._opened = 0.0  # loop time the connection was made, or its last answer completed
        self._phase = ""  # "head" or "body": what the deadline is waiting for
        self._lingering: _LingeringTransport | None = None

    # uvicorn calls these -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._lingering = _LingeringTransport(transport, self.limits.linger_timeout)
        super().connection_made(self._lingering)
        self._opened = self.loop.time()
        if len(self.connections) > self.limits.max_connections and not self._evict_one():
            self._refuse(503, "too many connections; try again later")
            return
        self._arm("head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._lingering is not None:
            self._lingering.finish()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering is None or self._lingering.lingering:
            return  # answered and closing: the rest of the request is dropped
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm("head")  # the first byte of a next request on a kept-alive connection
        super().data_received(data)
        self._track()

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio.Protocol allows True: keep writing
        lingering = self._lingering
        if lingering is None or lingering.lingering:
            return None  # the client closed after our answer: close
        lingering.peer_eof = True
        their = self.conn.their_state
        if their is h11.SEND_BODY or (their is h11.IDLE and self.conn.trailing_data[0]):
            # an incomplete request: h11 now reports it (send_400_response below), and we answer
            self.conn.receive_data(b"")
            self.handle_events()
            return True
        if self.cycle is not None and not self.cycle.response_complete:
            return True  # half-closed after a whole request: answer it, then close
        return None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._opened = self.loop.time()
        lingering = self._lingering
        if lingering is None or lingering.lingering:
            return
        if lingering.peer_eof and (self.cycle is None or self.cycle.response_complete):
            lingering.finish()
        elif self.conn.their_state is h11.SEND_BODY and self.cycle is not None and self.cycle.response_complete:
            self.transport.close()  # answered before the body was read: drop the rest, lingering
        elif self._deadline is None:  # a pipelined request already (partly) read: it has its deadline too
            their = self.conn.their_state
            if their is h11.SEND_BODY:
                self._arm("body")
            elif their is h11.IDLE and self.conn.trailing_data[0]:
                self._arm("head")

    def send_400_response(self, msg: str) -> None:  # h11 could not parse the request
        if self._lingering is not None and self._lingering.peer_eof:
            self._refuse(400, "incomplete request: the client closed its side before sending all of it")
        elif len(self.conn.trailing_data[0]) > self.limits.max_head_bytes:
            self._refuse(431, f"request head larger than {self.limits.max_head_bytes} bytes")
        else:
            self._refuse(400, "malformed HTTP request")

    def shutdown(self) -> None:
        self._disarm()
        try:
            super().shutdown()
        except h11.LocalProtocolError:
            self.transport.close()

    def timeout_keep_alive_handler(self) -> None:
        try:
            super().timeout_keep_alive_handler()
        except h11.LocalProtocolError:
            self.transport.close()

    # ours --------------------------------------------------------------------------------------

    def _waiting(self) -> bool:
        """No request in flight: still waiting for a head (or idle between requests)."""
        return (
            self._lingering is not None
            and not self._lingering.lingering
            and self.conn.their_state is h11.IDLE
            and (self.cycle is None or self.cycle.response_complete)
        )

    def _evict_one(self) -> bool:
        """Over the cap, the connection that has waited longest for a request head makes room (a
        slow client holding many makes room for the next real request); False when none waits."""
        waiting = [c for c in self.connections if isinstance(c, _Protocol) and c is not self and c._waiting()]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._opened)
        if oldest.cycle is not None and not oldest.conn.trailing_data[0]:
            oldest._disarm()
            oldest.transport.close()  # idle after an answer: closed as a keep-alive timeout closes it
        else:
            oldest._refuse(503, "too many connections: this one waited longest for a request")
        return True

    def _arm(self, phase: str) -> None:
        self._disarm()
        self._phase = phase
        seconds = self.limits.head_timeout if phase == "head" else self.limits.body_timeout
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _track(self) -> None:
        """After parsing: the head is in (the body's deadline starts), the request is complete (no
        deadline while the app answers), or the connection is idle again."""
        their = self.conn.their_state
        if their is h11.SEND_BODY:
            if self._phase == "head" or self._deadline is None:
                self._arm("body")
        elif their is h11.IDLE:
            if self._phase == "body":
                self._disarm()  # a whole request went through (its body read after an early answer)
            if self._deadline is None and self.timeout_keep_alive_task is None:
                self._arm("head")  # idle with no keep-alive timer (uvicorn drops it when data follows)
        else:
            self._disarm()

    def _expired(self) -> None:
        self._deadline = None
        what = "request head" if self._phase == "head" else "request body"
        seconds = self.limits.head_timeout if self._phase == "head" else self.limits.body_timeout
        self._refuse(408, f"{what} not received within {seconds:g} seconds")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer (unless an answer is already on its way) and close, lingering."""
        self._disarm()
        if self.transport.is_closing():
            return
        log.debug("http request refused", extra={"status": status, "reason": reason, "client": self.client})
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.write(_raw_error(status, reason))
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.keep_alive = False
        self.transport.close()


# -- the app: bounded bodies, ASCII headers, JSON errors -------------------------------------------

_NOT_PRINTABLE_ASCII = re.compile(rb"[^\t\x20-\x7e]")


class _BodyTooLarge(HTTPException):
    pass


class _Guard:
    """Wraps the Starlette app: refuses requests with unreadable headers or too large a body, and
    turns an error of a handler into a JSON 500 (logged once, as the agent's JSON)."""

    def __init__(self, app: ASGIApp, limits: HTTPLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off and websockets are not served
        started = False

        async def send_(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        refusal = self._check_head(scope)
        if refusal is not None:
            await error_response(*refusal)(scope, receive, send_)
            return
        limit = self.limits.max_body_bytes
        received = 0

        async def receive_() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(413, f"request body larger than {limit} bytes")
            return message

        try:
            await self.app(scope, receive_, send_)
        except ClientDisconnect as exc:
            if not getattr(exc, "_agent_logged", False):
                log.debug("http client went away", extra={"path": str(scope.get("path", ""))[:200]})
        except Exception as exc:
            if not getattr(exc, "_agent_logged", False):
                _log_failure(scope, exc)
            if not started:
                await error_response(500, "internal error; the agent's log has the details")(scope, receive, send_)

    def _check_head(self, scope: Scope) -> tuple[int, str] | None:
        length = None
        size = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4
            if _NOT_PRINTABLE_ASCII.search(value):
                return 400, f"header {name.decode('ascii', 'replace')[:64]} is not printable ASCII"
            if name == b"content-length":
                length = int(value)  # h11 made sure it is digits
        if size > self.limits.max_head_bytes:  # h11 bounds a head that arrives in pieces, this one that came whole
            return 431, f"request head larger than {self.limits.max_head_bytes} bytes"
        if length is not None and length > self.limits.max_body_bytes:
            return 413, f"request body larger than {self.limits.max_body_bytes} bytes"
        return None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no such path: {request.scope['path'][:200]}"
    elif exc.status_code == 405:
        message = f"method {request.method[:32]} not allowed; use {(exc.headers or {}).get('Allow', '')}"
    else:
        message = exc.detail
    return error_response(exc.status_code, message, headers=exc.headers)


def _log_failure(scope: Scope, exc: Exception) -> None:
    log.error(
        "http handler failed",
        extra={"method": scope.get("method"), "path": str(scope.get("path", ""))[:200]},
        exc_info=exc,
    )
    with contextlib.suppress(AttributeError):
        exc._agent_logged = True  # type: ignore[attr-defined]  # Starlette raises it again after answering


async def _server_error(request: Request, exc: Exception) -> Response:
    """Starlette's last resort (it raises the error again after sending this): logged before the answer."""
    if isinstance(exc, ClientDisconnect):  # the client is gone: nobody gets this answer
        log.debug("http client went away", extra={"path": str(request.scope.get("path", ""))[:200]})
        with contextlib.suppress(AttributeError):
            exc._agent_logged = True  # type: ignore[attr-defined]
    else:
        _log_failure(request.scope, exc)
    return error_response(500, "internal error; the agent's log has the details")


def _loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's own errors (a failed accept, a transport error) as one JSON record, no traceback."""
    exc = context.get("exception")
    log.error(
        "http event loop error",
        extra={"detail": str(context.get("message", "")), "error": f"{type(exc).__name__}: {exc}" if exc else None},
    )


def _bind(host: str, port: int) -> socket.socket:
    family, _, _, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class AgentHTTPServer:
    """The port of the agent. Bound when constructed (``address`` is known at once), served from
    ``start()`` to ``stop()``. ``add_route`` and ``mount`` plug in more endpoints and apps."""

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        readiness: Readiness,
        *,
        limits: HTTPLimits | None = None,
    ) -> None:
        self.limits = limits or HTTPLimits()
        self.registry = registry
        self.readiness = readiness
        self._methods: dict[str, dict[str, Endpoint]] = {}
        self.app = Starlette(
            exception_handlers={HTTPException: _http_error, Exception: _server_error},
        )
        self.app.router.redirect_slashes = False
        self.add_route("GET", "/metrics", self._metrics)
        self.add_route("GET", "/healthz", self._healthz)
        self.add_route("GET", "/readyz", self._readyz)
        self._socket = _bind(host, port)
        bound_host, bound_port = self._socket.getsockname()[:2]
        self._address = (str(bound_host), int(bound_port))
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self._address

    def add_route(self, method: str, path: str, handler: Endpoint) -> None:
        """Serve ``handler`` (an async function of a Starlette Request) for ``method`` on ``path``
        (HEAD comes with GET); another method on that path gets 405 with the Allow header."""
        methods = self._methods.setdefault(path, {})
        methods[method.upper()] = handler

        async def endpoint(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            return await methods[method](request)

        route = Route(path, endpoint, methods=list(methods))
        routes: list[BaseRoute] = self.app.router.routes
        for i, existing in enumerate(routes):
            if isinstance(existing, Route) and existing.path == path:
                routes[i] = route
                return
        routes.append(route)

    def mount(self, path: str, app: ASGIApp) -> None:
        """Serve a whole ASGI app (e.g. the web console) under ``path``."""
        self.app.router.routes.append(Mount(path, app=app))

    # -- built-in endpoints ----------------------------------------------------------------------

    async def _metrics(self, request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = await run_in_threadpool(encoder, self.registry)
        return Response(body, headers={"Content-Type": content_type})

    async def _healthz(self, request: Request) -> Response:
        return JSON({"status": "ok"})

    async def _readyz(self, request: Request) -> Response:
        try:
            ready, detail = await run_in_threadpool(self.readiness)
        except Exception as exc:
            log.error("readiness check failed", extra={"error": type(exc).__name__})
            return JSON({"status": "not ready", "error": f"readiness check failed: {type(exc).__name__}"}, 503)
        return JSON({"status": "ready" if ready else "not ready", **detail}, status_code=200 if ready else 503)

    # -- serving ---------------------------------------------------------------------------------

    def _config(self) -> uvicorn.Config:
        limits = self.limits

        class Protocol(_Protocol):
            pass

        Protocol.limits = limits
        return uvicorn.Config(
            _Guard(self.app, limits),
            http=Protocol,
            ws="none",
            lifespan="off",
            log_config=None,  # the agent's logging (agent/logs.py) stays as it is
            log_level=logging.ERROR,  # uvicorn's own records: errors only, and those through the agent's handler
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=limits.keep_alive_timeout,
            timeout_graceful_shutdown=limits.shutdown_timeout,
            h11_max_incomplete_event_size=limits.max_head_bytes,
        )

    def _serve(self, server: uvicorn.Server) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_loop_error)
        try:
            loop.run_until_complete(server.serve(sockets=[self._socket]))
        except BaseException as exc:  # never a traceback from the thread: one record, and /healthz stops
            log.error("http server stopped on an error", extra={"error": f"{type(exc).__name__}: {exc}"})
        finally:
            loop.close()

    def start(self, timeout: float = 30.0) -> None:
        server = self._server = uvicorn.Server(self._config())
        thread = self._thread = threading.Thread(target=self._serve, args=(server,), name="http", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)

    @property
    def alive(self) -> bool:
        """The serving thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            self._socket.close()
            return
        server.should_exit = True
        thread.join(self.limits.shutdown_timeout + self.limits.linger_timeout + 5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(10)
        self._socket.close()
