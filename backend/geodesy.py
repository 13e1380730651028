"""Geodesic distance on the WGS-84 ellipsoid, straight from geographiclib.

geopy's ``geodesic(a, b).meters`` runs this same computation (Karney's algorithm in
geographiclib, on an ellipsoid given in kilometres, times 1000), but importing geopy loads
its geocoders too, and each call builds Point and Distance objects around the sum: about
three quarters of the time of a visit's location flags. The arithmetic is kept exactly as
geopy does it, so a distance (and a flag compared against a threshold) is the same to the bit
(tests/unit/test_geodesy.py).
"""

from __future__ import annotations

from geographiclib.geodesic import Geodesic

# geopy.distance.ELLIPSOIDS["WGS-84"]: semi-major axis in km and flattening.
_WGS84_KM = Geodesic(6378.137, 1 / 298.257223563)
_DISTANCE = Geodesic.DISTANCE


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic (WGS-84) distance in metres between two (lat, lon) points."""
    return float(_WGS84_KM.Inverse(a[0], a[1], b[0], b[1], _DISTANCE)["s12"] * 1000)
