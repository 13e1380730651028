"""Soak: the real app behind gunicorn, several clients at once, for a bounded time.

    .venv/bin/python bench/soak.py [--duration 120] [--clients 4] [--workers 2] [--threads 2]

Migrates and seeds DATABASE_URL (PostgreSQL; its schema is DROPPED and rebuilt) or a
temporary SQLite file, starts gunicorn on 127.0.0.1 on a free port (loopback only), and
runs N client threads for --duration seconds. Each client mixes:
  push       50 new visits, each with two real P-256 attestations
  replay     one of its earlier batches again (every record must come back `duplicate`)
  pull       a no-change pull with its cursor, sometimes a full pull from scratch
  photo      a new photo; half the time two connections upload the same photo at once
  case read  the assigned-case list and one case
  refresh    trade its refresh token for a new pair (tokens rotate: the used one dies)
Every client signs in on its own and keeps only its latest refresh token, never sharing
one (a rotated token used again would end that sign-in).
Then it stops gunicorn and prints: requests, answers by status, unexpected answers by
operation and status, the server's exceptions by type (from gunicorn's log), latency per
operation, and every worker's resident memory over time (from /proc).
"""

from __future__ import annotations

import argparse
import collections
import copy
import hashlib
import http.client
import io
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "demo-pass-2026"
USERS = ("wenping_fw1", "wenping_fw2")
BATCH = 50
# Operation mix (weights); the figure the 10-minute soak used had the same kinds.
MIX = {"push": 3, "replay": 2, "pull": 4, "photo": 3, "case-read": 4, "refresh": 1}


# --- server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(url: str, photo_dir: str) -> None:
    from flask_migrate import upgrade

    from backend import create_app
    from backend.demo import seed
    from backend.extensions import db

    if url.startswith("postgres"):
        from tests.conftest import reset_postgres

        reset_postgres(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PHOTO_DATA_DIR": photo_dir})
    with app.app_context():
        upgrade()
        seed(PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def start_gunicorn(url: str, photo_dir: str, port: int, workers: int, threads: int,
                   log_path: Path, app: str = "backend:create_app()",
                   extra: tuple[str, ...] = ()) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "PHOTO_DATA_DIR": photo_dir,
           "SECRET_KEY": uuid.uuid4().hex, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads), "--timeout", "120",
               "--error-logfile", str(log_path), "--log-level", "warning", *extra, app]
    # The app logs its unhandled errors (with tracebacks) to stderr: keep them beside
    # gunicorn's own log, so the report can name the exceptions behind any 500.
    with open(log_path.with_suffix(".stderr"), "wb") as stderr:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=stderr, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/openapi.json")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    """TERM the whole process group (master and workers); KILL it if it has not gone in 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def signed_visits(keys: dict, cases: list[dict], count: int,
                  pick: Callable[[int], dict] | None = None) -> list[dict]:
    """``count`` new visits, each attested by every investigator in ``keys`` (user id, key
    id, key pair); case ``pick(i)`` or, unset, the cases in turn."""
    from tests.visit_factory import attest, submission

    records = []
    for index in range(count):
        record = submission(pick(index) if pick else cases[index % len(cases)])
        for user_id, key_id, pair in keys.values():
            attest(record, user_id, key_id, pair)
        records.append(record)
    return records


def in_threads(work: Callable[[], None], count: int) -> float:
    """Run ``work`` on ``count`` threads at once; the seconds until the last one ended."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


# --- clients --------------------------------------------------------------------------

class Tally:
    """Every answer, by operation and status, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: collections.Counter = collections.Counter()
        self.unexpected: collections.Counter = collections.Counter()
        self.samples: dict[str, list[float]] = collections.defaultdict(list)
        self.record_problems: collections.Counter = collections.Counter()
        self.examples: dict[tuple, str] = {}

    def add(self, operation: str, status: int, seconds: float, expected: set[int],
            body: bytes = b"") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.samples[operation].append(seconds)
            if status not in expected:
                self.unexpected[(operation, status)] += 1
                self.examples.setdefault((operation, status), body[:300].decode("utf-8", "replace"))

    @property
    def requests(self) -> int:
        with self.lock:
            return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        with self.lock:
            return sum(self.unexpected.values())


