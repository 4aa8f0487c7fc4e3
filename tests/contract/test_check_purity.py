"""Checks stay pure: they import only the standard library, agent.models, checks.base and helpers.

An AST walk rather than an import hook, so a forbidden import is caught even on a code path that
no unit test runs.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CHECKS_DIR = Path(__file__).resolve().parents[2] / "checks"
FILES = sorted(CHECKS_DIR.rglob("*.py"))
ALLOWED_PROJECT = {"agent.models", "checks.base"}
FORBIDDEN_ROOTS = {
    "boto3",
    "botocore",
    "google",
    "azure",
    "httpx",
    "requests",
    "sqlalchemy",
    "aiohttp",
    "urllib3",
    "psycopg",
    "collectors",
}


def _package_of(path: Path) -> list[str]:
    """The package a file belongs to, as name parts (a package's __init__ belongs to itself)."""
    parts = list(path.relative_to(CHECKS_DIR.parent).with_suffix("").parts)
    return parts[:-1]


def _resolve(node: ast.ImportFrom, path: Path) -> list[str]:
    """Absolute module names an ImportFrom may bring in (relative imports resolved)."""
    if node.level == 0:
        base = node.module or ""
    else:
        pkg = _package_of(path)
        pkg = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
        base = ".".join(pkg + ([node.module] if node.module else []))
    if node.module is None:  # "from . import x": each name is a module of the package
        return [f"{base}.{a.name}" for a in node.names]
    return [base]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.lineno, m) for m in _resolve(node, path)]
    return found


def _allowed(module: str) -> bool:
    root = module.split(".", 1)[0]
    if root in FORBIDDEN_ROOTS:
        return False
    if root == "__future__" or root in sys.stdlib_module_names:
        return True
    if module in ALLOWED_PROJECT:
        return True
    # Private helper modules beside the checks, e.g. checks.aws._util.
    parts = module.split(".")
    return parts[0] == "checks" and len(parts) >= 3 and parts[-1].startswith("_")


def test_there_are_check_files() -> None:
    assert any(p.parent.name == "aws" for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CHECKS_DIR.parent)))
def test_check_module_imports_are_pure(path: Path) -> None:
    bad = [f"line {line}: {mod}" for line, mod in _imports(path) if not _allowed(mod)]
    assert not bad, f"{path.name} imports outside the check sandbox: {bad}"


@pytest.mark.parametrize(
    "module",
    [
        "boto3",
        "botocore.session",
        "google.cloud.asset_v1",
        "azure.identity",
        "httpx",
        "requests",
        "sqlalchemy",
        "agent.store",
        "agent.evaluate",
        "collectors.aws",
        "checks.aws.s3",
    ],
)
def test_rule_rejects(module: str) -> None:
    assert not _allowed(module)


@pytest.mark.parametrize(
    "module", ["json", "datetime", "collections.abc", "agent.models", "checks.base", "checks.aws._util", "__future__"]
)
def test_rule_accepts(module: str) -> None:
    assert _allowed(module)


# -- the pipeline's pure stages (agent/stages/__init__.py) ------------------------------------------

AGENT_DIR = CHECKS_DIR.parent / "agent"
PURE_STAGES = sorted(
    [
        AGENT_DIR / "evaluate.py",
        AGENT_DIR / "drift.py",
        AGENT_DIR / "observations.py",
        AGENT_DIR / "posture.py",
        AGENT_DIR / "stages" / "drift.py",
        AGENT_DIR / "stages" / "exceptions.py",
        AGENT_DIR / "stages" / "alerts.py",
    ]
)
# data models and pure helpers a stage may use; nothing that reaches a database, a network or a collector
STAGE_ALLOWED = {
    "agent.models",
    "agent.drift",
    "agent.observations",
    "agent.mappings",
    "agent.config",
    "agent.alerts.model",
    "agent.alerts.routing",
    "agent.stages.drift",
    "checks.base",
}
STAGE_FORBIDDEN_STDLIB = {"socket", "subprocess", "urllib.request", "http.client", "sqlite3", "threading", "time"}


def _stage_allowed(module: str) -> bool:
    root = module.split(".", 1)[0]
    if root in FORBIDDEN_ROOTS or module in STAGE_FORBIDDEN_STDLIB or root in STAGE_FORBIDDEN_STDLIB:
        return False
    if root == "__future__" or root in sys.stdlib_module_names:
        return True
    return module in STAGE_ALLOWED


def test_the_pure_stages_exist() -> None:
    assert all(p.is_file() for p in PURE_STAGES)


@pytest.mark.parametrize("path", PURE_STAGES, ids=lambda p: str(p.relative_to(CHECKS_DIR.parent)))
def test_pure_stage_imports_no_store_network_or_clock(path: Path) -> None:
    bad = [f"line {line}: {mod}" for line, mod in _imports(path) if not _stage_allowed(mod)]
    assert not bad, f"{path.name} is a pure stage but imports {bad}"


@pytest.mark.parametrize("module", ["agent.store", "agent.store.db", "sqlalchemy", "httpx", "time", "collectors.aws"])
def test_stage_rule_rejects(module: str) -> None:
    assert not _stage_allowed(module)


def test_no_sql_outside_the_store() -> None:
    """The store is the only gateway to the database: SQLAlchemy is imported nowhere else."""
    offenders = []
    for path in sorted(AGENT_DIR.rglob("*.py")):
        if (AGENT_DIR / "store") in path.parents:
            continue
        for line, mod in _imports(path):
            if mod.split(".", 1)[0] == "sqlalchemy":
                offenders.append(f"{path.relative_to(AGENT_DIR.parent)}:{line}")
    assert not offenders, f"SQL outside agent/store: {offenders}"
