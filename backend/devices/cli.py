"""Flask commands for device keys: list-keys, revoke-key (an operator on the server)."""

from __future__ import annotations

import click
from flask import Flask

from backend.audit.context import ActorContext, reset_actor, set_actor
from backend.errors import ProblemError
from backend.extensions import db


def _line(key) -> str:
    state = (f"revoked {key.revoked_at.isoformat()} ({key.revoked_reason})"
             if key.revoked_at else "active")
    return f"{key.id}  device {key.device_id}  created {key.created_at.isoformat()}  {state}"


def register_commands(app: Flask) -> None:
    @app.cli.command("list-keys")
    @click.option("--username", required=True)
    def list_keys(username):
        """List a user's device attestation keys, newest first."""
        from backend.devices import service

        try:
            keys = service.keys_for_username(username)
        except ProblemError as problem:
            raise click.ClickException(problem.detail or problem.slug) from None
        if not keys:
            click.echo(f"{username} has no device keys")
        for key in keys:
            click.echo(_line(key))

    @app.cli.command("revoke-key")
    @click.argument("key_id")
    def revoke_key(key_id):
        """Revoke a device key (a lost phone, a worker who left): it completes no visit
        received from now on."""
        from backend.devices import service

        token = set_actor(ActorContext(actor_id=None, request_id="cli:revoke-key",
                                       user_agent="flask-cli"))
        try:
            key = service.revoke_by_operator(key_id)
            db.session.commit()
        except ProblemError as problem:
            db.session.rollback()
            raise click.ClickException(problem.detail or problem.slug) from None
        finally:
            reset_actor(token)
        click.echo(_line(key))
