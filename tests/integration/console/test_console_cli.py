"""`posture-agent console` and `console hash-password` as a user runs them: processes, stdin, a port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from agent.config import parse_config
from agent.console.passwords import hash_password, verify_password
from agent.store import Store
from tests.integration.console.conftest import PASSWORDS, Served

AGENT = str(Path(sys.executable).with_name("posture-agent"))


def test_hash_password_reads_stdin_never_argv() -> None:
    out = subprocess.run(
        [AGENT, "console", "hash-password"], input="a long passphrase\n", capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    encoded = out.stdout.strip()
    assert encoded.startswith("scrypt$17$8$1$") and verify_password("a long passphrase", encoded)
    empty = subprocess.run([AGENT, "console", "hash-password"], input="", capture_output=True, text=True, timeout=60)
    assert empty.returncode == 2 and "the password is empty" in empty.stderr
    extra = subprocess.run([AGENT, "console", "hash-password", "secret"], capture_output=True, text=True, timeout=60)
    assert extra.returncode == 2


def test_console_without_users_is_a_usage_error(filled: tuple[str, Store]) -> None:
    out = subprocess.run([AGENT, "console", "--db", filled[0]], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no console users" in out.stderr


def test_console_serves_a_store_until_stopped(filled: tuple[str, Store], tmp_path: Path) -> None:
    cfg = tmp_path / "console.yaml"
    cfg.write_text(
        "console:\n  secure_cookies: false\n  users:\n"
        f"    - {{name: olivia, role: operator, password_hash: '{hash_password(PASSWORDS['olivia'], log2_n=14)}'}}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [AGENT, "console", "--config", str(cfg), "--db", filled[0], "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "POSTURE_LOG__FORMAT": "json"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("console: http://127.0.0.1:"), line
        url = line.split()[1]
        r = httpx.get(url + "login", timeout=10)
        assert r.status_code == 200 and "Sign in" in r.text
        assert httpx.get(url.removesuffix("/"), timeout=10).status_code == 303
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)  # closes the pipes
    assert proc.returncode == 0, err


def test_the_daemon_mounts_the_console_when_enabled(console: Served) -> None:
    from agent.cycle import Pipeline
    from agent.daemon import Daemon

    pipeline = Pipeline(console.config, console.store)
    daemon = Daemon(console.config, pipeline, listen=("127.0.0.1", 0))
    assert daemon.console is not None
    daemon.http.start()
    try:
        host, port = daemon.http.address
        assert httpx.get(f"http://{host}:{port}/console/login", timeout=10).status_code == 200
        assert httpx.get(f"http://{host}:{port}/metrics", timeout=10).status_code == 200
    finally:
        daemon.http.stop()
    off = Daemon(
        parse_config("{}", env={}), Pipeline(parse_config("{}", env={}), console.store), listen=("127.0.0.1", 0)
    )
    assert off.console is None
    off.http.stop()
