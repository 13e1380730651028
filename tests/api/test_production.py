"""The production path: readiness, JSON logs with the request id, and gunicorn starting."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


def test_ready_when_database_and_storage_answer(api):
    response = api.get("wenping_admin", "/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] and checks["storage"]["ok"]
    assert checks["storage"]["kind"] == "local"
    assert checks["storage"]["path"]
    assert checks["database"]["dialect"] in ("sqlite", "postgresql")
    assert checks["redis"] == {"ok": True, "skipped": "REDIS_URL is not set"}


@pytest.mark.parametrize("username", [None, "wenping_fw1", "wenping_intake"])
def test_readiness_details_are_for_operators_only(api, app, monkeypatch, username):
    """Issue 20: an anonymous caller learnt the photo directory and the database type; a
    load balancer needs only ready or not, and each check's yes or no."""
    headers = api.headers(username) if username else {}
    ready = api.client.get("/readyz", headers=headers)
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {
        "database": {"ok": True}, "storage": {"ok": True}, "redis": {"ok": True}}}
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/3")
    not_ready = api.client.get("/readyz", headers=headers)
    assert not_ready.status_code == 503
    body = not_ready.get_json()
    assert body["checks"]["redis"] == {"ok": False}
    text = not_ready.get_data(as_text=True)
    assert app.config["PHOTO_DATA_DIR"] not in text and "sqlite" not in text
    assert "postgresql" not in text and "127.0.0.1" not in text


def test_not_ready_when_redis_does_not_answer(app, api, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_closed_port()}/3")
    response = api.get("wenping_admin", "/readyz")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["type"] == "service-unavailable"
    assert "redis" in body["detail"]
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionRefusedError" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_ready_with_a_live_redis(app, client, monkeypatch):
    """The PING speaks real RESP: against the Redis of the test machine when there is one."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/3")
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["checks"]["redis"]["ok"] is True


def test_not_ready_when_photo_storage_is_not_writable(app, api, monkeypatch, tmp_path):
    from backend.evidence.storage import LocalBlobStore

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the photo directory should be")
    monkeypatch.setitem(app.extensions, "doorstep_blob_store", LocalBlobStore(blocker))
    response = api.get("wenping_admin", "/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"]["ok"] is False


def test_s3_readiness_asks_the_bucket():
    from backend.evidence.storage import S3BlobStore

    class Client:
        asked = []

        def head_bucket(self, Bucket):  # noqa: N803 - boto3's spelling
            self.asked.append(Bucket)

    client = Client()
    assert S3BlobStore("photos", client).readiness() == {"kind": "s3", "bucket": "photos"}
    assert client.asked == ["photos"]


def test_log_lines_are_json_with_the_request_id(app):
    from backend.web.logs import JsonFormatter

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("doorstep.test")
    handler = Keep()
    logger.addHandler(handler)
    try:
        with app.test_request_context("/api/me", headers={"X-Request-Id": "req-123"}):
            app.preprocess_request()
            logger.warning("visit %s rejected", "v-1", extra={"record_id": "v-1"})
            line = JsonFormatter().format(records[0])
    finally:
        logger.removeHandler(handler)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "req-123"
    assert entry["message"] == "visit v-1 rejected"
    assert entry["level"] == "WARNING" and entry["record_id"] == "v-1"


def test_make_serve_runs_gunicorn_with_the_config():
    recipe = subprocess.run(["make", "-n", "serve", "INSTALLED="], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    assert "db upgrade" in recipe
    assert "gunicorn --config deploy/gunicorn.conf.py" in recipe
    assert "backend worker" in recipe and "checkins worker" not in recipe


def test_reading_a_recipe_installs_nothing_even_when_pyproject_is_the_newer_file(tmp_path):
    """A fresh clone may write pyproject.toml after the Makefile. The tests read recipes with
    `INSTALLED=`; that must never install (make rebuilds a makefile target even under -n),
    since another pass is using the same virtualenv at that moment."""
    for name in ("Makefile", "pyproject.toml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    os.utime(tmp_path / "Makefile", (1_000_000_000, 1_000_000_000))
    recipe = subprocess.run(["make", "-n", "serve", "INSTALLED="], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert "gunicorn --config" in recipe
    assert "pip install" not in recipe and "-m venv" not in recipe


def test_the_test_goals_let_python_write_its_bytecode_caches(tmp_path):
    """Where the machine sets PYTHONDONTWRITEBYTECODE, every xdist worker and every process a
    test starts compiled the app from source and rewrote every test module's asserts again:
    `make test` unsets it for the processes it starts (issue 23: test time)."""
    probe = tmp_path / "probe.mk"
    probe.write_text(f"include {ROOT / 'Makefile'}\n"
                     "probe:\n\t@echo \"[$$PYTHONDONTWRITEBYTECODE]\"\n")
    seen = subprocess.run(["make", "-s", "-f", str(probe), "probe", "INSTALLED="], cwd=ROOT,
                          env={**_outside_make(), "PYTHONDONTWRITEBYTECODE": "1"},
                          capture_output=True, text=True, check=True).stdout
    assert seen.strip() == "[]"


def _processes_in_session(session: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ") \
                .decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
    return found


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait_until(ready, process: subprocess.Popen, log: Path, seconds: float) -> None:
    """Poll ``ready`` until it holds; fail with the process's log if it exits or time runs out."""
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError(log.read_text())
        time.sleep(0.3)


