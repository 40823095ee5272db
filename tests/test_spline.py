import numpy as np
import pytest
from d3ref import bezier, segments
from hypothesis import given, settings
from hypothesis import strategies as st

from specnb.spline import MonotoneCurve, _sgn, steffen_slopes


def test_interior_and_end_slopes_hand_checked():
    # h = [10, 20, 10], s = [-4, -2, -1]
    # m1: p = (-4*20 + -2*10)/30 = -10/3, min(4, 2, 5/3) = 5/3, times -2 -> -10/3
    # m2: p = (-2*10 + -1*20)/30 = -4/3, min(2, 1, 2/3) = 2/3, times -2 -> -4/3
    # ends: (3*-4 + 10/3)/2 = -13/3 and (3*-1 + 4/3)/2 = -5/6
    m = steffen_slopes([10, 20, 40, 50], [100, 60, 20, 10])
    assert m == pytest.approx([-13 / 3, -10 / 3, -4 / 3, -5 / 6], rel=1e-12)


def test_value_hand_checked():
    # Hermite midpoint of [10, 20]: 0.5*100 + 0.125*10*(-13/3) + 0.5*60 - 0.125*10*(-10/3) = 78.75
    curve = MonotoneCurve.fit([10, 20, 40, 50], [100, 60, 20, 10])
    assert float(curve(15.0)) == pytest.approx(78.75, rel=1e-12)


def test_sign_changes_give_zero_interior_slope():
    # s = [1, -1, 1]: opposite signs -> interior slopes 0; ends (3*1 - 0)/2 = 1.5
    assert steffen_slopes([0, 1, 2, 3], [0, 1, 0, 1]) == pytest.approx([1.5, 0, 0, 1.5])


def test_sgn_zero_is_plus_one_like_d3():
    assert list(_sgn(np.array([-2.0, 0.0, 3.0]))) == [-1, 1, 1]
    # a flat secant next to a falling one: (sgn 0 + sgn -1) = 0 -> slope 0; ends (3*0 - 0)/2, (3*-1 - 0)/2
    assert steffen_slopes([0, 1, 2], [1, 1, 0]) == pytest.approx([0, 0, -1.5])


def test_two_knots_straight_line():
    curve = MonotoneCurve.fit([0, 2], [4, 0])
    assert float(curve(1.0)) == pytest.approx(2.0)
    assert float(curve(0.5)) == pytest.approx(3.0)


def test_two_knots_inferencex_end_slopes():
    # slopes 1.5*s and 0.75*s with s = -2: at the midpoint 0.5*4 + 0.125*2*(-3) - 0.125*2*(-1.5) = 1.625
    assert steffen_slopes([0, 2], [4, 0], "inferencex") == pytest.approx([-3.0, -1.5])
    curve = MonotoneCurve.fit([0, 2], [4, 0], "inferencex")
    assert float(curve(1.0)) == pytest.approx(1.625)


def test_never_extrapolates():
    curve = MonotoneCurve.fit([10, 20, 30], [9, 5, 1])
    out = curve(np.array([9.99, 10, 30, 30.01]))
    assert np.isnan(out[0]) and np.isnan(out[3]) and out[1] == 9 and out[2] == 1


def test_single_knot_defined_only_there():
    curve = MonotoneCurve.fit([5.0], [7.0])
    assert float(curve(5.0)) == 7.0 and np.isnan(curve(5.1))


frontiers = st.lists(st.tuples(st.floats(1, 400), st.floats(1, 20000)), min_size=2, max_size=12).map(
    lambda pts: sorted({round(x, 3): y for x, y in pts}.items()))


def _decreasing(pts):
    xs = [p[0] for p in pts]
    ys = sorted((p[1] for p in pts), reverse=True)
    keep = [0] + [i for i in range(1, len(ys)) if ys[i] < ys[i - 1]]
    return [xs[i] for i in keep], [ys[i] for i in keep]


@settings(max_examples=150, deadline=None)
@given(frontiers)
def test_matches_d3_drawn_curve(pts):
    xs, ys = _decreasing(pts)
    if len(xs) < 2:
        return
    curve = MonotoneCurve.fit(xs, ys)
    for seg in segments(xs, ys):
        for u in (0.1, 0.37, 0.5, 0.81):
            bx, by = bezier(seg, u)
            assert float(curve(bx)) == pytest.approx(by, rel=1e-9, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(frontiers, st.sampled_from(["specnb", "inferencex"]))
def test_through_knots_and_within_neighbours(pts, semantics):
    xs, ys = _decreasing(pts)
    if len(xs) < 2:
        return
    curve = MonotoneCurve.fit(xs, ys, semantics)
    assert np.array_equal(curve(np.array(xs)), np.array(ys))
    for i in range(len(xs) - 1):
        grid = np.linspace(xs[i], xs[i + 1], 25)
        vals = curve(grid)
        lo, hi = min(ys[i], ys[i + 1]), max(ys[i], ys[i + 1])
        assert np.all(vals >= lo - 1e-9 * hi) and np.all(vals <= hi + 1e-9 * hi)
