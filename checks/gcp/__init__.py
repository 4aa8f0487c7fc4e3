"""Google Cloud checks over Cloud Asset Inventory snapshots (resource types in docs/gcp-resources.md)."""
