"""Alerts: a channel-neutral message model, Slack and signed-webhook channels, routing, the
transactional outbox and the dispatcher thread that delivers it."""
