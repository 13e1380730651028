"""Feeds other departments read with service tokens (一件事联办): decisions, in order."""
