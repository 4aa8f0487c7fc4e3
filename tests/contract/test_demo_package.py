"""The demo and the test fakes are a distribution of their own, never part of the agent's wheel.

deploy/demo is ``posture-agent-demo`` (import package ``posture_demo``): the fake clouds, devices and TSA,
the seeded organisation and ``posture-agent demo`` itself. The agent's wheel holds none of it and no test
code, and imports the demo only lazily in the ``demo`` command; the agent's ``demo`` extra requires the demo
distribution at the agent's version; every third-party module the demo imports is a declared dependency of
it, so ``pip install 'posture-agent[demo]'`` is all ``posture-agent demo`` needs; without the demo, the
command says how to install it, in one line.
"""

from __future__ import annotations

import ast
import hashlib
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import HeaderParser
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy" / "demo"
PACKAGE = DEMO / "posture_demo"
# what fakes and tests are made of: nothing in the agent's wheel imports them
FAKE_OR_TEST = {"posture_demo", "moto", "trustme", "tests", "pytest", "hypothesis"}
# the one reference allowed: the `demo` command imports the demo when it runs, not when the CLI loads
LAZY_DEMO_IMPORT = ("agent/cli/core.py", "posture_demo.run")
INSTALL_HINT = "pip install 'posture-agent[demo]'"


def _pyproject(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text())


def _imports(source: str, filename: str) -> Iterator[tuple[str, bool]]:
    """(module, at module level) of every absolute import in a module, ``import_module("x")`` included."""
    tree = ast.parse(source, filename)
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.module, id(node) in top_level
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.args[0].value, False


def _agent_version() -> str:
    return str(_pyproject(ROOT)["project"]["version"])


# -- the agent's wheel ------------------------------------------------------------------------------------


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _fake_or_test_name(path: str) -> bool:
    return any(
        part in ("tests", "conftest.py") or part.startswith("test_") or "fake" in part or "demo" in part
        for part in path.lower().split("/")
    )


def test_agent_wheel_holds_no_fake_or_test_code(agent_wheel: Path) -> None:
    demo_bodies = {_sha(p.read_bytes()): p.name for p in PACKAGE.glob("*.py")}
    assert len(demo_bodies) >= 10, demo_bodies  # awsproxy, fake_azure, fake_gcp, fake_devices, tsa, seed, run, ...
    packages = _pyproject(ROOT)["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    with zipfile.ZipFile(agent_wheel) as zf:
        names = zf.namelist()
        tops = {n.split("/")[0] for n in names}
        (info,) = [t for t in tops if t.endswith(".dist-info")]
        assert tops == {p.rsplit("/", 1)[-1] for p in packages} | {info}, tops
        bodies = {n: zf.read(n) for n in names if not n.endswith("/")}
    copies = [
        f"{n} (a copy of posture_demo/{demo_bodies[h]})" for n, b in bodies.items() if (h := _sha(b)) in demo_bodies
    ]
    assert not copies, copies
    named = [n for n in names if _fake_or_test_name(n)]
    assert not named, named
    imports = sorted(
        (name, module, at_top)
        for name, body in bodies.items()
        if name.endswith(".py") and any(m.encode() in body for m in FAKE_OR_TEST)  # parse only what may import them
        for module, at_top in _imports(body.decode(), name)
        if module.partition(".")[0] in FAKE_OR_TEST
    )
    assert imports == [(*LAZY_DEMO_IMPORT, False)], imports


def test_agent_wheel_demo_extra_requires_the_demo_distribution(agent_wheel: Path) -> None:
    with zipfile.ZipFile(agent_wheel) as zf:
        (info,) = {n.split("/")[0] for n in zf.namelist() if n.split("/")[0].endswith(".dist-info")}
        metadata = HeaderParser().parsestr(zf.read(f"{info}/METADATA").decode())
    version = _agent_version()
    assert metadata["Version"] == version
    assert "demo" in metadata.get_all("Provides-Extra", [])
    requires = [Requirement(r) for r in metadata.get_all("Requires-Dist", [])]
    demo = [r for r in requires if r.marker is not None and r.marker.evaluate({"extra": "demo"})]
    assert [(canonicalize_name(r.name), str(r.specifier)) for r in demo] == [("posture-agent-demo", f"=={version}")]
    unconditional = {canonicalize_name(r.name) for r in requires if r.marker is None}
    assert not unconditional & {"posture-agent-demo", "moto", "trustme"}, unconditional


def test_demo_distribution_is_released_with_the_agent() -> None:
    """posture-agent-demo has the agent's version and requires exactly that agent: it runs the agent's
    daemon and signs device pushes with the agent's code."""
    project = _pyproject(DEMO)["project"]
    version = _agent_version()
    assert project["name"] == "posture-agent-demo" and project["version"] == version
    agent = [
        Requirement(r) for r in project["dependencies"] if canonicalize_name(Requirement(r).name) == "posture-agent"
    ]
    assert [str(r.specifier) for r in agent] == [f"=={version}"]
    assert _pyproject(DEMO)["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["posture_demo"]


# -- the demo's dependencies ------------------------------------------------------------------------------


def test_every_third_party_module_the_demo_imports_is_a_declared_dependency() -> None:
    """Its imports, module by module, against deploy/demo/pyproject.toml's dependencies; and every declared
    dependency is imported (none is left over from an older demo)."""
    declared = {canonicalize_name(Requirement(r).name) for r in _pyproject(DEMO)["project"]["dependencies"]}
    # the agent's own packages (an editable install does not list them for packages_distributions)
    agent_packages = _pyproject(ROOT)["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    owners: dict[str, set[str]] = {p.rsplit("/", 1)[-1]: {"posture-agent"} for p in agent_packages}
    for module, dists in packages_distributions().items():
        owners.setdefault(module, {canonicalize_name(d) for d in dists})
    modules = sorted(PACKAGE.glob("*.py"))
    assert {"awsproxy.py", "fake_azure.py", "fake_gcp.py", "fake_devices.py", "tsa.py", "run.py"} <= {
        p.name for p in modules
    }
    needed: dict[str, set[str]] = {}  # distribution -> where it is imported
    undeclared = []
    for path in modules:
        for module, _ in _imports(path.read_text(), str(path)):
            top = module.partition(".")[0]
            if top in sys.stdlib_module_names or top == "posture_demo" or top == "__future__":
                continue
            dists = owners.get(top)
            where = f"{path.relative_to(ROOT)} imports {module}"
            if not dists:
                undeclared.append(f"{where}: no installed distribution provides it")
                continue
            for dist in dists:
                needed.setdefault(dist, set()).add(where)
            if not dists & declared:
                undeclared.append(f"{where}: {' or '.join(sorted(dists))} is not a dependency of posture-agent-demo")
    assert not undeclared, undeclared
    assert declared - needed.keys() == set(), f"declared but not imported: {sorted(declared - needed.keys())}"
    assert {"moto", "trustme", "posture-agent"} <= needed.keys(), needed.keys()


# -- the command without the demo -------------------------------------------------------------------------


def test_demo_command_without_the_demo_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli.main import main

    for name in ["posture_demo", *(m for m in sys.modules if m.startswith("posture_demo."))]:
        monkeypatch.setitem(sys.modules, name, None)  # import of posture_demo... halted: as if not installed
    monkeypatch.setattr(sys, "argv", ["posture-agent", "demo"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"error: the demo is not installed; install it with: {INSTALL_HINT}\n"
