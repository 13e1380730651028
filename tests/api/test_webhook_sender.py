"""The SSRF-safe sender against a real receiver on 127.0.0.1: every bad receiver fails
safely and quickly (hangs, 500s, redirects inward, endless bodies), and an address is judged
where the socket connects, after the DNS answer (rebinding)."""

from __future__ import annotations

import socket
import time

import pytest

from backend.webhooks import rules, sender
from tests.webhook_receiver import Receiver

TESTS = rules.UrlPolicy(allow_http_loopback=True)
FAST = sender.Limits(connect_timeout=1, read_timeout=0.5, total_timeout=1.5, max_body=4096)


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


def post(url, policy=TESTS, **kwargs):
    return sender.post(url, {"webhook-id": "msg_1"}, b'{"a":1}', policy, limits=FAST, **kwargs)


def test_a_2xx_is_delivered_with_the_body_and_headers(receiver):
    outcome = post(receiver.url)
    assert outcome.is_delivered and outcome.status_code == 204
    assert receiver.received[0]["body"] == b'{"a":1}'
    assert receiver.received[0]["headers"]["webhook-id"] == "msg_1"


def test_a_500_is_a_failure(receiver):
    receiver.mode = "fail"
    outcome = post(receiver.url)
    assert (outcome.outcome, outcome.status_code) == ("http_error", 500)


def test_a_redirect_inward_is_not_followed(receiver):
    receiver.mode = "redirect"
    outcome = post(receiver.url)
    assert (outcome.outcome, outcome.status_code) == ("redirect", 302)
    assert len(receiver.received) == 1  # nothing went to the Location


def test_a_receiver_that_hangs_times_out_quickly(receiver):
    receiver.mode = "hang"
    started = time.monotonic()
    outcome = post(receiver.url)
    assert outcome.outcome == "timeout"
    assert time.monotonic() - started < 3


def test_an_endless_body_is_read_only_up_to_the_limit(receiver):
    receiver.mode = "huge"
    started = time.monotonic()
    outcome = post(receiver.url)
    assert outcome.is_delivered and outcome.status_code == 200
    assert time.monotonic() - started < 3


def test_a_closed_port_is_a_connection_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = post(f"http://127.0.0.1:{port}/hook")
    assert outcome.outcome == "connection_error"


def test_the_address_is_judged_at_connect_time_after_dns(receiver):
    """DNS rebinding: the name looked public when the subscription was made; now it points
    at the machine itself. The sender refuses before any byte is sent."""
    def rebound(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]

    outcome = post(f"https://hooks.example.org:{receiver.port}/hook",
                   policy=rules.UrlPolicy(), resolve=rebound)
    assert outcome.outcome == "address_refused"
    assert receiver.received == []


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "::1"])
def test_one_inward_address_among_the_answers_refuses_the_host(address):
    def answers(host, port, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (family, socket.SOCK_STREAM, 6, "", (address, port))]

    outcome = post("https://hooks.example.org/hook", policy=rules.UrlPolicy(), resolve=answers)
    assert outcome.outcome == "address_refused" and address in outcome.error


def test_http_is_refused_in_production_before_any_connection(receiver):
    outcome = post(receiver.url, policy=rules.UrlPolicy())
    assert outcome.outcome == "url_refused"
    assert receiver.received == []
