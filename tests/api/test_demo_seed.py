"""`make run`'s `flask seed-demo`: the first run seeds and prints the demo logins; every later
run keeps the database and prints the logins again (a new user who runs it twice must not
lose them), with what it can no longer print said plainly."""

from __future__ import annotations

import pytest


@pytest.fixture
def fresh_app(tmp_path):
    """An app on an empty SQLite file of its own: seeding changes what other tests count."""
    from flask_migrate import upgrade

    from backend import create_app
    from backend.extensions import db

    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.sqlite3",
                              "TESTING": True, "PASSWORD_HASH_PROFILE": "CHEAPEST",
                              "PHOTO_DATA_DIR": str(tmp_path)})
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_second_run_prints_the_logins_again(fresh_app):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "home visits to review" in first.output
    assert "PIN 204815" in first.output
    # An address that opens as printed (issue 21: `make run` printed only the path).
    assert "activation slip http://127.0.0.1:5000/checkin/slip?code=" in first.output
    assert "password for all: demo-pass-2026)" in first.output

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    assert "home visits to review" not in second.output  # nothing seeded twice
    for username in ("wenping_fw1", "longtoushan_reviewer", "county_supervisor",
                     "county_admin"):
        assert username in second.output
    assert "demo-pass-2026, unless changed since" in second.output
    # The activated recipient's phone again; the pending code exists only as its hash.
    assert "PIN 204815" in second.output
    assert "/checkin/slip?code=" not in second.output
    assert "print a new slip" in second.output
    # Once the second recipient activates with a PIN of their own, that PIN is not claimed.
    from backend.checkins import enrolment as checkin_enrolment

    code = first.output.split("/checkin/slip?code=")[1].split()[0]
    with fresh_app.app_context():
        checkin_enrolment.activate(code, "135790")
        from backend.extensions import db

        db.session.commit()
    third = runner.invoke(args=["seed-demo"])
    assert third.output.count("PIN 204815") == 1
    assert "PIN chosen on the phone" in third.output and "print a new slip" not in third.output
    # The listing is the same as the first run's, line for line.
    logins = first.output[first.output.index("demo logins"):].splitlines()[1:]
    assert second.output[second.output.index("demo logins"):].splitlines()[1:] == logins


def test_every_approved_demo_case_prints_its_approval_notice(fresh_app):
    """Issue 21: the check-in recipients' cases were approved by a bare status, so the desk
    offered a 批准通知 that the server could not draw (409) and nothing downloaded."""
    from sqlalchemy import select

    from backend.auth import service as auth
    from backend.cases.models import Case
    from backend.documents import service as documents
    from backend.extensions import db
    from backend.workflow import paperwork as workflow

    assert fresh_app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with fresh_app.app_context(), fresh_app.test_request_context():
        approver = auth.caller_for(auth.find_by_username("county_supervisor"))
        approved = db.session.scalars(select(Case).where(Case.status == "approved")).all()
        assert len(approved) >= 3
        for case in approved:
            content = workflow.document_content(approver, case.id, "approval_notice")
            body, _ = documents.render("approval_notice", content, "pdf")
            assert body.startswith(b"%PDF-")
