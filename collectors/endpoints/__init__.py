"""Endpoint collectors: every source kind yields ``endpoint.device`` resources (device.py).

    collect(source: EndpointSource, ctx) -> list[Snapshot]

dispatches on ``source.kind``: ``intune`` (collectors/endpoints/intune.py), ``fleet`` (Fleet REST
API), ``ssm`` (AWS Systems Manager inventory) and ``push`` (the latest report each device pushed
to ``POST /v1/devices``, read from the store through ``ctx.store``).
"""

from __future__ import annotations

from agent.errors import AgentError
from agent.models import Snapshot
from collectors import CollectContext
from collectors.endpoints.config import EndpointSource

__all__ = ["collect"]


def collect(source: EndpointSource, ctx: CollectContext) -> list[Snapshot]:
    if source.kind == "fleet":
        from collectors.endpoints.fleet import collect_fleet

        return collect_fleet(source, ctx)
    if source.kind == "ssm":
        from collectors.endpoints.ssm import collect_ssm

        return collect_ssm(source, ctx)
    if source.kind == "push":
        from collectors.endpoints.push import collect_push

        return collect_push(source, ctx)
    if source.kind == "intune":
        try:
            from collectors.endpoints.intune import collect_intune
        except ImportError as exc:
            raise AgentError(f"source {source.name}: the Intune collector is not available: {exc}") from None
        return collect_intune(source, ctx)
    raise AgentError(f"source {source.name}: unknown endpoint kind {source.kind!r}")
