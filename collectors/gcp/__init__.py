"""The GCP collector: Cloud Asset Inventory over an organisation, folder or project scope."""

from collectors.gcp.collect import collect

__all__ = ["collect"]
