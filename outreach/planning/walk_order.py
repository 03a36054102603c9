"""Walking order: nearest neighbour, then 2-opt, on distances between households.

The optimisation runs on a local ellipsoidal projection (WGS84 radii of curvature at the
stops' mean latitude): within a commune it agrees with geopy's geodesic to better than
0.1%, at a fraction of the cost. The legs shown to the member are geopy geodesic distances.
"""

import math
from dataclasses import dataclass

import numpy as np
from geographiclib.geodesic import Geodesic

_A = 6378137.0  # WGS84
_E2 = 6.69437999014e-3


@dataclass
class Stop:
    key: int
    lat: float
    lon: float


def _matrix(points: list[tuple[float, float]]) -> np.ndarray:
    lat0 = math.radians(sum(p[0] for p in points) / len(points))
    s = math.sin(lat0)
    meridional = _A * (1 - _E2) / (1 - _E2 * s * s) ** 1.5
    normal = _A / math.sqrt(1 - _E2 * s * s)
    xy = np.array(
        [(math.radians(lon) * normal * math.cos(lat0), math.radians(lat) * meridional) for lat, lon in points]
    )
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def _nearest_neighbour(dist: np.ndarray, start: int) -> list[int]:
    n = len(dist)
    order, seen = [start], np.zeros(n, dtype=bool)
    seen[start] = True
    for _step in range(n - 1):
        row = np.where(seen, np.inf, dist[order[-1]])
        nxt = int(row.argmin())
        order.append(nxt)
        seen[nxt] = True
    return order


def _two_opt(order: list[int], dist: np.ndarray, *, max_passes: int = 20) -> list[int]:
    """Reverse segments while it shortens the open path (the first stop, the start, stays first)."""
    route = np.array(order)
    n = len(route)
    for _pass in range(max_passes):
        improved = False
        for i in range(1, n - 1):
            a, b = route[i - 1], route[i]
            # Reverse route[i..j]: edges (a,b) and (c,d) become (a,c) and (b,d); d may be past the end.
            c = route[i + 1 :]
            d = np.append(route[i + 2 :], -1)
            old = dist[a, b] + np.where(d >= 0, dist[c, np.maximum(d, 0)], 0.0)
            new = dist[a, c] + np.where(d >= 0, dist[b, np.maximum(d, 0)], 0.0)
            gain = old - new
            j = int(gain.argmax())
            if gain[j] > 1e-6:
                end = i + 1 + j
                route[i : end + 1] = route[i : end + 1][::-1]
                improved = True
        if not improved:
            break
    return route.tolist()


def _geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The WGS84 geodesic in metres, as geopy's ``geodesic`` gives it, asking geographiclib (which geopy
    calls) for the distance alone: a third of the time, for a list of 300 stops."""
    return Geodesic.WGS84.Inverse(a[0], a[1], b[0], b[1], Geodesic.DISTANCE)["s12"]


def walk_order(stops: list[Stop], start: tuple[float, float] | None = None) -> list[tuple[Stop, float | None]]:
    """Stops in a short walking order, each with the geodesic distance (metres) from the previous
    one (from ``start`` for the first, when the phone gave its position)."""
    if not stops:
        return []
    points = ([start] if start else []) + [(s.lat, s.lon) for s in stops]
    dist = _matrix(points)
    if start:
        order = _two_opt(_nearest_neighbour(dist, 0), dist)[1:]
        order = [i - 1 for i in order]
    else:
        # No position: start from the stop farthest from the centre, so the walk sweeps across.
        centre = np.array(points).mean(axis=0)
        first = int(np.argmax([(p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2 for p in points]))
        order = _two_opt(_nearest_neighbour(dist, first), dist)
    result, previous = [], start
    for index in order:
        stop = stops[index]
        leg = _geodesic_m(previous, (stop.lat, stop.lon)) if previous else None
        result.append((stop, leg))
        previous = (stop.lat, stop.lon)
    return result
