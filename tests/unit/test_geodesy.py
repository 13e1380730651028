"""backend.geodesy gives geopy's geodesic distance to the bit, without importing geopy's
geocoders: a visit's location flags compare the same numbers as before. Its cheap upper bound
settles the checks well within their limits, and changes no answer."""

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backend import geodesy
from backend.checkins import rules as checkin_rules
from backend.geodesy import at_most_m, distance_beyond, distance_m
from backend.visits import rules as visit_rules

LATITUDES = st.floats(min_value=-90, max_value=90)
LONGITUDES = st.floats(min_value=-180, max_value=180)
NUDGE = st.floats(min_value=-0.02, max_value=0.02)


@settings(max_examples=400, deadline=None)
@given(LATITUDES, LONGITUDES, LATITUDES, LONGITUDES)
def test_any_two_points_measure_as_geopy_measures_them(lat1, lon1, lat2, lon2):
    assert distance_m((lat1, lon1), (lat2, lon2)) == float(
        geodesic((lat1, lon1), (lat2, lon2)).meters)


@settings(max_examples=400, deadline=None)
@given(st.floats(min_value=-89.9, max_value=89.9), LONGITUDES, NUDGE, NUDGE)
def test_nearby_points_a_visit_compares_measure_as_geopy_measures_them(lat, lon, dlat, dlon):
    a, b = (lat, lon), (lat + dlat, lon + dlon)
    assert distance_m(a, b) == float(geodesic(a, b).meters)


def test_a_known_distance():
    # Lushan village office to a home about 160 m north-east (Ludian county): metres, not km.
    assert 160 < distance_m((27.19, 103.56), (27.191, 103.5612)) < 165


# --- the cheap bound that settles most threshold checks (issue 23) ------------------------------


@settings(max_examples=600, deadline=None)
@given(LATITUDES, LONGITUDES, LATITUDES, LONGITUDES)
def test_the_bound_is_never_below_the_distance_anywhere(lat1, lon1, lat2, lon2):
    a, b = (lat1, lon1), (lat2, lon2)
    assert at_most_m(a, b) >= distance_m(a, b)


@settings(max_examples=600, deadline=None)
@given(st.floats(min_value=-89.9, max_value=89.9), LONGITUDES, NUDGE, NUDGE)
@example(0.0, 0.0, 1.3096912344832125e-17, 0.0)  # the geodesic's own round-off exceeded this
@example(90.0, 0.0, -1e-12, 1e-9)
def test_the_bound_is_never_below_the_distance_between_nearby_points(lat, lon, dlat, dlon):
    a, b = (lat, lon), (lat + dlat, lon + dlon)
    exact = distance_m(a, b)
    assert exact <= at_most_m(a, b) <= exact * 1.0105 + 1e-5


@settings(max_examples=400, deadline=None)
@given(st.floats(min_value=-89.9, max_value=89.9), LONGITUDES, NUDGE, NUDGE,
       st.floats(min_value=0, max_value=5000))
def test_distance_beyond_answers_as_the_exact_comparison_does(lat, lon, dlat, dlon, limit):
    a, b = (lat, lon), (lat + dlat, lon + dlon)
    exact = distance_m(a, b)
    # Every limit a flag could hinge on: random ones and those a float away from the distance.
    for threshold in (limit, exact, math.nextafter(exact, -math.inf),
                      math.nextafter(exact, math.inf), exact * 0.999, exact * 1.001):
        assert distance_beyond(a, b, threshold) == (exact if exact > threshold else None)


class CountedGeodesic:
    """geodesy's ellipsoid, counting the exact (Karney) computations it is asked for."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def Inverse(self, *args):  # noqa: N802 (geographiclib's name)
        self.calls += 1
        return self.real.Inverse(*args)


@pytest.fixture
def geodesics(monkeypatch):
    counted = CountedGeodesic(geodesy._WGS84_KM)
    monkeypatch.setattr(geodesy, "_WGS84_KM", counted)
    return counted


HOME = (27.19, 103.56)
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _stamp(kind, minutes, point, device, user):
    return visit_rules.GpsStamp(lat=point[0], lon=point[1], accuracy_m=10.0,
                                captured_at=T0 + timedelta(minutes=minutes), kind=kind,
                                device_id=device, user_id=user)


def _visit(point_of_li):
    near = (HOME[0] + 0.0002, HOME[1] + 0.0002)  # about 30 m off: a yard, not a village
    stamps = [_stamp("start", 0, near, "phone-wang", "wang"),
              _stamp("start", 0.5, point_of_li, "phone-li", "li"),
              _stamp("end", 30, HOME, "phone-wang", "wang"),
              _stamp("end", 29.5, point_of_li, "phone-li", "li")]
    photos = [visit_rules.PhotoEvidence("a" * 64, near, T0 + timedelta(minutes=10))]
    return visit_rules.integrity_flags(HOME, stamps, photos, T0 + timedelta(hours=1),
                                       T0 + timedelta(hours=1))


def test_an_honest_visit_is_judged_without_a_single_exact_geodesic(geodesics):
    """Home, team, speed and photo checks of a visit within a few dozen metres: every one is
    settled by the bound, and no location flag is raised."""
    flags = _visit(point_of_li=(HOME[0] - 0.0001, HOME[1]))

    assert geodesics.calls == 0
    assert not [flag for flag in flags if "distance_m" in json.dumps(flag.data)]


def test_a_far_stamp_is_measured_exactly_and_flagged_with_that_distance(geodesics):
    far = (HOME[0] + 0.009, HOME[1])  # about 1 km north
    flags = {flag.code: flag.data for flag in _visit(point_of_li=far)}

    assert geodesics.calls > 0
    assert flags["stamp-far-from-home"]["distance_m"] == round(distance_m(HOME, far), 1)
    assert flags["team-devices-far-apart"]["threshold_m"] == 200


def test_a_check_in_near_home_and_a_plausible_move_take_no_exact_geodesic(geodesics):
    at = (HOME[0] + 0.001, HOME[1])  # about 110 m
    assert checkin_rules.residence_flags(at, HOME, None, 500) == []
    previous = checkin_rules.Fix(HOME, T0)
    assert checkin_rules.mocked_location_flags(10.0, checkin_rules.Fix(at, T0 + timedelta(
        minutes=30)), previous, 200) == []
    assert geodesics.calls == 0

    far = (HOME[0] + 0.1, HOME[1])  # about 11 km, in one minute
    [flag] = checkin_rules.residence_flags(far, HOME, None, 500)
    assert flag.data["distance_m"] == round(distance_m(far, HOME), 1)
    [moved] = checkin_rules.mocked_location_flags(10.0, checkin_rules.Fix(far, T0 + timedelta(
        minutes=1)), previous, 200)
    assert moved.data["reason"] == "impossible-speed"
    assert geodesics.calls > 0
