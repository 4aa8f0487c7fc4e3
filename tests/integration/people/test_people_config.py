"""A people source's mistakes are one line each, naming the key and what is expected; a valid one reads
the way the README shows it."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from agent.config import parse_config
from agent.errors import ConfigError
from collectors.people.config import PeopleSource, identity_sources

VALID = """\
sources:
  - name: okta
    provider: okta
    org_url: https://acme.okta.com
    token: env:OKTA_TOKEN
  - name: azure
    provider: azure
    tenant_id: 00000000-0000-0000-0000-000000000001
    client_id: 00000000-0000-0000-0000-000000000002
    auth: client_secret
    client_secret: env:AZURE_SECRET
    entra: false
  - name: aws-logs
    provider: aws
    services: [s3, cloudtrail]
  - name: people
    provider: people
    roster: /etc/posture-agent/roster.csv
    identity_map: /etc/posture-agent/identity-map.csv
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), filename="agent.yaml", env={})
    return [str(p) for p in info.value.problems]


def test_the_readme_example_validates_with_its_defaults() -> None:
    cfg = parse_config(VALID, filename="agent.yaml", env={})
    source = cfg.source("people")
    assert isinstance(source, PeopleSource)
    assert source.roster == Path("/etc/posture-agent/roster.csv")
    assert source.offboarding_grace == timedelta(days=1)
    assert source.onboarding_window == timedelta(days=30)
    assert source.max_identity_age == timedelta(days=2)
    assert source.sources is None and source.reads_agent_store()
    # an Azure source without Entra ID and an AWS source without IAM hold no identities
    assert identity_sources(cfg.sources) == ["okta"]
    assert source.reads_sources(cfg.sources) == ["okta"]


def test_mistakes_are_one_line_each() -> None:
    found = problems(
        """\
        sources:
          - name: people
            provider: people
            roster: /etc/roster.xlsx
            identity_map: /etc/map.txt
            offboarding_grace: 1 day
            max_identity_age: 10s
            sources: []
            rooster: /etc/roster.csv
        """
    )
    text = "\n".join(found)
    assert "agent.yaml:4: sources[0].roster: roster must be a .csv or .json file, got '/etc/roster.xlsx'" in text
    assert "sources[0].identity_map: identity_map must be a .csv, .yaml or .yml file" in text
    assert "sources[0].offboarding_grace: invalid duration '1 day'" in text
    assert "sources[0].max_identity_age: max_identity_age must be at least 1m" in text
    assert "sources[0].sources: sources is empty" in text
    assert "rooster" in text and "did you mean" in text
    assert len(found) == 6, found


def test_a_roster_is_required_and_sources_are_names() -> None:
    found = problems(
        """\
        sources:
          - name: people
            provider: people
            sources: [okta, okta]
        """
    )
    text = "\n".join(found)
    assert "sources[0].roster" in text and "required" in text.lower()
    assert "sources names a source twice" in text
