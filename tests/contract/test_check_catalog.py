"""The check catalog as the rest of the agent sees it: discoverable, documented, on-contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.registry import checks_in, load_checks
from checks.base import Check
from tests.unit.checks.casekit import declared_check_ids

ROOT = Path(__file__).resolve().parents[2]
ID_PATTERN = re.compile(r"^aws\.[a-z0-9]+\.[a-z0-9_]+$")
AWS = {cid: chk for cid, chk in load_checks().items() if cid.startswith("aws.")}


def _documented_types() -> set[str]:
    text = (ROOT / "docs" / "aws-resources.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\|\s*`(aws\.[a-z0-9_.]+)`\s*\|", text, flags=re.MULTILINE))


DOCUMENTED = _documented_types()


def test_registry_finds_the_aws_catalog() -> None:
    assert set(AWS) == declared_check_ids("checks.aws")  # every check checks/aws declares, whatever their number


def test_ids_are_unique_and_well_formed() -> None:
    listed = [c.id for c in checks_in("checks.aws")]
    assert len(listed) == len(set(listed))
    bad = [cid for cid in listed if not ID_PATTERN.match(cid)]
    assert not bad


def test_docs_table_was_parsed() -> None:
    assert {"aws.account", "aws.s3.bucket", "aws.iam.user"} <= DOCUMENTED


@pytest.mark.parametrize("chk", list(AWS.values()), ids=lambda c: c.id)
def test_check_is_documented(chk: Check) -> None:
    meta = chk.meta
    assert meta.title.strip() and meta.rationale.strip()
    assert meta.remediation.console.strip(), "console remediation steps are required"
    cli = meta.remediation.cli.strip()
    assert cli.startswith(("aws ", "#")), "cli remediation must be an AWS CLI command"
    assert "aws " in meta.remediation.cli
    assert meta.remediation.docs.startswith("https://docs.aws.amazon.com/")
    assert len(re.findall(r"[.!?](\s|$)", meta.rationale)) <= 3, "rationale is 1-3 sentences"


@pytest.mark.parametrize("chk", list(AWS.values()), ids=lambda c: c.id)
def test_types_are_on_contract(chk: Check) -> None:
    missing = [t for t in (chk.meta.resource_type, *chk.meta.requires) if t not in DOCUMENTED]
    assert not missing, f"{chk.id} uses types not in docs/aws-resources.md: {missing}"
