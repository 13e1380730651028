"""A NUL character (%00) in a path or a query parameter is a 4xx problem on every route, on
both databases (issue 20: PostgreSQL refuses NUL in text and answered 500 on 37 routes).

The sweep walks the app's URL map, so a route added later is swept too."""

from __future__ import annotations

import re

import pytest

PROBLEM = "application/problem+json"
# One signed-in role that reaches most routes, one that reaches the rest.
USERS = ("wenping_admin", "wenping_intake", "county_supervisor")


def _swept_requests(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "/static/" in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            with_nul_path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "%00", rule.rule)
            plain_path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x", rule.rule)
            if with_nul_path != rule.rule:
                yield method, with_nul_path
            yield method, plain_path + "?q=%00&page=%00&kind=%00&status=%00&x%00=1"


def test_nul_in_path_or_query_is_a_4xx_problem_everywhere(app, api):
    requests = list(_swept_requests(app))
    assert len(requests) > 100
    failures = []
    for username in USERS:
        headers = api.headers(username)
        for method, path in requests:
            response = api.client.open(path, method=method, headers=headers,
                                       json={} if method in ("POST", "PUT", "PATCH") else None)
            if not 400 <= response.status_code < 500:
                failures.append((username, method, path, response.status_code))
            elif path.startswith("/api/"):
                assert response.mimetype == PROBLEM, (method, path)
    assert failures == []


@pytest.mark.parametrize("path", ["/api/cases/%00", "/api/cases?q=%00",
                                  "/api/households?q=a%00b"])
def test_nul_is_refused_as_a_field_error(api, path):
    response = api.get("wenping_intake", path)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"] == "validation-failed"
