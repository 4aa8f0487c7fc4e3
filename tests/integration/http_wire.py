"""Raw HTTP/1.1 over a socket for the HTTP tests: any bytes out (malformed, non-ASCII, short or long
bodies), the first answer parsed back, and the agent's log captured as JSON lines."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from agent.logs import JsonFormatter

__all__ = ["Answer", "NoAnswer", "captured_log", "exchange", "read_answer", "request_bytes"]


class NoAnswer(AssertionError):
    """The server closed or timed out without a whole answer."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def request_bytes(method: str, path: str, headers: list[tuple[str, str | bytes]], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode()]
    for name, value in headers:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def read_answer(sock: socket.socket, *, head: bool = False) -> Answer:
    """The first final answer on ``sock`` (interim 1xx answers skipped)."""
    buf = b""

    def more() -> None:
        nonlocal buf
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise NoAnswer(f"no whole answer in time; got {buf[:200]!r}") from None
        except ConnectionResetError:
            raise NoAnswer(f"connection reset; got {buf[:200]!r}") from None
        if not chunk:
            raise NoAnswer(f"connection closed; got {buf[:200]!r}")
        buf += chunk

    while True:
        while b"\r\n\r\n" not in buf:
            more()
        head_bytes, buf = buf.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
        version, status_text = status_line.split(" ", 2)[:2]
        assert version == "HTTP/1.1", status_line
        status = int(status_text)
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            continue
        length = 0 if head or status in (204, 304) else int(headers["content-length"])
        while len(buf) < length:
            more()
        return Answer(status, headers, buf[:length])


def exchange(
    address: tuple[str, int], data: bytes, *, half_close: bool = False, head: bool = False, timeout: float = 60
) -> Answer:
    """Send ``data`` (optionally closing our side after it) and read the first answer.
    ``timeout`` only guards against a hang."""
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking everything: the answer is still there
        return read_answer(sock, head=head)


@contextmanager
def captured_log(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Every log record of the process, formatted as the daemon formats them (agent/logs.py)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
