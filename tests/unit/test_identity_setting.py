"""IDENTITY_MAX_DISTANCE from the environment: a value off dlib's scale stops the start."""

from __future__ import annotations

import pytest

from backend.config import load_config


def test_the_default_is_stricter_than_dlibs_own(monkeypatch, tmp_path):
    monkeypatch.delenv("IDENTITY_MAX_DISTANCE", raising=False)
    assert load_config(str(tmp_path))["IDENTITY_MAX_DISTANCE"] == 0.55
    monkeypatch.setenv("IDENTITY_MAX_DISTANCE", "0.5")
    assert load_config(str(tmp_path))["IDENTITY_MAX_DISTANCE"] == 0.5


@pytest.mark.parametrize("value", ["0", "-0.1", "2", "60"])
def test_a_distance_off_the_scale_is_refused(monkeypatch, tmp_path, value):
    monkeypatch.setenv("IDENTITY_MAX_DISTANCE", value)
    with pytest.raises(ValueError, match="IDENTITY_MAX_DISTANCE"):
        load_config(str(tmp_path))
