"""Collect in a short-lived child process, so the daemon never holds a cloud SDK.

The daemon runs each scheduled collection (agent/stages/collect.py's ``collect``) in a child
(``python -m agent.stages.collect_child``) and gets back what it would have got in-process: the
``Collected`` (snapshots, or why the collection failed). The boto3, Google and Azure modules, their
service models and their clients live and die with the child; the daemon only evaluates, stores,
drifts and alerts. ``scan`` and ``demo`` keep collecting in their own process.

The parent writes one JSON line (its ``sys.path`` and log levels) and then a pickle of the
collector's import path and the source to the child's stdin. The child answers on its stdout with
length-prefixed pickled frames (its own prints go to stderr):

- ``("log", attrs)``: a log record, emitted again by the parent's handlers (the same JSON lines, in
  the same stream, with the child's time and level);
- ``("calls", [(service, operation, error_code), ...])``: API calls, for ``ctx.on_api_call`` (the
  Prometheus counters), sent as they happen, batched to one frame per ``CALL_BATCH_SECONDS`` (a frame
  per call cost a large account a fifth of its collection threads' time in pickling and pipe writes),
  so a collection that dies still counts all but its last moment's calls;
- ``("progress", ("total", n))`` and ``("progress", ("advance", n, description))``: the collector's
  progress, for ``ctx.progress`` (the scan's bars);
- ``("result", Collected)``: the last frame.

A child that exits without a result (killed, out of memory, crashed interpreter) is a failed
collection, never a pass. When ``ctx.cancel`` is set (daemon shutdown) the child is killed and
``Cancelled`` raised: nothing of its collection reaches the store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

from agent.registry import collector_target, importable_name
from agent.stages.collect import Collected
from collectors import Cancelled, CollectContext

if TYPE_CHECKING:  # the child imports only the source's own model, through pickle
    from agent.config import AnySource

__all__ = ["child_target", "collect_in_child"]

log = logging.getLogger("agent.cycle")

_HEADER = struct.Struct("!I")
POLL_SECONDS = 0.2  # how often the waiting parent looks at ctx.cancel
KILL_GRACE_SECONDS = 2.0  # SIGTERM, then SIGKILL after this
CALL_BATCH_SECONDS = 0.1  # the child sends its API calls at most this often (the first one at once)


# -- the parent --------------------------------------------------------------------------------------


def child_target(collectors: Mapping[str, Callable[..., Any]], source: AnySource) -> str | None:
    """The import path of ``source``'s collector when a child process can collect it, else None: not
    for a source read from the agent's own store, nor a collector or source model another
    interpreter cannot import (a lambda, a class of ``__main__``)."""
    if not sys.executable or source.reads_agent_store() or importable_name(type(source)) is None:
        return None
    return collector_target(collectors, source.provider)


def collect_in_child(source: AnySource, target: str, ctx: CollectContext, *, timeout: float | None = None) -> Collected:
    """``collect(source, <target>, ctx)`` in a child process. Raises Cancelled when ``ctx.cancel``
    is set meanwhile (the child is killed); a child that fails in any way, or is still collecting
    ``timeout`` seconds after it started (it is stopped then), is a failed collection."""
    ctx.check_cancelled()
    deadline = None if timeout is None else time.monotonic() + timeout
    header = {"path": sys.path, "levels": _log_levels()}
    request = pickle.dumps((target, source), protocol=pickle.HIGHEST_PROTOCOL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # finds this module as we did
    proc = subprocess.Popen(
        # -P: not the working directory first on the path, where another checkout's agent/ would win
        [sys.executable, "-P", "-m", "agent.stages.collect_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,  # raw pipes: no read-ahead hiding a frame from select()
        close_fds=True,
        env=env,
    )
    log.debug("collection process started", extra={"source": source.name, "pid": proc.pid})
    assert proc.stdin is not None and proc.stdout is not None
    result: Collected | None = None
    try:
        with contextlib.suppress(BrokenPipeError):  # a child that died at once: its exit code says why
            data = memoryview(json.dumps(header).encode() + b"\n" + request)
            while data:
                data = data[proc.stdin.write(data) or 0 :]
            proc.stdin.close()
        reader = _FrameReader(proc.stdout)
        while True:
            if ctx.cancel.is_set():
                _end(proc)
                raise Cancelled("collection cancelled")
            if deadline is not None and time.monotonic() > deadline:
                _end(proc)
                log.error("collection process stopped: out of time", extra={"source": source.name, "seconds": timeout})
                return Collected([], f"collection stopped after {_duration(timeout)} (collection_timeout)")
            ready, _, _ = select.select([proc.stdout], [], [], POLL_SECONDS)
            if not ready:
                continue
            frame = reader.read()
            if frame is None:  # end of the stream: the child exited or closed it
                break
            kind, value = frame
            if kind == "log":
                _emit(value)
            elif kind == "calls":
                for call in value:
                    ctx.on_api_call(*call)
            elif kind == "progress":
                _progress(ctx, value)
            elif kind == "result" and isinstance(value, Collected):
                result = value
        code = _wait(proc, ctx)
    except BaseException:
        _end(proc)
        raise
    finally:
        proc.stdout.close()
    if result is None:
        reason = f"killed by {_signal_name(-code)}" if code < 0 else f"exit code {code}"
        log.error("collection process ended without a result", extra={"source": source.name, "reason": reason})
        return Collected([], f"collection process ended without a result ({reason})")
    return result


class _FrameReader:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def _exactly(self, n: int) -> bytes | None:
        chunks = []
        while n:
            chunk = self._stream.read(n)
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def read(self) -> tuple[str, Any] | None:
        head = self._exactly(_HEADER.size)
        if head is None:
            return None
        body = self._exactly(_HEADER.unpack(head)[0])
        if body is None:  # a frame cut short: the child died while writing it
            return None
        frame: tuple[str, Any] = pickle.loads(body)  # our own child's frames (same code, same user)
        return frame


def _duration(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _progress(ctx: CollectContext, value: tuple[Any, ...]) -> None:
    if value[0] == "total":
        ctx.progress.add_total(value[1])
    else:
        ctx.progress.advance(value[1], value[2])


def _wait(proc: subprocess.Popen[bytes], ctx: CollectContext) -> int:
    while True:
        try:
            return proc.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if ctx.cancel.is_set():
                _end(proc)
                raise Cancelled("collection cancelled") from None


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _log_levels() -> dict[str, int]:
    """The root logger's level and every logger's own level, for the child to filter as we do."""
    levels = {"": logging.getLogger().level}
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels[name] = logger.level
    return levels


def _emit(attrs: dict[str, Any]) -> None:
    record = logging.makeLogRecord(attrs)
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


# -- the child ---------------------------------------------------------------------------------------


class _Channel:
    """Frames to the parent, from any of the collector's threads."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def send(self, kind: str, value: Any) -> None:
        body = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._out.write(_HEADER.pack(len(body)) + body)
            self._out.flush()


