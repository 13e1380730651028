"""Signed webhooks (Standard Webhooks): county administrators subscribe a receiver to events
that left the transactional outbox; deliveries are retried, logged and masked by purpose."""
