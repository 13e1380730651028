"""Flask commands of the check-in: the job worker and the jobs run once by hand."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from backend.audit.context import ActorContext, reset_actor, set_actor
from backend.extensions import db

group = AppGroup("checkins", help="Recipient check-in jobs.")


@group.command("worker")
@click.option("--workers", default=1, show_default=True)
def worker(workers):
    """Run the Huey consumer: identity checks, window close (daily), reminders (daily)."""
    from flask import current_app

    from backend.checkins import jobs

    jobs.run_worker(current_app._get_current_object(), workers)  # type: ignore[attr-defined]


@group.command("judge-windows")
def judge_windows():
    """Mark missed every closed window without a check-in (what the daily job does)."""
    from backend.checkins import service

    token = set_actor(ActorContext(actor_id=None, request_id="cli:judge-windows",
                                   user_agent="flask-cli"))
    try:
        missed = service.judge_closed_windows()
        db.session.commit()
    finally:
        reset_actor(token)
    click.echo(f"{missed} window(s) marked missed")


def register_commands(app: Flask) -> None:
    app.cli.add_command(group)
