"""GitHub checks over one organisation's snapshot: the organisation, its members and its repositories
(resource types and attributes: collectors/github/org.py and collectors/github/repos.py)."""
