"""The job kernel: one Huey per app, one worker for every package, tasks held by function.

- ``make run`` needs no extra server: SqliteHuey in instance/huey.sqlite3 (HUEY_BACKEND
  ``sqlite``, the default without REDIS_URL). Production sets REDIS_URL: RedisHuey. Tests
  run ``immediate`` (a task runs at once, in the caller's app context and transaction) or
  drive a real queue by hand (tests/api/test_jobs.py, both backends).
- A package declares its tasks in its own module, at import::

      @jobs.task(retries=3, retry_delay=10, name="checkin_identity")
      def identity(checkin_id: str) -> str | None: ...

      @jobs.periodic_task(crontab(minute="30", hour="16"), name="checkin_window_close")
      def window_close() -> int: ...

  and calls the function's handle to queue it (``identity(checkin_id)``) or ``.run()`` to
  run it here and now. ``init_app`` puts every declared task on the app's Huey; nothing is
  looked up by a string key.
- ``flask worker`` runs the consumer, periodic tasks included, for every package.

Each task runs as one unit of work: in the worker, inside the app's context with one commit
at the end (a failure rolls back, and Huey retries when the task asks for it).

The kernel imports no feature package (an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import with_appcontext
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper

log = logging.getLogger(__name__)

EXTENSION = "doorstep.jobs"
_worker_app: Flask | None = None


@dataclass(eq=False)
class Task:
    """A declared task: call it to queue it on the current app's Huey (run at once in
    immediate mode), ``run`` to run it here in the app's unit of work."""

    function: Callable[..., Any]
    name: str
    schedule: Callable[[Any], bool] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any) -> Any:
        return _kernel().tasks[self](*args)

    def run(self, *args: Any) -> Any:
        return in_app(self.function)(*args)

    @property
    def is_periodic(self) -> bool:
        return self.schedule is not None


_declared: list[Task] = []


def _declare(task: Task) -> Task:
    if any(known.name == task.name for known in _declared):
        raise ValueError(f"two tasks are named {task.name}")
    _declared.append(task)
    return task


def task(*, name: str | None = None, retries: int = 0, retry_delay: int = 0
         ) -> Callable[[Callable[..., Any]], Task]:
    """Declare a queued task (``name`` is its key in the queue; default module.function)."""

    def declare(function: Callable[..., Any]) -> Task:
        return _declare(Task(function, name or f"{function.__module__}.{function.__name__}",
                             options={"retries": retries, "retry_delay": retry_delay}))

    return declare


def periodic_task(schedule: Callable[[Any], bool], *, name: str | None = None
                  ) -> Callable[[Callable[..., Any]], Task]:
    """Declare a periodic task; ``schedule`` is a huey ``crontab`` read in UTC."""

    def declare(function: Callable[..., Any]) -> Task:
        return _declare(Task(function, name or f"{function.__module__}.{function.__name__}",
                             schedule=schedule))

    return declare


def declared() -> list[Task]:
    return list(_declared)


_locks: set[str] = set()


def declare_lock(name: str) -> str:
    """Name a lock a task takes (at import), so the worker releases it when it starts."""
    _locks.add(name)
    return name


def lock(name: str) -> Any:
    """A lock on the app's queue (huey's TaskLock: ``with`` raises TaskLockedException when
    another holds it). Its name is declared, so the worker releases it when it starts."""
    _locks.add(name)
    return current_huey().lock_task(name)


# --- the app's queue ---------------------------------------------------------------------------


@dataclass
class Kernel:
    huey: Huey
    tasks: dict[Task, TaskWrapper]


def make_huey(config: dict[str, Any], instance_path: str) -> Huey:
    backend = config.get("HUEY_BACKEND") or ("redis" if config.get("REDIS_URL") else "sqlite")
    immediate = bool(config.get("HUEY_IMMEDIATE", config.get("TESTING")))
    name = config.get("HUEY_NAME", "doorstep")
    huey: Huey
    if backend == "memory":
        huey = MemoryHuey(name, immediate=immediate, utc=True)
    elif backend == "redis":
        huey = RedisHuey(name, url=config["REDIS_URL"], immediate=immediate, utc=True)
    else:
        path = config.get("HUEY_SQLITE_PATH") or str(Path(instance_path) / "huey.sqlite3")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=path, immediate=immediate, utc=True)
    return huey


def bind(huey: Huey, task_: Task) -> TaskWrapper:
    """Put one declared task on ``huey`` (init_app does it for all; tests for a spare queue)."""
    wrapped = in_app(task_.function)
    if task_.schedule is not None:
        return huey.periodic_task(task_.schedule, name=task_.name)(wrapped)
    return huey.task(name=task_.name, **task_.options)(wrapped)


def init_app(app: Flask) -> Huey:
    """Create the app's Huey with every task declared so far (create_app calls it once the
    packages are imported) and add ``flask worker``."""
    huey = make_huey(app.config, app.instance_path)
    app.extensions[EXTENSION] = Kernel(huey, {t: bind(huey, t) for t in _declared})
    app.cli.add_command(worker)
    return huey


def _kernel() -> Kernel:
    return current_app.extensions[EXTENSION]


def current_huey() -> Huey:
    return _kernel().huey


def is_immediate() -> bool:
    """Tasks run at once in the caller's transaction (tests, the e2e live server)."""
    return bool(current_huey().immediate)


def in_app(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task inside an app context: the caller's (immediate mode, tests) or the
    worker's app, with one commit at the end (the unit of work)."""

    def run(*args: Any) -> Any:
        from backend.extensions import db

        if has_app_context():
            result = function(*args)
            db.session.flush()
            return result
        assert _worker_app is not None, "the worker sets the app (flask worker)"
        with _worker_app.app_context():
            try:
                result = function(*args)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            return result

    # Huey keys a task by module and name: the declaring module's, not this one's.
    run.__name__ = function.__name__
    run.__qualname__ = function.__qualname__
    run.__module__ = function.__module__
    return run


def run_worker(app: Flask, workers: int = 1) -> None:
    """Run the consumer (periodic tasks included) for this app: ``flask worker``."""
    global _worker_app
    _worker_app = app
    huey = app.extensions[EXTENSION].huey
    # A worker killed while holding a task lock would hold it forever: the consumer starts
    # with every lock the tasks declared released (one consumer per queue).
    # An idle SqliteHuey is polled with a growing pause; at most half a second (Huey's
    # default is 10 s), so a change after a quiet spell leaves through the outbox within
    # about a second (bench/bench_outbox.py). RedisHuey blocks on the queue instead.
    huey.create_consumer(workers=workers, periodic=True, flush_locks=True,
                         extra_locks=",".join(sorted(_locks)) or None,
                         initial_delay=0.02, backoff=1.15, max_delay=0.5).run()


@click.command("worker")
@click.option("--workers", default=1, show_default=True,
              help="threads running tasks at once")
@with_appcontext
def worker(workers: int) -> None:
    """Run the job consumer of every package: queued tasks and periodic ones."""
    names = ", ".join(sorted(t.name for t in _declared))
    log.info("worker starts with the tasks %s", names)
    run_worker(current_app._get_current_object(), workers)  # type: ignore[attr-defined]
