"""The stages of a cycle, in the order Pipeline.run_cycle calls them (agent/cycle.py).

collect -> evaluate (agent/evaluate.py) -> apply exceptions (agent/exceptions.py) -> store the
snapshots -> drift (resources, findings, requirements) -> compose alerts -> store drift and
outbox rows (the same transaction) -> publish metrics and wake the dispatcher.

Every stage but collect and publish is pure: no SQL, no network, no clock; the store reads their
inputs and writes their outputs (agent/store/cycle_tx.py).
"""
