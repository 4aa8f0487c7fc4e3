"""The Google Workspace check catalog: users (2-Step Verification, administrators, unused accounts) and
the customer (2SV enforced for everyone, number of super administrators).

Resource types and attributes follow collectors/googleworkspace/directory.py and the README section.
"""
