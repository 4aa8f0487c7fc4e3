"""An AWS source's ``services`` and the types it collects: the config's answer (no boto3 import) is
the collector's own selection, for every row of the table and any list of services."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.aws.collection import rows_for
from collectors.aws.config import AwsSource
from collectors.aws.table import TABLE

NAMES = sorted({rt.service for rt in TABLE} | {rt.type.split(".")[1] for rt in TABLE} | {"iam", "nothing"})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(NAMES), max_size=5))
def test_collects_is_rows_for(services: list[str]) -> None:
    source = AwsSource(name="a", provider="aws", services=services or None)
    selected = {rt.type for rt in rows_for(services or None)}
    for rt in TABLE:
        assert source.collects(rt.type) == (rt.type in selected), (services, rt.type)


def test_without_services_everything_is_collected() -> None:
    source = AwsSource(name="a", provider="aws")
    assert all(source.collects(rt.type) for rt in TABLE)
