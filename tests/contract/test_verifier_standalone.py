"""The standalone verifier (deploy/verifier, package posture_verify) needs nothing of the agent.

Its modules import only the standard library, cryptography and rfc3161_client; it runs as
`python -m posture_verify` with every other third-party package unimportable; it gives the same
verdict and the same problems as `posture-agent evidence verify`; a bundle unpacked and zipped
again by another tool still verifies; and its wheel holds posture_verify alone.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.evidence.checkpoints import Signer, checkpoint_now
from agent.evidence.export import export_bundle
from agent.mappings import load_mappings
from agent.store import Store
from tests.contract.conftest import build_wheel
from tests.integration.evidence.helpers import T0, seed

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "deploy" / "verifier"
PACKAGE = VERIFIER / "posture_verify"
VECTORS = ROOT / "tests" / "fixtures" / "evidence-vectors"
# what posture_verify may import; cffi, _cffi_backend and pycparser come with cryptography
ALLOWED = {"posture_verify", "cryptography", "rfc3161_client"}
RUNTIME_ALLOWED = ALLOWED | {"cffi", "_cffi_backend", "pycparser"}
# loaded by name only when present, for format-1 bundles (zstd blobs)
OPTIONAL = {"zstandard"}
AGENT_CLI = Path(sys.executable).parent / "posture-agent"

BLOCKER = f'''
"""Test harness: every third-party top-level package but the verifier's own dependencies is unimportable."""
import sys

_ALLOWED = {sorted(RUNTIME_ALLOWED)!r}


class _Blocked:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in _ALLOWED:
            return None
        raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not a dependency of posture-verify)",
                                  name=name)


