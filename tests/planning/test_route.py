import itertools
import random

from geopy.distance import geodesic

from outreach.planning.walk_order import Stop, _matrix, _nearest_neighbour, walk_order


def _length(order):
    return sum(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters for a, b in itertools.pairwise(order))


def _stops(n, seed=1):
    rng = random.Random(seed)
    return [Stop(i, 21.82 + rng.random() * 0.03, 105.18 + rng.random() * 0.03) for i in range(n)]


def test_every_stop_once():
    stops = _stops(120)
    ordered = walk_order(stops)
    assert sorted(s.key for s, _leg in ordered) == list(range(120))


def test_two_opt_improves_on_nearest_neighbour_and_beats_the_list_order():
    stops = _stops(150)
    points = [(s.lat, s.lon) for s in stops]
    nn = [stops[i] for i in _nearest_neighbour(_matrix(points), 0)]
    ordered = [s for s, _leg in walk_order(stops)]
    assert _length(ordered) <= _length(nn)
    assert _length(ordered) < _length(stops) / 3


def test_small_walks_are_optimal():
    stops = _stops(7, seed=4)
    # Each pair's geodesic once, so the 5,040 orders only add up table entries (the same sums as _length).
    metres = {
        (a.key, b.key): geodesic((a.lat, a.lon), (b.lat, b.lon)).meters for a, b in itertools.permutations(stops, 2)
    }

    def length(order):
        return sum(metres[a.key, b.key] for a, b in itertools.pairwise(order))

    best = min(length(p) for p in itertools.permutations(stops))
    assert length([s for s, _leg in walk_order(stops)]) <= best * 1.05


def test_legs_are_geodesic_metres_from_the_previous_stop():
    stops = _stops(10)
    start = (21.80, 105.17)
    ordered = walk_order(stops, start)
    first, leg = ordered[0]
    assert abs(leg - geodesic(start, (first.lat, first.lon)).meters) < 1e-6
    for (a, _), (b, leg) in itertools.pairwise(ordered):
        assert abs(leg - geodesic((a.lat, a.lon), (b.lat, b.lon)).meters) < 1e-6


def test_the_projection_agrees_with_geodesic_within_a_commune():
    stops = _stops(30)
    matrix = _matrix([(s.lat, s.lon) for s in stops])
    for i, j in itertools.combinations(range(30), 2):
        exact = geodesic((stops[i].lat, stops[i].lon), (stops[j].lat, stops[j].lon)).meters
        assert abs(matrix[i, j] - exact) / exact < 1e-3
