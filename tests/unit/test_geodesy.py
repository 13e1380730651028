"""backend.geodesy gives geopy's geodesic distance to the bit, without importing geopy's
geocoders: a visit's location flags compare the same numbers as before."""

from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.geodesy import distance_m

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
