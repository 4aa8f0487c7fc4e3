"""A googleworkspace source's mistakes are one line each, naming the key and what is expected; a valid
one reads the way the README shows it."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import parse_config
from agent.errors import ConfigError
from collectors.googleworkspace.config import WorkspaceSource

VALID = """\
sources:
  - name: workspace
    provider: googleworkspace
    admin_email: posture-reader@example.com
    credentials: file:/etc/posture-agent/workspace-key.json
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), filename="agent.yaml", env={})
    return [str(p) for p in info.value.problems]


def test_the_readme_example_validates_with_its_defaults() -> None:
    source = parse_config(VALID, filename="agent.yaml", env={}).source("workspace")
    assert isinstance(source, WorkspaceSource)
    assert source.customer_id == "my_customer" and source.domain is None
    assert source.inactive_days == 90 and source.max_super_admins == 4
    assert source.directory_url == "https://admin.googleapis.com"
    assert source.token_url == "https://oauth2.googleapis.com/token"
    assert source.account == "example.com"  # my_customer: the administrator's domain
    assert source.credentials.ref == "file:/etc/posture-agent/workspace-key.json"


def test_a_customer_id_is_the_account() -> None:
    source = parse_config(VALID + "    customer_id: C03az79cb\n", env={}).source("workspace")
    assert isinstance(source, WorkspaceSource) and source.account == "C03az79cb"


def test_mistakes_are_one_line_each() -> None:
    found = problems(
        """\
        sources:
          - name: workspace
            provider: googleworkspace
            admin_email: not-an-email
            credentials: '{"type": "service_account"}'
            customer_id: acme
            domain: not a domain
            inactive_days: 0
            max_super_admins: 1000
            token_url: http://oauth2.googleapis.com/token
            page_size: 501
            inactive_day: 30
        """
    )
    assert found == [
        "agent.yaml:4: sources[0].admin_email: admin_email must be an email address such as admin@example.com, "
        "got 'not-an-email'",
        "agent.yaml:5: sources[0].credentials: secrets are given by reference only: use env:NAME or "
        "file:/absolute/path, never the value itself",
        "agent.yaml:6: sources[0].customer_id: customer_id must be my_customer or a customer id such as C03az79cb, "
        "got 'acme'",
        "agent.yaml:7: sources[0].domain: domain must be a domain name such as example.com, got 'not a domain'",
        "agent.yaml:8: sources[0].inactive_days: Input should be greater than or equal to 1",
        "agent.yaml:9: sources[0].max_super_admins: Input should be less than or equal to 100",
        "agent.yaml:10: sources[0].token_url: token_url must be an https:// URL without query, got "
        "'http://oauth2.googleapis.com/token'",
        "agent.yaml:11: sources[0].page_size: Input should be less than or equal to 500",
        "agent.yaml:12: sources[0].inactive_day: unknown key; did you mean 'inactive_days'?",
    ]


def test_the_required_keys_are_named() -> None:
    assert problems("sources:\n  - name: w\n    provider: googleworkspace\n") == [
        "agent.yaml:2: sources[0].admin_email: required key is missing",
        "agent.yaml:2: sources[0].credentials: required key is missing",
    ]


@settings(max_examples=80, deadline=None)
@given(
    key=st.sampled_from(
        ["customer_id", "domain", "admin_email", "inactive_days", "max_super_admins", "directory_url", "page_size"]
    ),
    value=st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)),
)
def test_any_value_is_accepted_or_one_clear_problem(key: str, value: object) -> None:
    import yaml

    text = yaml.safe_dump(
        {
            "sources": [
                {
                    "name": "w",
                    "provider": "googleworkspace",
                    "admin_email": "a@example.com",
                    "credentials": "env:KEY",
                    key: value,
                }
            ]
        }
    )
    try:
        parse_config(text, filename="agent.yaml", env={})
    except ConfigError as exc:
        assert len(exc.problems) == 1 and f"sources[0].{key}" in str(exc.problems[0])
