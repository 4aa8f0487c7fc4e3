"""The read-only web console (issue #20): server-rendered pages over the evidence store, on the
agent's port (``console:`` in the config) or by `posture-agent console --db URL`.

The package root imports nothing: the config validates password hashes with ``passwords`` alone,
and the app (Starlette, Jinja2, the store's query modules) loads only when a console is served.
"""
