"""Security products recognised by name in software inventories (Intune detected apps, SSM
AWS:Application and AWS:Service), shared by the endpoint collectors.

Installed software says a product is present, not that it runs: collectors record such a product
with its running state unknown unless the source reports a service state.
"""

from __future__ import annotations

__all__ = ["ANTIVIRUS", "EDR", "EDR_SERVICES", "match"]

# Substrings of inventory names (case-insensitive) -> the product name we report.
ANTIVIRUS: dict[str, str] = {
    "crowdstrike": "CrowdStrike Falcon",
    "falcon sensor": "CrowdStrike Falcon",
    "falcon-sensor": "CrowdStrike Falcon",
    "sentinelone": "SentinelOne",
    "sentinel agent": "SentinelOne",
    "sophos": "Sophos Endpoint",
    "eset": "ESET Endpoint Security",
    "trend micro": "Trend Micro",
    "deep security": "Trend Micro Deep Security",
    "symantec endpoint": "Symantec Endpoint Protection",
    "mcafee": "McAfee Endpoint Security",
    "trellix": "Trellix Endpoint Security",
    "bitdefender": "Bitdefender",
    "cortex xdr": "Cortex XDR",
    "carbon black": "VMware Carbon Black",
    "cylance": "Cylance",
    "malwarebytes": "Malwarebytes",
    "kaspersky": "Kaspersky Endpoint Security",
    "webroot": "Webroot",
    "clamav": "ClamAV",
    "microsoft defender": "Microsoft Defender",
    "windows defender": "Microsoft Defender",
    "mdatp": "Microsoft Defender",
}
EDR: dict[str, str] = {
    "crowdstrike": "CrowdStrike Falcon",
    "falcon sensor": "CrowdStrike Falcon",
    "falcon-sensor": "CrowdStrike Falcon",
    "sentinelone": "SentinelOne",
    "sentinel agent": "SentinelOne",
    "cortex xdr": "Cortex XDR",
    "carbon black": "VMware Carbon Black",
    "mdatp": "Microsoft Defender for Endpoint",
    "microsoft defender for endpoint": "Microsoft Defender for Endpoint",
    "sophos": "Sophos Intercept X",
    "trellix": "Trellix EDR",
    "elastic agent": "Elastic Defend",
}
# Windows service names (AWS:Service Name) of EDR sensors and antivirus engines.
EDR_SERVICES: dict[str, str] = {
    "csfalconservice": "CrowdStrike Falcon",
    "sentinelagent": "SentinelOne",
    "sense": "Microsoft Defender for Endpoint",
    "cbdefense": "VMware Carbon Black",
    "cyserver": "Cortex XDR",
    "elastic agent": "Elastic Defend",
}


def match(name: str, table: dict[str, str]) -> str | None:
    """The product an inventory name belongs to, or None."""
    low = name.lower()
    return next((product for key, product in table.items() if key in low), None)
