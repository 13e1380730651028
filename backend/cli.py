"""Flask commands: create-user, change-password, reset-password, verify-audit,
import-jurisdictions, seed-demo.

Passwords are never command-line arguments (they would sit in shell history and in
`ps` for every local user to read): commands prompt for them without echo, or read
them from standard input when it is not a terminal.
"""

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


def _new_password(prompt: str = "New password") -> str:
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _run(command_name: str, use_case):
    """Run one use case as the CLI, commit it, and turn problems into clean errors."""
    token = _as_cli(command_name)
    try:
        result = use_case()
        db.session.commit()
        return result
    except ProblemError as problem:
        if problem.keep_changes:
            db.session.commit()
        else:
            db.session.rollback()
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in problem.errors.items())
        raise click.ClickException(
            f"{problem.detail or problem.slug} {details}".strip()) from None
    finally:
        reset_actor(token)


def _user_id(username: str) -> str:
    from backend.auth import service as auth

    user = auth.find_by_username(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user.id


def register_commands(app: Flask) -> None:
    from backend.checkins.cli import register_commands as register_checkin_commands
    from backend.devices.cli import register_commands as register_device_commands
    from backend.encryption.cli import register_commands as register_encryption_commands
    from backend.retention.cli import register_commands as register_retention_commands

    register_device_commands(app)
    register_encryption_commands(app)
    register_checkin_commands(app)
    register_retention_commands(app)

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--role", "roles", multiple=True, required=True)
    @click.option("--jurisdiction", required=True, help="division code, e.g. 530621100")
    @click.option("--name", "display_name", default=None)
    def create_user(username, roles, jurisdiction, display_name):
        """Create a user with one or more roles in a jurisdiction (asks for the password)."""
        from backend.auth import service as auth

        password = _new_password("Password")
        user = _run("create-user", lambda: auth.create_user(
            username, password, list(roles), jurisdiction, display_name))
        click.echo(f"created {user.username} ({', '.join(sorted(user.roles))}) in {jurisdiction}")

    @app.cli.command("change-password")
    @click.option("--username", required=True)
    def change_password(username):
        """Change a user's password, given the current one; ends all their sign-ins."""
        from backend.auth import service as auth

        user_id = _user_id(username)
        current = click.prompt("Current password", hide_input=True)
        new = _new_password()
        _run("change-password", lambda: auth.change_password(user_id, current, new))
        click.echo(f"password of {username} changed; every session of theirs has ended")

    @app.cli.command("reset-password")
    @click.option("--username", required=True)
    def reset_password(username):
        """Set a new password for a user (as the server's operator); ends all their sign-ins."""
        from backend.auth import service as auth

        user_id = _user_id(username)
        new = _new_password()
        _run("reset-password", lambda: auth.reset_password(None, user_id, new))
        click.echo(f"password of {username} reset; every session of theirs has ended")

    @app.cli.command("verify-audit")
    @click.option("--since", "since_seq", type=int, default=0,
                  help="start after this chain position (one checked before), trusting it")
    @click.option("--anchor", "anchor_file", default=None,
                  type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="a signed daily anchor: prove the chain leads through its head")
    @click.option("--public-key", default=None,
                  help="base64 Ed25519 public key the anchor is checked with (default: "
                       "AUDIT_ANCHOR_PUBLIC_KEY, else the signing key's)")
    def verify_audit(since_seq, anchor_file, public_key):
        """Check the audit trail's hash chain; name the first broken row (exit 1) or say OK.

        With --anchor, the whole chain is walked and must pass through the anchored head."""
        from backend.audit import service as audit

        if anchor_file is not None:
            _verify_to_anchor(anchor_file, public_key)
            return
        report = audit.verify_chain(since_seq)
        if report.is_intact:
            click.echo(f"OK: {report.rows} audit rows chained; head {report.last_seq} "
                       f"{report.last_hash}")
            return
        broken = report.broken
        where = (f"row id {broken.row_id} at {broken.at.isoformat() if broken.at else '?'}"
                 if broken.row_id is not None else
                 f"after the last row (at {broken.at.isoformat() if broken.at else '?'})")
        click.echo(f"BROKEN: {where}: {broken.reason}. The {report.rows} rows before it hold.",
                   err=True)
        raise SystemExit(1)

    @app.cli.command("audit-anchor")
    def audit_anchor():
        """Sign the audit chain's head and store it now (the worker does it daily)."""
        from backend import anchoring
        from backend.audit import anchor

        try:
            written = _run("audit-anchor", anchoring.write_anchor)
        except anchor.AnchorKeyError as problem:
            raise click.ClickException(str(problem)) from problem
        click.echo(f"anchored: head {written.chain_seq} {written.row_hash} "
                   f"(key {written.key_id})")

    @app.cli.command("audit-anchor-keys")
    def audit_anchor_keys():
        """Print a fresh Ed25519 key pair for AUDIT_ANCHOR_SIGNING_KEY / _PUBLIC_KEY."""
        from backend.audit import anchor

        private, public = anchor.new_key_pair()
        click.echo(f"AUDIT_ANCHOR_SIGNING_KEY={private}\nAUDIT_ANCHOR_PUBLIC_KEY={public}")

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
        from backend.demo import (
            calm_survey,
            demo_logins,
            demo_recipients,
            demo_tour,
            seed,
            seed_checkins,
            seed_reviewed_visits,
        )
        from backend.demo_cases import seed_decided_cases

        token = _as_cli("seed-demo")
        try:
            logins = seed(password)
            db.session.commit()
            recipients = []
            if logins is not None:
                # Visits first: enrolling recipients approves their households' cases, and
                # a decided case takes no more visits.
                visits = seed_reviewed_visits(app.extensions["doorstep.sync"])
                db.session.commit()
                click.echo(f"{visits} home visits to review")
                # Decided through the workflow itself: visits attested by two phones,
                # reviewed, checked, a panel held, 7 days of notice, the county's check.
                approved = seed_decided_cases(app.extensions["doorstep.sync"], calm_survey)
                db.session.commit()
                recipients = seed_checkins(approved)
                db.session.commit()
        finally:
            reset_actor(token)
        if logins is None:
            # A second `make run` keeps the database: say so, and list the logins again.
            click.echo("demo data already present (kept as it is under instance/)")
            logins, recipients = demo_logins(), demo_recipients()
            password = f"{password}, unless changed since"
        for what, value in recipients:
            click.echo(f"  {what}: {value}")
        for line in demo_tour():
            click.echo(line)
        click.echo(f"demo logins (password for all: {password}):")
        for township, rows in logins.items():
            click.echo(f"  {township}")
            for username, roles in rows:
                click.echo(f"    {username:<22} {roles}")


def _verify_to_anchor(anchor_file: Path, public_key: str | None) -> None:
    from flask import current_app

    from backend.audit import anchor

    try:
        key = anchor.verifying_key(current_app.config, public_key)
        signed = anchor.read_anchor(anchor_file.read_text(encoding="utf-8"), key)
    except ValueError as problem:  # AnchorKeyError included
        click.echo(f"BROKEN: {problem}", err=True)
        raise SystemExit(1) from problem
    check = anchor.verify_to_anchor(signed)
    report = check.report
    if check.holds:
        click.echo(f"OK: {report.rows} audit rows chained, through the anchor of "
                   f"{signed.anchored_at.isoformat()} at position {signed.chain_seq}; head "
                   f"{report.last_seq} {report.last_hash}")
        return
    broken = report.broken
    reason = check.problem or (f"row id {broken.row_id}: {broken.reason}" if broken else "?")
    click.echo(f"BROKEN: {reason}", err=True)
    raise SystemExit(1)
