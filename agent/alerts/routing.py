"""Which channels get an alert.

No routes configured: every channel gets every alert at ``alerts.min_severity`` (default medium)
and above. With routes: each route whose filters all match adds its channel (once). Digests and
exception notices follow the same rules using their (highest) severity.
"""

from __future__ import annotations

from agent.alerts.model import SEVERITY_RANK, Alert
from agent.config import AlertRoute, AlertsConfig

__all__ = ["channels_for", "route_matches"]


def route_matches(route: AlertRoute, alert: Alert) -> bool:
    if alert.kind == "test":
        return True
    if alert.rank < SEVERITY_RANK[route.min_severity]:
        return False
    if route.providers and alert.provider not in route.providers:
        return False
    if route.accounts and alert.account not in route.accounts:
        return False
    if route.frameworks:
        wanted = {f.lower() for f in route.frameworks}
        if not wanted.intersection(f.lower() for f in alert.frameworks):
            return False
    return True


def channels_for(alert: Alert, cfg: AlertsConfig) -> list[str]:
    if not cfg.routes:
        if alert.rank < SEVERITY_RANK[cfg.min_severity]:
            return []
        return [c.name for c in cfg.channels]
    out: list[str] = []
    for route in cfg.routes:
        if route.channel not in out and route_matches(route, alert):
            out.append(route.channel)
    return out
