"""Building blocks for running the agent past one machine (issue #19): a scheduler elected through
PostgreSQL, so exactly one is active and a standby takes over (``agent.store.leader``), and rate limits
that worker processes on any machine share through Redis (``agent.scale.ratelimit``). Nothing is
imported here: each module loads SQLAlchemy or redis-py only when the role that needs it imports it,
so the CLI and the collection child stay lean (tests/unit/test_lean_daemon.py). See docs/scale.md.
"""
