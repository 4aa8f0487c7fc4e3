"""Identifiers of the demo Azure tenant, shared by the fake and its data modules."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["DEMO_CLIENT_ID", "DEMO_SUBSCRIPTION", "DEMO_TENANT", "GLOBAL_ADMIN", "SECURITY_READER", "iso"]

DEMO_TENANT = "7e1f0c1a-1b2c-4d3e-8f90-a1b2c3d4e5f6"
DEMO_SUBSCRIPTION = "5a8e7c2d-3f41-4b6a-9c0d-112233445566"
DEMO_CLIENT_ID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
SECURITY_READER = "5d6b6bb7-de71-4623-b4af-96380a352509"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