def _parent(pid: int) -> int:
    # /proc/<pid>/stat: "pid (name) state ppid ..."; the name may hold spaces.
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_make_serve_runs_the_job_worker_and_stops_it_with_gunicorn(tmp_path):
    """`make serve` starts the job worker beside gunicorn; when gunicorn stops, the
    worker stops too and make exits: nothing of the session is left running."""
    port = _closed_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
           "PHOTO_DATA_DIR": str(tmp_path), "SECRET_KEY": "test-only-secret-key-32-bytes-long",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
           "HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite3")}
    env.pop("REDIS_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        make = subprocess.Popen(["make", "serve", "INSTALLED="], cwd=ROOT, env=env,
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def everything_up() -> bool:
                running = _processes_in_session(make.pid).values()
                workers = [c for c in running if c.rstrip().endswith("backend worker")]
                web = [c for c in running if "gunicorn" in c and "--config" in c]
                return bool(workers and web and (tmp_path / "huey.sqlite3").exists()
                            and _healthy(port))

            _wait_until(everything_up, make, log, seconds=90)
            gunicorns = {pid for pid, c in _processes_in_session(make.pid).items()
                         if "gunicorn" in c and "--config" in c}
            # The master is the one whose parent is not gunicorn (its workers' parent is it).
            master, = (pid for pid in gunicorns if _parent(pid) not in gunicorns)
            os.kill(master, signal.SIGTERM)
            make.wait(timeout=60)
            deadline = time.monotonic() + 10
            while _processes_in_session(make.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _processes_in_session(make.pid) == {}, log.read_text()
        finally:
            if make.poll() is None or _processes_in_session(make.pid):
                os.killpg(make.pid, signal.SIGKILL)
                make.wait(timeout=10)


def test_workers_follow_the_cpu_unless_overridden(monkeypatch):
    import runpy

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert settings["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["workers"] == 3


def test_gunicorn_serves_the_app(tmp_path):
    """What `make serve` runs, on a free port with a SQLite file: /healthz and /readyz answer,
    and the worker logs JSON lines."""
    port = _closed_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.sqlite3",
           "PHOTO_DATA_DIR": str(tmp_path), "SECRET_KEY": "test-only-secret-key-32-bytes-long",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "LOG_FORMAT": "json"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "backend", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            _wait_until(lambda: _healthy(port), server, log, seconds=60)
            request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz",
                                             headers={"X-Request-Id": "serve-test-1"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 200
                assert json.load(answer)["status"] == "ready"
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(entry.get("request_id") == "serve-test-1" and entry.get("path") == "/readyz"
               for entry in lines), log.read_text()
    # One line per request (issue 20: gunicorn's access log turned itself on and repeated it).
    readyz_lines = [line for line in log.read_text().splitlines() if "/readyz" in line]
    assert len(readyz_lines) == 1, readyz_lines


def _outside_make() -> dict[str, str]:
    """This environment as a user's shell has it. Under `make test` the tests run inside a
    make whose flags (--jobs, hence "Entering directory" lines) and command-line variables
    (the passes' selections) reach every child, in MAKEFLAGS and as variables of their own."""
    return {key: value for key, value in os.environ.items()
            if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                           "SQLITE_ONLY", "POSTGRES_SELECT"}}


def _pytest_lines(*goals: str) -> list[str]:
    # Read the Makefile as a user would.
    recipe = subprocess.run(["make", "-n", *goals, "INSTALLED="], cwd=ROOT, env=_outside_make(),
                            capture_output=True, text=True, check=True).stdout
    # One command per line: a recipe line continued with a backslash is one command.
    return [line for line in recipe.replace("\\\n", " ").splitlines() if " -m pytest " in line]


def test_make_test_runs_every_browser_test_file_in_exactly_one_pass():
    """The browser tests are split between the SQLite and PostgreSQL passes (they serve
    SQLite in either): none may fall between the two, none may run twice."""
    # The two passes run side by side (--jobs=2), so their lines come in either order.
    lines = _pytest_lines("test")
    [sqlite_pass] = [line for line in lines if "env -u DATABASE_URL" in line]
    [postgres_pass] = [line for line in lines if "DATABASE_URL=postgresql" in line]
    assert len(lines) == 2
    every_file = {f"tests/e2e/{path.name}" for path in (ROOT / "tests" / "e2e").glob("test_*.py")}

    def skipped(line: str) -> set[str]:
        return {word.removeprefix("--ignore=") for word in line.split()
                if word.startswith("--ignore=tests/e2e/")}

    assert '"not e2e"' not in postgres_pass
    assert skipped(sqlite_pass) | skipped(postgres_pass) == every_file
    assert not skipped(sqlite_pass) & skipped(postgres_pass)
    assert skipped(sqlite_pass) and skipped(postgres_pass)  # each pass runs some of them
    assert "--ignore=tests/unit" in sqlite_pass and "tests/unit" not in postgres_pass


def test_the_postgresql_pass_alone_leaves_the_browser_tests_out():
    [postgres_pass] = _pytest_lines("test-postgres")
    assert '-m "not e2e"' in postgres_pass
