"""The people-ledger check catalog: leavers' access, accounts of nobody, MFA wherever a person has access,
background checks and security training (collectors/people, docs/people.md)."""
