"""Flask commands of the check-in: the window judging run once by hand, and a VAPID key pair
for Web Push. The job worker is the kernel's `flask worker`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from backend.audit.context import ActorContext, reset_actor, set_actor
from backend.extensions import db

group = AppGroup("checkins", help="Recipient check-in jobs.")


@group.command("judge-windows")
def judge_windows():
    """Mark missed every closed window without a check-in (what the daily job does)."""
    from backend.checkins import windows

    token = set_actor(ActorContext(actor_id=None, request_id="cli:judge-windows",
                                   user_agent="flask-cli"))
    try:
        missed = windows.judge_closed_windows()
        db.session.commit()
    finally:
        reset_actor(token)
    click.echo(f"{missed} window(s) marked missed")


@group.command("vapid-keys")
@click.option("--subject", default="mailto:admin@example.gov.cn", show_default=True,
              help="who runs this server (a push service writes here about problems)")
def vapid_keys(subject):
    """Print a fresh VAPID key pair (Web Push) as lines for the env file."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid
    from py_vapid.utils import b64urlencode

    vapid = Vapid()
    vapid.generate_keys()
    # Browsers take the public key as the raw uncompressed point (applicationServerKey);
    # pywebpush takes the private key as its raw 32 bytes: both base64url, one line each.
    public = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    click.echo(f"VAPID_PUBLIC_KEY={b64urlencode(public)}")
    click.echo(f"VAPID_PRIVATE_KEY={b64urlencode(private)}")
    click.echo(f"VAPID_SUBJECT={subject}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(group)
