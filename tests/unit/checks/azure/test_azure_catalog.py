"""Every Azure and Entra ID check has a full case table: pass, fail, error, and looks fine but is not."""

from __future__ import annotations

import test_azure_arm_monitor_security  # noqa: F401 -- registers its cases
import test_azure_arm_sql_storage  # noqa: F401 -- registers its cases
import test_azure_arm_vault_network  # noqa: F401 -- registers its cases
import test_azure_entra_apps  # noqa: F401 -- registers its cases
import test_azure_entra_ca  # noqa: F401 -- registers its cases
import test_azure_entra_checks  # noqa: F401 -- registers its cases
import test_azure_entra_roles  # noqa: F401 -- registers its cases
import test_azure_entra_settings  # noqa: F401 -- registers its cases
import test_azure_resource_checks  # noqa: F401 -- registers its cases

from agent.registry import checks_in
from tests.unit.checks.casekit import assert_complete


def test_every_azure_check_has_a_full_case_table() -> None:
    assert_complete(checks_in("checks.azure"))
