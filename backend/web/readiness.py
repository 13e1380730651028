"""Readiness: can this instance serve traffic? The database, photo storage and, when one is
configured, Redis each answer within a couple of seconds, or the instance is not ready."""

from __future__ import annotations

import socket
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import text

from backend.extensions import db

TIMEOUT_SECONDS = 2.0


def check_database() -> dict:
    db.session.execute(text("SELECT 1"))
    return {"dialect": db.engine.dialect.name}


def check_storage() -> dict:
    from backend.evidence import service as evidence

    return evidence.storage_readiness()


def check_redis() -> dict:
    """A PING over the wire (RESP), so readiness needs no Redis client library."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return {"skipped": "REDIS_URL is not set"}
    parts = urlsplit(url)
    commands = []
    if parts.password:
        user = unquote(parts.username) if parts.username else None
        commands.append(["AUTH", user, unquote(parts.password)] if user else
                        ["AUTH", unquote(parts.password)])
    commands.append(["PING"])
    with socket.create_connection((parts.hostname or "localhost", parts.port or 6379),
                                  timeout=TIMEOUT_SECONDS) as connection:
        for command in commands:
            wire = f"*{len(command)}\r\n" + "".join(
                f"${len(arg.encode())}\r\n{arg}\r\n" for arg in command)
            connection.sendall(wire.encode())
            answer = connection.recv(512)
            if not answer.startswith((b"+OK", b"+PONG")):
                raise ConnectionError(answer.decode(errors="replace").strip()[:200])
    return {"host": parts.hostname, "port": parts.port or 6379}


CHECKS = {"database": check_database, "storage": check_storage, "redis": check_redis}


def for_caller(checks: dict, is_operator: bool) -> dict:
    """What a caller may learn: an operator sees each check's details (storage path,
    database type, Redis host, the error); anyone else only whether each check passed."""
    if is_operator:
        return checks
    return {name: {"ok": result["ok"]} for name, result in checks.items()}


def run_checks() -> tuple[bool, dict]:
    """Every check's outcome; ready only when none failed."""
    results: dict = {}
    for name, check in CHECKS.items():
        try:
            results[name] = {"ok": True, **check()}
        except Exception as failure:  # noqa: BLE001 - any failure means not ready
            if name == "database":
                db.session.rollback()
            results[name] = {"ok": False, "error": f"{type(failure).__name__}: {failure}"[:300]}
    return all(result["ok"] for result in results.values()), results
