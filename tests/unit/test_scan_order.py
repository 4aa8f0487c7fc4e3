"""`scan --config` runs a source that reads others' stored snapshots (the people ledger) after them,
whatever the config's order, and keeps the config's order otherwise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.cli.core import after_what_they_read
from agent.config import parse_config

CONFIG = """
sources:
  - {name: people, provider: people, roster: /tmp/roster.csv}
  - {name: aws, provider: aws, regions: [us-east-1]}
  - {name: okta, provider: okta, org_url: "https://acme.okta.com", token: "env:OKTA"}
  - {name: gcp, provider: gcp, scope: organizations/1}
"""


def test_the_people_ledger_runs_after_the_identity_sources() -> None:
    sources = parse_config(CONFIG, env={}).sources
    assert [s.name for s in after_what_they_read(sources)] == ["aws", "okta", "gcp", "people"]


@given(st.permutations(range(4)))
def test_any_config_order_puts_the_reader_last_and_keeps_the_rest(order: list[int]) -> None:
    sources = parse_config(CONFIG, env={}).sources
    given_order = [sources[i] for i in order]
    ran = [s.name for s in after_what_they_read(given_order)]
    assert ran[-1] == "people"
    assert ran[:-1] == [s.name for s in given_order if s.name != "people"]
