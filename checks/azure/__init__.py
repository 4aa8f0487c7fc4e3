"""The Azure and Entra ID check catalog: pure functions over one resource each.

Resource types, ids and attribute keys follow docs/azure-resources.md.
"""
