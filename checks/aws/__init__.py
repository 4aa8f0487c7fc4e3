"""The AWS check catalog: one module per service, each check a pure function over one resource.

Resource types, ids and attribute keys follow docs/aws-resources.md.
"""