sys.meta_path.insert(0, _Blocked())
'''


# -- (a) imports -------------------------------------------------------------------------------------


def _imports(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, module, dynamic) of every import in a module; relative imports are the package's own."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, False
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, ("posture_verify" if node.level else str(node.module)), False
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__"):
                arg = node.args[0] if node.args else None
                yield node.lineno, arg.value if isinstance(arg, ast.Constant) else "<computed>", True


def test_package_imports_only_stdlib_cryptography_and_rfc3161() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in modules} >= {
        "__init__.py",
        "__main__.py",
        "canonical.py",
        "lthash.py",
        "manifests.py",
        "records.py",
        "chain.py",
        "checkpoints.py",
        "bundle.py",
        "cli.py",
    }
    bad = []
    for path in modules:
        for line, module, dynamic in _imports(path):
            top = module.split(".")[0]
            ok = top in OPTIONAL if dynamic else (top in sys.stdlib_module_names or top in ALLOWED)
            if not ok:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, bad


# -- a bundle exported by the agent from the seeded store ----------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("standalone")
    key = Ed25519PrivateKey.generate()
    signer = Signer(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    store = Store(f"sqlite:///{tmp / 'posture.db'}")
    store.upgrade()
    try:
        seed(store, cycles=5)  # 00:00..01:00, signed by the checkpoint at 01:00
        for hour in (1, 2):  # hourly, as the daemon writes them: with a pinned key they must cover the period
            checkpoint_now(store, T0.replace(hour=hour), signer)
        bundle = tmp / "bundle.zip"
        export_bundle(
            store,
            load_mappings(),
            framework="soc2",
            start=T0,
            end=datetime(2026, 1, 1, 2, tzinfo=UTC),
            out=bundle,
            signer=signer,
        )
    finally:
        store.close()
    pem = tmp / "signing-public.pem"
    pem.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    tampered = tmp / "tampered.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "records/finding_events.jsonl":
                data = data.replace(b'"status":"fail"', b'"status":"pass"', 1)
            dst.writestr(info.filename, data)
    blockdir = tmp / "blocker"
    blockdir.mkdir()
    (blockdir / "sitecustomize.py").write_text(BLOCKER)
    return {"bundle": bundle, "tampered": tampered, "pem": pem, "blockdir": blockdir, "tmp": tmp}


def _standalone(exported: dict[str, Path], *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m posture_verify ...` with only the verifier's dependencies importable."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(exported["blockdir"]), str(VERIFIER)]),
        "PYTHONNOUSERSITE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "posture_verify", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _agent(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENT_CLI), "evidence", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_blocker_blocks(exported: dict[str, Path]) -> None:
    env = {**os.environ, "PYTHONPATH": str(exported["blockdir"])}
    for module in ("agent", "zstandard", "sqlalchemy", "pydantic", "boto3"):
        r = subprocess.run(
            [sys.executable, "-c", f"import {module}"], env=env, capture_output=True, text=True, check=False
        )
        assert r.returncode == 1 and "blocked" in r.stderr, (module, r.stderr)


def test_standalone_verifies_the_agent_bundle(exported: dict[str, Path]) -> None:
    r = _standalone(exported, exported["bundle"], "--public-key", exported["pem"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK: ") and "signatures verified" in r.stdout, r.stdout
    agent = _agent(exported["bundle"], "--public-key", exported["pem"])
    assert agent.returncode == 0, agent.stdout + agent.stderr
    assert agent.stdout == r.stdout  # the same summary line
    as_json = json.loads(_standalone(exported, exported["bundle"], "--format", "json").stdout)
    assert as_json["ok"] is True and as_json["entries"] == 8 and as_json["issues"] == []


def test_standalone_and_agent_name_the_same_problems(exported: dict[str, Path]) -> None:
    r = _standalone(exported, exported["tampered"], "--public-key", exported["pem"])
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1].startswith("FAILED with "), lines
    problems = lines[:-1]
    assert any(p.startswith("file records/finding_events.jsonl: ") and "altered" in p for p in problems), problems
    assert any(p.startswith("finding_events of snapshot ") for p in problems), problems
    agent = _agent(exported["tampered"], "--public-key", exported["pem"])
    assert agent.returncode == 1
    assert [x.removeprefix("FAIL ") for x in agent.stderr.splitlines() if not x.startswith("NOTE ")] == problems
    assert agent.stdout.strip() == lines[-1]
    assert "Traceback" not in r.stderr + agent.stderr


# -- errors are one line, never a traceback -------------------------------------------------------------


def test_usage_and_input_errors_are_one_line(exported: dict[str, Path]) -> None:
    tmp = exported["tmp"]
    missing = _standalone(exported, tmp / "nope.zip")
    assert missing.returncode == 2 and missing.stderr.strip() == f"posture-verify: bundle not found: {tmp / 'nope.zip'}"
    not_zip = tmp / "not-a.zip"
    not_zip.write_text("hello")
    r = _standalone(exported, not_zip)
    assert r.returncode == 1 and r.stdout.splitlines()[0].startswith(f"bundle {not_zip}: not a readable zip")
    garbage = tmp / "garbage.zip"
    with zipfile.ZipFile(garbage, "w") as zf:
        zf.writestr("manifest.json", "{not json")
    r = _standalone(exported, garbage)
    assert r.returncode == 1 and "file manifest.json: is not JSON" in r.stdout
    # garbage inside a listed file, with the manifest updated to match (an attacker's edit)
    edited = tmp / "edited.zip"
    _rewrite(
        exported["bundle"],
        edited,
        {"records/snapshots.jsonl": b'{"id": "x"}\nnot json\n[1]\n', "chain/segment.json": b"[]"},
    )
    r = _standalone(exported, edited)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "file records/snapshots.jsonl: line 2 is not a JSON object" in r.stdout
    assert "file chain/segment.json: is not a JSON object" in r.stdout
    # a member whose bytes no longer match the zip's own CRC
    stored = tmp / "stored.zip"
    with zipfile.ZipFile(exported["bundle"]) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
        for n in src.namelist():
            dst.writestr(n, src.read(n))
    with zipfile.ZipFile(stored) as zf:
        page = zf.read("report.html")
    raw = bytearray(stored.read_bytes())
    at = raw.index(page[:64]) + 10
    raw[at] ^= 0x20
    stored.write_bytes(bytes(raw))
    r = _standalone(exported, stored)
    assert r.returncode == 1 and any(
        line.startswith("file report.html: cannot be read from the zip: ") for line in r.stdout.splitlines()
    ), r.stdout + r.stderr
    bad_key = tmp / "bad.pem"
    bad_key.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    r = _standalone(exported, exported["bundle"], "--public-key", bad_key)
    assert r.returncode == 2 and r.stderr.startswith(f"posture-verify: --public-key {bad_key}: ")
    assert _standalone(exported, exported["bundle"], "--format", "xml").returncode == 2
    for done in (missing, r):
        assert "Traceback" not in done.stderr


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> None:
    """A copy of a bundle with files replaced and manifest.json updated to their new SHA-256."""
    import hashlib

    with zipfile.ZipFile(src) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items.update(replace)
    manifest = json.loads(items["manifest.json"])
    for name, data in replace.items():
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    items["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)


def test_blob_files_are_checked_against_the_manifest(exported: dict[str, Path]) -> None:
    """Blob files are hashed in the blob pass, and those it does not read (not in the blob index) after it."""
    from posture_verify import verify_bundle

    tmp = exported["tmp"]
    with zipfile.ZipFile(exported["bundle"]) as zf:
        index = zf.read("records/blobs.jsonl").splitlines()
        names = sorted(n for n in zf.namelist() if n.startswith("blobs/"))
        items = {n: zf.read(n) for n in zf.namelist()}
    first, last = names[0], names[-1]
    items[first] = items[first].replace(b"}", b" }", 1)  # blob pass
    items[last] = items[last].replace(b"}", b" }", 1)  # after it: dropped from the index below
    last_hash = last.rsplit("/", 1)[1].removesuffix(".json")
    items["records/blobs.jsonl"] = b"".join(line + b"\n" for line in index if last_hash.encode() not in line)
    out = tmp / "blob-edited.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in items.items():
            zf.writestr(n, data)
    found = [str(i) for i in verify_bundle(out).issues]
    for name in (first, last, "records/blobs.jsonl"):
        assert f"file {name}: SHA-256 differs from the manifest (altered)" in found, found
    first_hash = first.rsplit("/", 1)[1].removesuffix(".json")
    assert f"blobs {first_hash}: body does not hash to its address (altered)" in found, found


# -- re-zipped by another tool ----------------------------------------------------------------------------


def _unpack(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
    return into


def _zip_tool() -> str:
    found = shutil.which("zip")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            "apt-get update -qq && apt-get install -y -qq zip",
            shell=True,
            check=False,
            capture_output=True,
            timeout=600,
        )
        found = shutil.which("zip")
    assert found, "Debian's zip is needed (apt-get install zip)"
    return found


def test_rezipped_with_zip_r_verifies(exported: dict[str, Path]) -> None:
    """`cd x && zip -r ../b.zip .`: directory entries, another file order, other compression."""
    tmp = exported["tmp"]
    unpacked = _unpack(exported["bundle"], tmp / "unpacked-zip")
    out = tmp / "rezipped.zip"
    subprocess.run([_zip_tool(), "-q", "-r", str(out), "."], cwd=unpacked, check=True)
    with zipfile.ZipFile(out) as zf:
        assert any(n.endswith("/") for n in zf.namelist())  # directory entries are there
    r = _standalone(exported, out, "--public-key", exported["pem"])
    assert r.returncode == 0, r.stdout
    assert _agent(out, "--public-key", exported["pem"]).returncode == 0


def test_directory_entries_and_file_order_do_not_count(exported: dict[str, Path]) -> None:
    from posture_verify import verify_bundle

    tmp = exported["tmp"]
    with zipfile.ZipFile(exported["bundle"]) as zf:
        items = [(n, zf.read(n)) for n in zf.namelist()]
    out = tmp / "reordered.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        dirs = sorted({n.rsplit("/", 1)[0] + "/" for n, _ in items if "/" in n})
        for d in dirs:
            zf.writestr(zipfile.ZipInfo(d), b"")
        for n, data in reversed(items):
            zf.writestr(n, data)
    report = verify_bundle(out)
    assert report.ok, report.issues
    # a real file that is not listed still counts
    extra = tmp / "extra.zip"
    shutil.copy(out, extra)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("chain/notes.txt", b"added")
    assert [str(i) for i in verify_bundle(extra).issues] == [
        "file chain/notes.txt: not listed in the manifest (inserted)"
    ]
    # a second member of the same name: which one a reader shows is up to the tool, so it fails
    duplicated = tmp / "duplicated.zip"
    shutil.copy(out, duplicated)
    with warnings.catch_warnings(), zipfile.ZipFile(duplicated, "a") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        zf.writestr("report.html", b"<p>all good</p>")
    found = [str(i) for i in verify_bundle(duplicated).issues]
    assert "file report.html: is in the zip 2 times (inserted)" in found, found


# -- the store reader hands the core uncompressed bodies ----------------------------------------------------


@pytest.mark.parametrize("kind", ["resource", "manifest"])
def test_corrupt_stored_body_is_named(tmp_path: Path, kind: str) -> None:
    """A stored body that is not zstd is reported, not raised (a manifest's used to stop verification)."""
    import sqlalchemy as sa

    from agent.evidence.chain import verify_records
    from agent.evidence.store_records import load_store_records

    store = Store(f"sqlite:///{tmp_path / 'posture.db'}")
    store.upgrade()
    try:
        seed(store)
        with store.engine.begin() as conn:
            for (name,) in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
                conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
            victim = bytes(
                conn.execute(sa.text("SELECT MIN(hash) FROM blobs WHERE kind = :k"), {"k": kind}).scalar()
            ).hex()
            conn.execute(
                sa.text("UPDATE blobs SET body = :b WHERE hash = :h"),
                {"b": b"\x00\x11\x22", "h": bytes.fromhex(victim)},
            )
        found = [str(i) for i in verify_records(load_store_records(store)).issues]
    finally:
        store.close()
    assert f"blobs {victim}: body is not valid zstd (altered)" in found, found
    if kind == "manifest":
        assert any(f"manifest {victim} cannot be read as a manifest" in p for p in found), found


# -- format-1 bundles (zstd blobs) ------------------------------------------------------------------------


def test_format1_bundle_needs_zstandard(exported: dict[str, Path]) -> None:
    """A bundle written before format 2 verifies where zstandard is importable (the agent) and is
    reported as needing the agent where it is not."""
    bundle = VECTORS / "bundle-format1.zip"
    assert _agent(bundle).returncode == 0
    r = _standalone(exported, bundle)
    assert r.returncode == 1
    problems = r.stdout.splitlines()[:-1]
    assert (
        len(problems) == 1
        and "posture-agent-evidence-bundle/1" in problems[0]
        and "posture-agent evidence verify" in problems[0]
    ), problems


# -- (c) the wheel ----------------------------------------------------------------------------------------


def test_verifier_wheel_holds_posture_verify_only(tmp_path: Path) -> None:
    wheel = build_wheel(VERIFIER, tmp_path)
    assert wheel.name.startswith("posture_verify-")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        tops = {n.split("/")[0] for n in names}
        (info,) = [t for t in tops if t.endswith(".dist-info")]
        assert tops == {"posture_verify", info}, tops
        metadata = zf.read(f"{info}/METADATA").decode()
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires == ["Requires-Dist: cryptography>=42", "Requires-Dist: rfc3161-client>=1.0"], requires
    assert "posture-verify = posture_verify.cli:main" in entry_points
    assert {f"posture_verify/{p.name}" for p in PACKAGE.glob("*.py")} <= set(names)


def test_agent_wheel_ships_posture_verify_top_level(agent_wheel: Path) -> None:
    with zipfile.ZipFile(agent_wheel) as zf:
        names = set(zf.namelist())
    assert "posture_verify/__init__.py" in names and "posture_verify/bundle.py" in names
    assert not any(n.startswith("deploy/") for n in names)


def test_summaries_are_computed_again(exported: dict[str, Path]) -> None:
    """The report, OSCAL file and CSVs are computed again from the records (an operator holding the key
    cannot edit them: tests/integration/evidence/test_tamper_matrix.py); the verifier names the framework
    mapping they are computed for, which the auditor can pin."""
    as_json = json.loads(
        _standalone(exported, exported["bundle"], "--public-key", exported["pem"], "--format", "json").stdout
    )
    assert as_json["ok"] is True and as_json["summaries_not_recomputed"] == []
    with zipfile.ZipFile(exported["bundle"]) as zf:
        digest = hashlib.sha256(zf.read("framework.json")).hexdigest()
    assert as_json["framework_sha256"] == digest
    text = _standalone(exported, exported["bundle"], "--public-key", exported["pem"])
    assert (
        f"posture-verify: note: framework: the summaries are computed for the mapping in framework.json, SHA-256 "
        f"{digest}" in text.stderr
    )
    pinned = _standalone(exported, exported["bundle"], "--public-key", exported["pem"], "--framework-sha256", digest)
    assert pinned.returncode == 0 and "note: framework" not in pinned.stderr
    other = _standalone(exported, exported["bundle"], "--public-key", exported["pem"], "--framework-sha256", "ab" * 32)
    assert (
        other.returncode == 1
        and "file framework.json: SHA-256" in other.stdout
        and "is not the framework mapping you pinned" in other.stdout
    )
