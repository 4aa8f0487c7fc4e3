"""Every GCP check has a full case table (pass, fail, error, looks fine but is not) and says what it reads."""

from __future__ import annotations

import test_gcp_compute_checks  # noqa: F401 -- registers its cases
import test_gcp_data_checks  # noqa: F401 -- registers its cases
import test_gcp_iam_checks  # noqa: F401 -- registers its cases
import test_gcp_logging_checks  # noqa: F401 -- registers its cases

from agent.registry import checks_in
from tests.unit.checks.casekit import assert_complete


def test_every_gcp_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.gcp"))


def test_every_gcp_check_says_what_it_reads_and_needs() -> None:
    for chk in checks_in("checks.gcp"):
        assert chk.meta.reads and chk.meta.needs, chk.id


def test_at_least_thirty_gcp_checks() -> None:
    assert len(checks_in("checks.gcp")) >= 30
