"""The application gunicorn serves (deploy/gunicorn.conf.py): a web worker never runs
migrations, so it leaves Flask-Migrate and Alembic unloaded (issue 23, memory)."""

import os

from backend import create_app

app = create_app({"WEB_WORKER": True})


def _fresh_pool_in_child() -> None:
    """With gunicorn's --preload the master builds the app and forks the workers; a pooled
    connection opened before the fork must never be shared, so each child starts its pool
    afresh (close=False leaves the parent's connections to the parent; SQLAlchemy's advice)."""
    from backend.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_pool_in_child)
