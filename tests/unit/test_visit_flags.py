"""The flag catalogue (issue 9): every flag the rules raise is catalogued, and its words are
rendered from the code and stored parameters, in both languages, as they were worded before
the words left storage."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.visits import flags
from backend.visits.rules import Flag, GpsStamp, IntegrityThresholds, PhotoEvidence, integrity_flags

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
HOME = (27.19, 103.56)


def _every_kind_of_flag():
    far = (27.20, 103.56)  # about 1.1 km north
    stamps = [
        GpsStamp(HOME[0], HOME[1], 0.0, T0, "start", "phone-a", "a"),
        GpsStamp(far[0], far[1], 500.0, T0 + timedelta(minutes=2), "end", "phone-b", "b"),
        GpsStamp(far[0], far[1], 10.0, T0 + timedelta(seconds=10), "photo", "phone-a", "a"),
    ]
    photos = [PhotoEvidence("a" * 64, None, None),
              PhotoEvidence("b" * 64, far, T0 + timedelta(hours=5))]
    return integrity_flags(HOME, stamps, photos, T0, T0 + timedelta(hours=1),
                           IntegrityThresholds())


def test_every_raised_flag_is_catalogued_and_renders_without_placeholders():
    raised = _every_kind_of_flag()
    assert {f.code for f in raised} >= {"stamp-far-from-home", "stamp-accuracy-poor",
                                        "visit-too-short", "location-possibly-mocked",
                                        "device-clock-skew", "photo-far-from-visit",
                                        "photo-time-outside-visit", "photo-no-exif-location"}
    for flag in raised:
        assert flag.severity == flags.CATALOGUE[flag.code].severity
        for text in (flag.detail_zh, flag.detail_en):
            assert text != flag.code and "{" not in text, (flag.code, text)


@pytest.mark.parametrize(("code", "data", "english"), [
    ("stamp-far-from-home", {"distance_m": 912.4, "threshold_m": 500},
     "Stamp is 912 m from the registered home, over 500 m."),
    ("photo-far-from-visit", {"reference": "start-stamp", "distance_m": 700.0,
                              "threshold_m": 500.0},
     "The photo was taken 700 m from the start stamp, over 500 m."),
    ("location-possibly-mocked", {"reason": "impossible-speed", "speed_kmh": None,
                                  "threshold_kmh": 150},
     "Speed between consecutive stamps is ∞ km/h, over 150 km/h."),
    ("location-possibly-mocked", {"reason": "zero-accuracy"},
     "The stamp reports an accuracy of exactly 0 m, which real GPS never does."),
    ("visit-too-short", {"minutes": 4.25, "threshold_minutes": 10.0},
     "The visit lasted 4.2 min, under 10 min."),
])
def test_words_are_rendered_from_code_and_parameters(code, data, english):
    assert flags.render(code, data, "en") == english
    assert Flag(code, data).detail_en == english


def test_a_flag_outside_the_catalogue_is_refused():
    with pytest.raises(ValueError):
        Flag("made-up-flag")


def test_unknown_code_or_missing_parameter_renders_as_the_code():
    assert flags.render("retired-flag", {}, "zh") == "retired-flag"
    assert flags.render("stamp-far-from-home", {}, "en") == "stamp-far-from-home"
