"""Geodesic distance on the WGS-84 ellipsoid, straight from geographiclib.

geopy's ``geodesic(a, b).meters`` runs this same computation (Karney's algorithm in
geographiclib, on an ellipsoid given in kilometres, times 1000), but importing geopy loads
its geocoders too, and each call builds Point and Distance objects around the sum: about
three quarters of the time of a visit's location flags. The arithmetic is kept exactly as
geopy does it, so a distance (and a flag compared against a threshold) is the same to the bit
(tests/unit/test_geodesy.py).
"""

from __future__ import annotations

import math

from geographiclib.geodesic import Geodesic

# geopy.distance.ELLIPSOIDS["WGS-84"]: semi-major axis in km and flattening.
_WGS84_KM = Geodesic(6378.137, 1 / 298.257223563)
_DISTANCE = Geodesic.DISTANCE

# The largest radius of curvature anywhere on WGS-84, a / sqrt(1 - e^2) (the prime vertical at
# a pole), in metres. In latitude/longitude the ellipsoid's metric is M^2 dphi^2 + N^2 cos^2(phi)
# dlambda^2 with M, N at most this; a sphere of this radius has R^2 (dphi^2 + cos^2(phi)
# dlambda^2). So every path, the sphere's great circle included, is at most as long on the
# ellipsoid as on that sphere, and the geodesic is no longer than the great circle's length.
_LARGEST_RADIUS_M = 6378137.0 / math.sqrt(1 - (1 / 298.257223563) * (2 - 1 / 298.257223563))
# Float rounding in the bound's few operations is ~1e-15 relative, and the geodesic itself is
# computed to about 15 nanometres (Karney 2013), which at picometre distances is more than the
# distance: a relative and an absolute margin that dwarf both keep the bound above what
# distance_m returns, not only above the true distance (a Hypothesis case found the latter
# at 1e-17 degrees).
_BOUND_MARGIN = 1 + 1e-9
_BOUND_MARGIN_M = 1e-6


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic (WGS-84) distance in metres between two (lat, lon) points."""
    return float(_WGS84_KM.Inverse(a[0], a[1], b[0], b[1], _DISTANCE)["s12"] * 1000)


def at_most_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """An upper bound of ``distance_m(a, b)``: the great circle (haversine) on the sphere of
    WGS-84's largest radius of curvature. At most about 1 % long (north-south at the equator,
    where the ellipsoid curves most tightly) and some 70 times cheaper than Karney's
    geodesic. NaN for NaN input."""
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    half_dlat = (lat2 - lat1) / 2
    half_dlon = math.radians(b[1] - a[1]) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(half_dlon) ** 2
    return 2 * _LARGEST_RADIUS_M * math.asin(min(1.0, math.sqrt(h))) * _BOUND_MARGIN \
        + _BOUND_MARGIN_M


def distance_beyond(a: tuple[float, float], b: tuple[float, float], limit_m: float) -> float | None:
    """``distance_m(a, b)`` when it exceeds ``limit_m``, else None.

    A flag needs the exact distance only when it is raised: nearly every honest stamp is well
    within its limit, and the bound settles those without the geodesic (about a tenth of a
    1,000-visit push went into geodesics; issue 23). The answer is the one ``distance_m(a, b)
    > limit_m`` gives, to the bit, since the bound is never below the distance."""
    if at_most_m(a, b) <= limit_m:
        return None
    metres = distance_m(a, b)
    return metres if metres > limit_m else None
