"""What every table-driven check test must show, whatever the provider.

Each check needs a case that passes, one that fails, one that errors (the input could not be
collected), and at least one case that *looks fine but is not*: an input a careless reading would
pass (a value taken from the service's documentation: a default that is unsafe, a field that is
true for the wrong reason, a condition that narrows a policy). Provider case helpers call
``note`` for each case; each provider's catalog test calls ``assert_complete``.

    case(entra.user_mfa_registered, user(Registration=CAPABLE_FALSE), FAIL, "cannot",
         id="registered-not-capable",
         looks_fine="isMfaRegistered is true, but isMfaCapable is false: the method is not allowed")
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from agent.models import Status
from checks.base import Check

__all__ = ["LOOKS_FINE", "assert_complete", "declared_check_ids", "missing", "note"]

LOOKS_FINE = "looks fine but is not"
_seen: dict[str, set[str]] = {}


def note(check_id: str, expect: Status, looks_fine: str = "") -> None:
    """Record one case of ``check_id``. ``looks_fine``: why a careless reading would pass it."""
    if looks_fine and expect == Status.PASS:
        raise ValueError(f"{check_id}: a 'looks fine but is not' case cannot expect pass")
    kinds = _seen.setdefault(check_id, set())
    kinds.add(expect.value)
    if looks_fine.strip():
        kinds.add(LOOKS_FINE)


def missing(checks: Iterable[Check]) -> dict[str, list[str]]:
    """check id -> the kinds of case it still lacks."""
    wanted = (Status.PASS.value, Status.FAIL.value, Status.ERROR.value, LOOKS_FINE)
    out: dict[str, list[str]] = {}
    for chk in checks:
        lacks = [k for k in wanted if k not in _seen.get(chk.id, set())]
        if lacks:
            out[chk.id] = lacks
    return out


def assert_complete(checks: Iterable[Check]) -> None:
    gaps = missing(checks)
    assert not gaps, "checks without a full case table:\n" + "\n".join(
        f"  {cid}: lacks {', '.join(kinds)}" for cid, kinds in sorted(gaps.items())
    )


def declared_check_ids(package: str) -> frozenset[str]:
    """Every id a ``check(id="...")`` call declares in the source of ``package`` (every module, also the
    ``_`` ones the registry skips), read without importing it: what the catalog must hold, so no test
    needs a count of it. A check whose id is not a string literal cannot be read and fails here."""
    root = Path(__file__).resolve().parents[3].joinpath(*package.split("."))
    ids: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            if not (isinstance(node.func, ast.Name) and node.func.id == "check"):
                continue
            (value,) = [k.value for k in node.keywords if k.arg == "id"] or [None]
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                raise AssertionError(f"{path}:{node.lineno}: a check id that is not a string literal")
            if value.value in ids:
                raise AssertionError(f"{path}:{node.lineno}: check id {value.value} declared twice")
            ids.add(value.value)
    return frozenset(ids)
