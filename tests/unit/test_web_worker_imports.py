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
import sys
from backend.wsgi import app
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
print("migrate" in app.extensions)
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


def test_the_cli_app_still_migrates():
    from backend import create_app

    assert "migrate" in create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).extensions


def test_create_app_loads_neither_geopy_nor_dlib():
    loaded = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            check=True).stdout.split()

    assert "backend" in loaded and "flask" in loaded
    assert "geopy" not in loaded
    assert "dlib" not in loaded
