"""Flask commands: create-user, import-jurisdictions, seed-demo."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from backend.audit.context import ActorContext, reset_actor, set_actor
from backend.errors import ProblemError
from backend.extensions import db


def _as_cli(command_name: str):
    return set_actor(ActorContext(actor_id=None, request_id=f"cli:{command_name}",
                                  user_agent="flask-cli"))


def register_commands(app: Flask) -> None:
    from backend.devices.cli import register_commands as register_device_commands

    register_device_commands(app)

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--password", required=True)
    @click.option("--role", "roles", multiple=True, required=True)
    @click.option("--jurisdiction", required=True, help="division code, e.g. 530621100")
    @click.option("--name", "display_name", default=None)
    def create_user(username, password, roles, jurisdiction, display_name):
        """Create a user with one or more roles in a jurisdiction."""
        from backend.auth import service as auth

        token = _as_cli("create-user")
        try:
            user = auth.create_user(username, password, list(roles), jurisdiction, display_name)
            db.session.commit()
        except ProblemError as problem:
            db.session.rollback()
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in problem.errors.items())
            raise click.ClickException(
                f"{problem.detail or problem.slug} {details}".strip()) from None
        finally:
            reset_actor(token)
        click.echo(f"created {user.username} ({', '.join(sorted(user.roles))}) in {jurisdiction}")

    @app.cli.command("import-jurisdictions")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_jurisdictions(csv_file: Path):
        """Load or update the jurisdiction tree from CSV (code,name,parent_code)."""
        from backend.jurisdictions import service as jurisdictions

        token = _as_cli("import-jurisdictions")
        try:
            result = jurisdictions.import_csv(csv_file.read_text(encoding="utf-8-sig"))
            db.session.commit()
        except ProblemError as problem:
            db.session.rollback()
            lines = problem.errors.get("rows") or [problem.detail]
            raise click.ClickException(
                "nothing imported:\n  " + "\n  ".join(lines)) from None
        except UnicodeDecodeError:
            raise click.ClickException(
                "nothing imported: the file is not UTF-8 text") from None
        finally:
            reset_actor(token)
        click.echo(f"added {result['added']}, renamed {result['updated']}, "
                   f"unchanged {result['unchanged']}")

    @app.cli.command("seed-demo")
    @click.option("--password", default="demo-pass-2026", show_default=True)
    def seed_demo(password):
        """Create a demo county, households, cases and one user per role per township."""
        from backend.demo import seed

        token = _as_cli("seed-demo")
        try:
            logins = seed(password)
            db.session.commit()
        finally:
            reset_actor(token)
        if logins is None:
            click.echo("demo data already present; logins unchanged")
            return
        click.echo(f"demo logins (password for all: {password}):")
        for township, rows in logins.items():
            click.echo(f"  {township}")
            for username, roles in rows:
                click.echo(f"    {username:<22} {roles}")
