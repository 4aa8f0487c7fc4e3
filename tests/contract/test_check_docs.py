"""docs/checks.md is the generated catalog, and every check says what it reads and what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.catalog_doc import catalog_markdown
from agent.mappings import load_mappings
from agent.registry import load_checks
from checks.base import Check

ROOT = Path(__file__).resolve().parents[2]
CHECKS = load_checks()


def test_docs_checks_md_is_the_generated_catalog() -> None:
    expected = catalog_markdown(CHECKS.values(), load_mappings())
    got = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert got == expected, "docs/checks.md is stale: posture-agent checks list --format markdown > docs/checks.md"


@pytest.mark.parametrize("chk", list(CHECKS.values()), ids=lambda c: c.id)
def test_check_declares_what_it_reads_and_needs(chk: Check) -> None:
    assert chk.meta.reads and all(r.strip() for r in chk.meta.reads), "reads=(...) names the API calls and fields"
    assert chk.meta.needs.strip(), "needs= names the permission or licence"


def test_catalog_meets_the_coverage_the_auditor_expects() -> None:
    per_provider: dict[str, int] = {}
    for chk in CHECKS.values():
        per_provider[chk.meta.provider] = per_provider.get(chk.meta.provider, 0) + 1
    assert per_provider["azure"] >= 32 and per_provider["gcp"] >= 30 and per_provider["endpoints"] >= 14
