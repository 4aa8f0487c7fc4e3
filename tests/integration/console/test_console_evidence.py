"""The evidence page and its export button over real HTTP: documents with their reviews (an overdue
one said in words), exceptions with owner and expiry, checkpoints with their signature, and the
bundle downloaded through the form and verified by the standalone verifier as the README tells an
auditor to (`posture-verify bundle.zip --key-fingerprint ... --framework-sha256 ...`)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx

from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.mappings import load_mappings
from agent.store import Store
from agent.store.console_log import access_entries
from agent.store.manual import attach
from tests.integration.console.conftest import SIGNING_KEY, Served, client, csrf_of, login, now, serve

VERIFIER = Path(sys.executable).parent / "posture-verify"
AGENT = Path(sys.executable).parent / "posture-agent"


def _checkpoint(store: Store) -> Signer:
    """A signed checkpoint now (what the daemon writes every hour), of a daily cadence."""
    signer = Signer(SIGNING_KEY)
    checkpoint_now(store, now(), signer, cadence_s=86400)
    return signer


def _export(c: httpx.Client, **fields: str) -> httpx.Response:
    page = c.get("/console/evidence")
    assert page.status_code == 200, page.text[:500]
    return c.post("/console/evidence/export", data={"csrf": csrf_of(page.text), **fields})


def _verify(bundle: bytes, tmp: Path, framework: str, signer: Signer) -> subprocess.CompletedProcess[str]:
    path = tmp / "bundle.zip"
    path.write_bytes(bundle)
    return verify_as_the_readme_says(path, framework, signer)


def verify_as_the_readme_says(path: Path, framework: str, signer: Signer) -> subprocess.CompletedProcess[str]:
    """`posture-verify bundle.zip --key-fingerprint FP --framework-sha256 SHA`, the mapping's SHA-256 from
    `posture-agent evidence framework --sha256` (README, "Verify it (the auditor)")."""
    sha = subprocess.run(
        [str(AGENT), "evidence", "framework", "--framework", framework, "--sha256"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return subprocess.run(
        [str(VERIFIER), str(path), "--key-fingerprint", signer.fingerprint, "--framework-sha256", sha],
        capture_output=True,
        text=True,
    )


def test_evidence_page_shows_documents_exceptions_and_checkpoints(console: Served) -> None:
    _checkpoint(console.store)
    with client(console) as c:
        login(c, "olivia")
        r = c.get("/console/evidence")
        assert r.status_code == 200
        text = r.text
        assert "infosec-policy.pdf" in text and "ciso@example.com" in text and "In force" in text
        assert "head-of-infra@example.com" in text and "arn:aws:s3:::console-private" in text
        assert "signed by key" in text and "Download evidence bundle" in text
        assert 'action="/console/evidence/export"' in text


def test_operator_downloads_a_bundle_that_verifies(console: Served, tmp_path: Path) -> None:
    signer = _checkpoint(console.store)
    today = now().date()
    with client(console) as c:
        login(c, "olivia")
        r = _export(c, framework="soc2", **{"from": str(today - timedelta(days=1)), "to": str(today)})
        assert r.status_code == 200, r.text[:800]
        assert r.headers["content-type"] == "application/zip"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert f"posture-evidence-soc2-{today - timedelta(days=1)}-{today}.zip" in r.headers["content-disposition"]
    result = _verify(r.content, tmp_path, "soc2", signer)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")
    with zipfile.ZipFile(tmp_path / "bundle.zip") as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["framework"] == "soc2" and manifest["key"] == signer.fingerprint
        assert "manual/" in " ".join(z.namelist())


def test_auditor_exports_within_their_period_and_frameworks_only(console: Served, tmp_path: Path) -> None:
    signer = _checkpoint(console.store)
    today = now().date()
    with client(console) as c:
        login(c, "audrey")
        refused = _export(c, framework="iso27001", **{"from": str(today), "to": str(today)})
        assert refused.status_code == 403 and "outside your access" in refused.text
        refused = _export(c, framework="soc2", **{"from": "2019-01-01", "to": str(today)})
        assert refused.status_code == 403 and "outside your audit period" in refused.text
        r = _export(c, framework="soc2", **{"from": str(today), "to": str(today)})
        assert r.status_code == 200, r.text[:800]
    result = _verify(r.content, tmp_path, "soc2", signer)
    assert result.returncode == 0, result.stdout + result.stderr
    targets = {
        json.loads(e["content"])["target"]: json.loads(e["content"])["status"] for e in access_entries(console.store)
    }
    assert targets[f"/console/evidence/export?framework=soc2&from={today}&to={today}"] == 200
    assert targets[f"/console/evidence/export?framework=iso27001&from={today}&to={today}"] == 403


def test_export_form_needs_the_session_csrf_token_and_good_input(console: Served) -> None:
    with client(console) as c:
        login(c, "olivia")
        r = c.post("/console/evidence/export", data={"csrf": "forged", "framework": "soc2"})
        assert r.status_code == 403 and "CSRF" in r.text
        page = c.get("/console/evidence").text
        for data, words in (
            ({"framework": "hipaa"}, "not in scope"),
            ({"framework": "soc2", "from": "2026-02-30"}, "from: expected a date"),
            ({"framework": "soc2", "colour": "red"}, "unknown parameter"),
            ({}, "framework: choose"),
        ):
            r = c.post("/console/evidence/export", data={"csrf": csrf_of(page), **data})
            assert r.status_code == 400, (data, r.status_code)
            assert words in r.text, (data, r.text[:600])
    with client(console) as c:  # no session
        r = c.post("/console/evidence/export", data={"csrf": "x", "framework": "soc2"})
        assert r.status_code == 403


def test_an_overdue_document_is_said_in_words(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'overdue.db'}")
    store.upgrade()
    doc = tmp_path / "access-review-q1.pdf"
    doc.write_bytes(b"%PDF-1.4 access review")
    attach(
        store,
        control_id="POL-INFOSEC",
        path=doc,
        owner="it@example.com",
        review_every=timedelta(days=30),
        controls=load_mappings().controls,
        now=now() - timedelta(days=45),
    )
    http, served = serve(f"sqlite:///{tmp_path / 'overdue.db'}", store)
    try:
        with client(served) as c:
            login(c, "olivia")
            text = c.get("/console/evidence").text
        assert 'class="overdue"' in text and "Overdue</span> review was due" in text
    finally:
        http.stop()
        store.close()
