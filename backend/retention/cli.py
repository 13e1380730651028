"""``flask purge``: the retention purge by hand, or its dry run."""

from __future__ import annotations

import click
from flask import Flask


def _print(report) -> None:
    click.echo(f"{'dry run' if report.dry_run else 'purged'} at {report.at.isoformat()}")
    for kind in report.kinds:
        line = (f"{kind.kind}: {kind.count} (files {kind.blob_count}, held {kind.held_count}) "
                f"older than {kind.days} days, before {kind.cutoff.date().isoformat()}")
        if kind.case_ids:
            line += f"; cases {', '.join(kind.case_ids)}"
        if kind.note:
            line += f"; {kind.note}"
        click.echo(line)
    if not report.dry_run:
        click.echo(f"files deleted: {report.blobs_deleted}")


def register_commands(app: Flask) -> None:
    @app.cli.command("purge")
    @click.option("--dry-run", is_flag=True, help="say what would go; change nothing")
    def purge(dry_run: bool) -> None:
        """Purge personal data past its retention (the nightly job), or show what would go."""
        from backend.audit.context import ActorContext, reset_actor, set_actor
        from backend.extensions import db
        from backend.retention import service

        token = set_actor(ActorContext(actor_id=None, request_id="cli:purge",
                                       user_agent="flask-cli"))
        try:
            if dry_run:
                report = service.dry_run()
                db.session.rollback()
            else:
                report = service.run_nightly()
                db.session.commit()
        finally:
            reset_actor(token)
        _print(report)
