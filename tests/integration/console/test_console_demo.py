"""`posture-agent demo` serves the console: it prints the address and the demo logins, and both users
sign in with them (the passwords were hashed when the demo started) and open their pages."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.integration.console.conftest import csrf_of

BIN = Path(os.path.abspath(sys.executable)).parent


def _sign_in(url: str, name: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=url.rsplit("/console/", 1)[0], timeout=30)
    form = c.get("/console/login")
    r = c.post("/console/login", data={"csrf": csrf_of(form.text), "username": name, "password": password})
    assert r.status_code == 303, r.text[:500]
    return c


@pytest.mark.timeout(600)
def test_the_demo_serves_the_console_with_its_printed_logins(tmp_path: Path) -> None:
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [str(BIN / "posture-agent"), "demo", "--data-dir", str(tmp_path / "data"), "--interval", "30s"]
            + ["--listen", f"127.0.0.1:{free_port()}"],
            stdout=o,
            stderr=e,
        )
    try:
        deadline = time.monotonic() + 300
        while "Stop with Ctrl-C." not in out.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()[-3000:]
            time.sleep(0.5)
        line = re.search(r"web console\s*: (http://\S+/console/)\s+\(read-only; sign in as (.*)\)", out.read_text())
        assert line is not None, out.read_text()
        url, logins = line.group(1), dict(re.findall(r"(\S+) / '([^']+)'", line.group(2)))
        assert set(logins) == {"demo-operator", "demo-auditor"}
        for name, pages in (("demo-operator", ("posture", "evidence", "coverage")), ("demo-auditor", ("posture",))):
            c = _sign_in(url, name, logins[name])
            try:
                for page in pages:
                    r = c.get(f"/console/{page}")
                    assert r.status_code == 200, (name, page, r.text[:500])
                if name == "demo-auditor":
                    assert "recorded in the evidence chain" in r.text
            finally:
                c.close()
        for password in logins.values():  # the config keeps the hashes only
            assert password not in (tmp_path / "data" / "demo" / "agent.yaml").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.read_text()[-3000:]
