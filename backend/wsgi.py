"""The application gunicorn serves (deploy/gunicorn.conf.py): a web worker never runs
migrations, so it leaves Flask-Migrate and Alembic unloaded (issue 23, memory)."""

import gc
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


# The master builds the app once and forks the workers, which then share its pages until they
# write to them. Python's cyclic collector writes to every object it scans, so its first full
# collection in a worker used to copy most of the preloaded app into that worker. Frozen, the
# app's long-lived objects are never scanned: per worker after warm-up, PSS 77.5 -> 52.7 MB and
# USS 69 -> 38 MB (bench/bench_memory.py, 4 workers). The collect first leaves only live
# objects to freeze, so the permanent generation holds no garbage. The gc module's documented
# recipe for a server that forks without exec.
gc.collect()
gc.freeze()
