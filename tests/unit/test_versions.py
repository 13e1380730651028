"""The one If-Match check and ETag format (backend/versions.py) that cases, reviews and
check-in follow-ups share: STYLE.md's `version` + If-Match, 428 when missing, 412 when stale."""

import pytest

from backend import versions
from backend.errors import ProblemError


def test_the_etag_is_the_version_in_quotes():
    assert versions.etag(3) == {"ETag": '"3"'}


@pytest.mark.parametrize("sent", ['"3"', "3", 'W/"3"', ' "3" '])
def test_the_current_version_passes_strong_weak_or_bare(sent):
    versions.check_if_match(sent, 3, "case")


@pytest.mark.parametrize("sent", [None, ""])
def test_a_missing_if_match_is_precondition_required(sent):
    with pytest.raises(ProblemError) as raised:
        versions.check_if_match(sent, 3, "review")
    assert raised.value.slug == "precondition-required"
    assert raised.value.extra == {"current_version": 3}
    assert "review" in raised.value.detail


@pytest.mark.parametrize("sent", ['"2"', 'W/"4"', '"3x"'])
def test_another_version_is_stale(sent):
    with pytest.raises(ProblemError) as raised:
        versions.check_if_match(sent, 3, "follow-up")
    assert raised.value.slug == "stale-version"
    assert raised.value.extra == {"current_version": 3}
