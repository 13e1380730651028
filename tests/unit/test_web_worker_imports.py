"""What a web worker loads (issue 23, memory): geopy's geocoders (about 15 MB: geodesics go
through backend/geodesy.py) and dlib (the face check runs in the job worker only) stay out
of the process ``create_app`` builds."""

import os
import subprocess
import sys

PROBE = """
import sys
from backend import create_app
create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


WORKER_PROBE = """
import gc
import sys
from backend.wsgi import app
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
print("migrate" in app.extensions)
print(gc.get_freeze_count(), len(gc.get_objects()))
print(any(obj is app for obj in gc.get_objects()))
"""


def test_the_gunicorn_app_leaves_cli_and_document_libraries_unloaded(tmp_path):
    """Alembic/Mako (the `flask db` CLI), ReportLab and fontTools (the first PDF), XlsxWriter
    (the first export) and segno (the activation slip) load where they are used, not in
    every worker at start: about 30 MB a worker (bench/bench_memory.py)."""
    # A database of its own: the app checks the suite's keys against the database at start,
    # and the default one (instance/, after `make run`) was sealed with the instance's keys.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/worker.sqlite3"}
    printed = subprocess.run([sys.executable, "-c", WORKER_PROBE], capture_output=True,
                             text=True, check=True, env=env).stdout.splitlines()
    loaded = set(printed[0].split())

    assert "backend" in loaded and "flask" in loaded
    assert not loaded & {"alembic", "flask_migrate", "mako", "reportlab", "fontTools",
                         "xlsxwriter", "segno", "geopy", "dlib"}
    assert printed[1] == "False"


def test_the_gunicorn_app_is_frozen_before_the_workers_fork(tmp_path):
    """Preloaded, the master builds the app and forks; a worker's collector must not scan
    (and so copy) the app's long-lived objects: they sit in the permanent generation, where
    gc.get_objects() no longer finds them (PSS per worker 77.5 -> 52.7 MB)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/worker.sqlite3"}
    printed = subprocess.run([sys.executable, "-c", WORKER_PROBE], capture_output=True,
                             text=True, check=True, env=env).stdout.splitlines()
    frozen, still_scanned = map(int, printed[2].split())

    assert frozen > 100_000 and frozen > 10 * still_scanned
    assert printed[3] == "False"  # the Flask app itself is frozen


def test_the_cli_app_still_migrates():
    from backend import create_app

    assert "migrate" in create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).extensions


def test_create_app_loads_neither_geopy_nor_dlib():
    loaded = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True).stdout.split()

    assert "backend" in loaded and "flask" in loaded
    assert "geopy" not in loaded
    assert "dlib" not in loaded