class _CallBatch:
    """``ctx.on_api_call`` in the child: calls are sent to the parent in batches, a call arriving
    ``CALL_BATCH_SECONDS`` after the last batch at once, the rest by a flusher thread; ``close`` sends
    what is left."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self._calls: list[tuple[str, str, str | None]] = []
        self._sent_at = float("-inf")
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._loop, name="api-call-batches", daemon=True)
        self._flusher.start()

    def add(self, service: str, operation: str, code: str | None) -> None:
        with self._lock:
            self._calls.append((service, operation, code))
            due = time.monotonic() - self._sent_at >= CALL_BATCH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            calls, self._calls = self._calls, []
            self._sent_at = time.monotonic()
        if calls:
            self._channel.send("calls", calls)

    def _loop(self) -> None:
        while not self._stop.wait(CALL_BATCH_SECONDS):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self._flusher.join()
        self.flush()


class _ProgressToParent:
    """collectors.Progress in the child: each step goes to the parent's ``ctx.progress``."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def add_total(self, n: int) -> None:
        self._channel.send("progress", ("total", n))

    def advance(self, n: int = 1, description: str = "") -> None:
        self._channel.send("progress", ("advance", n, description))


class _ToParent(logging.Handler):
    """Sends each record to the parent as plain attributes (message formatted, traceback as text)."""

    def __init__(self, channel: _Channel) -> None:
        super().__init__()
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            attrs = dict(vars(record))
            attrs["msg"] = record.getMessage()
            attrs["args"] = None
            if record.exc_info:
                attrs["exc_text"] = record.exc_text or logging.Formatter().formatException(record.exc_info)
            attrs["exc_info"] = None
            for key, value in attrs.items():  # extras the parent cannot unpickle become their str()
                try:
                    pickle.dumps(value)
                except Exception:
                    attrs[key] = str(value)
            self._channel.send("log", attrs)
        except Exception:
            self.handleError(record)


def _child(stdin: IO[bytes], channel: _Channel) -> None:
    header = json.loads(stdin.readline())
    sys.path[:] = header["path"]
    root = logging.getLogger()
    root.handlers[:] = [_ToParent(channel)]
    for name, level in header["levels"].items():
        logging.getLogger(name or None).setLevel(level)

    from agent.registry import load_target
    from agent.stages.collect import collect

    target, source = pickle.load(stdin)
    collector: Callable[..., Any] = load_target(target)
    calls = _CallBatch(channel)
    ctx = CollectContext(progress=_ProgressToParent(channel), on_api_call=calls.add)
    try:
        collected = collect(source, collector, ctx)
    finally:
        calls.close()
    channel.send("result", collected)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() and stray writes go to stderr, never into the frames
    channel = _Channel(out)
    try:
        _child(sys.stdin.buffer, channel)
    except BaseException as exc:  # noqa: BLE001 - anything: the parent records a failed collection
        with contextlib.suppress(Exception):
            logging.getLogger("agent.cycle").error("collection process failed", exc_info=exc)
            channel.send("result", Collected([], f"collection process failed: {type(exc).__name__}: {exc}"))
        out.close()
        os._exit(1)
    out.close()
    sys.stderr.flush()
    os._exit(0)  # no interpreter teardown: the SDKs' modules and clients go with the process


if __name__ == "__main__":
    main()
