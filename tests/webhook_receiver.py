"""A real HTTP receiver for webhook tests: http.server in a thread on 127.0.0.1.

It records every POST (headers and body) and answers as told: ``ok`` (204), ``fail`` (500),
``hang`` (never answers within the sender's timeouts), ``redirect`` (302 to the cloud
metadata address), ``huge`` (200 with an endless body). It can be stopped and started again
on the same port, as a receiver that goes down for a while.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 would drop concurrent connects (1 s SYN retry)


class Receiver:
    def __init__(self, port: int = 0):
        self.mode = "ok"
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self._stop_streaming = threading.Event()
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append({"headers": {k.lower(): v for k, v in
                                                          self.headers.items()},
                                              "body": body, "at": time.monotonic()})
                mode = receiver.mode
                if mode.startswith("ok-then-fail:"):  # the first n answers 204, then 500s
                    mode = "ok" if len(receiver.received) <= int(mode.split(":")[1]) \
                        else "fail"
                if mode == "hang":
                    receiver._stop_streaming.wait(30)
                    return
                if mode == "fail":
                    self._answer(500, b"boom")
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif mode == "huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()  # no length: the body runs until the connection ends
                    try:
                        while not receiver._stop_streaming.is_set():
                            self.wfile.write(b"x" * 65536)
                    except OSError:
                        pass
                    self.close_connection = True
                else:
                    self._answer(204, b"")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def start(self) -> Receiver:
        self._stop_streaming.clear()
        self._server = _Server(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop_streaming.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def bodies(self) -> list[bytes]:
        with self._lock:
            return [item["body"] for item in self.received]


def verify(secret: str, item: dict) -> dict:
    """Verify a received POST with the independent ``standardwebhooks`` package, as a
    receiver whose clock agrees with the server's: tests move the server's clock
    (backend.clock.freeze), so the package's 5-minute timestamp check reads that clock."""
    from datetime import datetime as real_datetime

    import standardwebhooks.webhooks as package

    from backend import clock

    class ServerClock(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return clock.now().astimezone(tz) if tz else clock.now()

    original = package.datetime
    package.datetime = ServerClock  # type: ignore[misc]
    try:
        return package.Webhook(secret).verify(item["body"], item["headers"])
    finally:
        package.datetime = original  # type: ignore[misc]