class Client:
    def __init__(self, port: int, username: str, tally: Tally, keys: dict, cases: list[dict],
                 rng: random.Random):
        self.port, self.username, self.tally, self.keys = port, username, tally, keys
        self.cases, self.rng = cases, rng
        self.device_id = f"soak-{uuid.uuid4().hex[:12]}"
        tokens = sign_in(port, username)  # a sign-in of its own: tokens are never shared
        self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.batches: list[list[dict]] = []
        self.cursor: str | None = None

    def call(self, operation: str, method: str, path: str, body=None, expected=(200,),
             content_type="application/json"):
        headers = {"Authorization": f"Bearer {self.token}", "X-Device-Id": self.device_id}
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        status, data = request(self.port, method, path, payload, headers)
        if status == 401 and b"token-expired" in data:
            self.renew()
            return self.call(operation, method, path, body, expected, content_type)
        self.tally.add(operation, status, time.perf_counter() - started, set(expected), data)
        return status, data

    def renew(self) -> int:
        """Rotate the tokens: keep the new refresh token, the one sent is dead now. Only
        if the refresh is refused (its sign-in ended) sign in again."""
        started = time.perf_counter()
        status, data = request(self.port, "POST", "/api/auth/refresh", None,
                               {"Authorization": f"Bearer {self.refresh_token}",
                                "X-Device-Id": self.device_id})
        self.tally.add("refresh", status, time.perf_counter() - started, {200}, data)
        tokens = json.loads(data) if status == 200 else sign_in(self.port, self.username)
        self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        return status

    def do_refresh(self) -> None:
        self.renew()

    def step(self) -> None:
        operation = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if operation == "replay" and not self.batches:
            operation = "push"
        getattr(self, "do_" + operation.replace("-", "_"))()

    def do_push(self) -> None:
        records = signed_visits(self.keys, self.cases, BATCH,
                                lambda _: self.rng.choice(self.cases))
        status, data = self.call("push", "POST", "/api/sync/push",
                                 {"device_id": self.device_id, "records": records})
        if status == 200:
            self._count_results("push", data, {"accepted"})
            self.batches = (self.batches + [records])[-5:]

    def do_replay(self) -> None:
        records = copy.deepcopy(self.rng.choice(self.batches))
        status, data = self.call("replay", "POST", "/api/sync/push",
                                 {"device_id": self.device_id, "records": records})
        if status == 200:
            self._count_results("replay", data, {"duplicate"})

    def _count_results(self, operation: str, data: bytes, expected: set[str]) -> None:
        for result in json.loads(data)["results"]:
            if result["status"] not in expected:
                kind = (result.get("problem") or {}).get("type", result["status"])
                with self.tally.lock:
                    self.tally.record_problems[(operation, result["status"], kind)] += 1

    def do_pull(self) -> None:
        if self.cursor is None or self.rng.random() < 0.2:
            cursor = None
            while True:
                query = f"?cursor={cursor}" if cursor else ""
                status, data = self.call("pull (full)", "GET", f"/api/sync/pull{query}")
                if status != 200:
                    return
                page = json.loads(data)
                cursor = page["cursor"]
                if not page.get("has_more"):
                    break
            self.cursor = cursor
        else:
            status, data = self.call("pull (no change)", "GET",
                                     f"/api/sync/pull?cursor={self.cursor}")
            if status == 200:
                self.cursor = json.loads(data)["cursor"]

    def do_photo(self) -> None:
        raw = fresh_photo(self.rng)
        sha = hashlib.sha256(raw).hexdigest()
        path = f"/api/photos/{sha}"
        if self.rng.random() < 0.5:
            self.call("photo", "PUT", path, raw, expected=(201,), content_type="image/jpeg")
            self.call("photo (again)", "PUT", path, raw, expected=(200,),
                      content_type="image/jpeg")
            return
        # The same photo from two phones at the same moment: one 201, one 200.
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def upload():
            barrier.wait()
            status, _ = self.call("photo (same, at once)", "PUT", path, raw,
                                  expected=(200, 201), content_type="image/jpeg")
            answers.append(status)

        threads = [threading.Thread(target=upload) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if sorted(answers) != [200, 201]:
            with self.tally.lock:
                self.tally.record_problems[("photo (same, at once)", "answers",
                                            str(sorted(answers)))] += 1

    def do_case_read(self) -> None:
        status, data = self.call("case read", "GET", "/api/cases?assigned_to_me=true&page_size=50")
        if status == 200:
            items = json.loads(data)["items"]
            if items:
                self.call("case read", "GET", f"/api/cases/{self.rng.choice(items)['id']}")


def request(port: int, method: str, path: str, payload: bytes | None, headers: dict):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError as error:
        return 0, str(error).encode()
    finally:
        connection.close()


def login(port: int, username: str) -> str:
    return sign_in(port, username)["access_token"]


def sign_in(port: int, username: str) -> dict:
    status, data = request(port, "POST", "/api/auth/login",
                           json.dumps({"username": username, "password": PASSWORD}).encode(),
                           {"Content-Type": "application/json"})
    if status != 200:
        raise SystemExit(f"login as {username} failed: {status} {data[:200]!r}")
    return json.loads(data)


def fresh_photo(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (160, 120), rng.randbytes(160 * 120 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def register_keys(port: int) -> tuple[dict, list[dict]]:
    """Each investigator's device key, so every pushed visit carries two real signatures."""
    from tests.device_keys import sign_proof
    from tests.visit_factory import DeviceKeyPair

    keys = {}
    for index, username in enumerate(USERS):
        session = sign_in(port, username)
        headers = {"Authorization": f"Bearer {session['access_token']}",
                   "Content-Type": "application/json"}
        device_id = f"soak-keys-{index}"
        status, data = request(port, "POST", "/api/devices/keys/challenge",
                               json.dumps({"device_id": device_id}).encode(), headers)
        if status != 201:
            raise SystemExit(f"asking for a key challenge failed: {status} {data[:200]!r}")
        nonce = json.loads(data)["nonce"]
        pair = DeviceKeyPair()  # proof of possession: the new key signs the server's nonce
        status, data = request(port, "POST", "/api/devices/keys", json.dumps({
            "device_id": device_id, "public_key_jwk": pair.jwk, "nonce": nonce,
            "signature": sign_proof(pair, session["user"]["id"], device_id, nonce)}).encode(),
            headers)
        if status != 201:
            raise SystemExit(f"registering a device key failed: {status} {data[:200]!r}")
        keys[username] = (session["user"]["id"], json.loads(data)["id"], pair)
    headers = {"Authorization": f"Bearer {login(port, USERS[0])}"}
    _, data = request(port, "GET", "/api/cases?assigned_to_me=true&page_size=100", None, headers)
    cases = [c for c in json.loads(data)["items"] if c["kind"] != "extreme_poverty"]
    return keys, cases


# --- report ---------------------------------------------------------------------------

def server_exceptions(log_path: Path) -> collections.Counter:
    """Exception types of the tracebacks the workers logged (the last of each chain)."""
    found: collections.Counter = collections.Counter()
    text = "".join(path.read_text(errors="replace") for path in
                   (log_path, log_path.with_suffix(".stderr")) if path.exists())
    for block in text.split("Traceback (most recent call last):")[1:]:
        if re.search(r"^(The above exception was|During handling of the above)", block,
                     re.MULTILINE):
            continue  # a cause: the chain's last traceback names what the request died of
        match = re.search(r"^([A-Za-z_][\w.]*(?:Error|Exception|Violation|Warning)[\w.]*)(?::|$)",
                          block, re.MULTILINE)
        found[match.group(1) if match else "unknown"] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="doorstep-soak-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/soak.sqlite3"
    database = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"soak: {args.duration:.0f} s, {args.clients} clients, gunicorn {args.workers} "
          f"workers x {args.threads} threads, {database}, work dir {workdir}", flush=True)
    prepare_database(url, str(workdir))
    port = free_port()
    log_path = workdir / "gunicorn.log"
    server = start_gunicorn(url, str(workdir), port, args.workers, args.threads, log_path)
    try:
        keys, cases = register_keys(port)
        tally = Tally()
        master_rng = random.Random(args.seed)
        clients = [Client(port, USERS[i % len(USERS)], tally, keys, cases,
                          random.Random(master_rng.random())) for i in range(args.clients)]
        stop = threading.Event()

        def run(client: Client) -> None:
            while not stop.is_set():
                client.step()

        threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
        started = time.monotonic()
        timeline = [(0.0, 0, 0, {pid: rss_mb(pid) for pid in worker_pids(server.pid)})]
        for thread in threads:
            thread.start()
        while (elapsed := time.monotonic() - started) < args.duration:
            time.sleep(min(args.interval, args.duration - elapsed))
            timeline.append((time.monotonic() - started, tally.requests, tally.errors,
                             {pid: rss_mb(pid) for pid in worker_pids(server.pid)}))
            print(f"  t={timeline[-1][0]:5.0f} s  requests {tally.requests:6d}  "
                  f"unexpected {tally.errors:4d}", flush=True)
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
        wall = time.monotonic() - started
        timeline.append((wall, tally.requests, tally.errors,
                         {pid: rss_mb(pid) for pid in worker_pids(server.pid)}))
    finally:
        stop_gunicorn(server)
    report(tally, timeline, wall, log_path)


def report(tally: Tally, timeline, wall: float, log_path: Path) -> None:
    print(f"\nrequests: {tally.requests} in {wall:.0f} s ({tally.requests / wall:.1f}/s)")
    print("answers by status: " + ", ".join(
        f"{status}: {n}" for status, n in sorted(tally.statuses.items())))
    print(f"unexpected answers: {tally.errors}")
    for (operation, status), n in sorted(tally.unexpected.items()):
        print(f"  {operation:24s} {status}: {n}   e.g. {tally.examples[(operation, status)]!r}")
    if tally.record_problems:
        print("records not answered as expected (inside 200 answers):")
        for (operation, status, kind), n in sorted(tally.record_problems.items()):
            print(f"  {operation:24s} {status} {kind}: {n}")
    exceptions = server_exceptions(log_path)
    print(f"server exceptions (logs in {log_path.parent}): " + (", ".join(
        f"{name}: {n}" for name, n in exceptions.most_common()) or "none"))
    print("latency by operation (median / p95 / max, ms):")
    for operation, samples in sorted(tally.samples.items()):
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(f"  {operation:24s} n={len(ordered):5d}  {statistics.median(ordered) * 1000:7.0f} "
              f"{p95 * 1000:7.0f} {ordered[-1] * 1000:7.0f}")
    pids = sorted({pid for *_, rss in timeline for pid in rss})
    print("worker resident memory over time (MB):")
    print("  " + "     t  requests  unexpected  " + "  ".join(f"pid {pid:>6}" for pid in pids))
    for elapsed, requests, errors, rss in timeline:
        cells = "  ".join(f"{rss[pid]:10.0f}" if rss.get(pid) else f"{'-':>10}" for pid in pids)
        print(f"  {elapsed:6.0f}  {requests:8d}  {errors:10d}  {cells}")


if __name__ == "__main__":
    main()
