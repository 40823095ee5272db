import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from specnb.frontier import pareto_frontier, pareto_mask

coord = st.one_of(st.floats(-5, 300), st.just(float("nan")), st.just(float("inf")))
points = st.lists(st.tuples(coord, st.one_of(st.floats(0.1, 1e4), st.just(float("nan")))), min_size=0, max_size=30)


def test_hand_checked():
    x = [10, 20, 20, 30, 40, 5]
    y = [100, 80, 90, 95, 10, 50]
    # (30, 95) dominates (10, 100)? no: 100 > 95. (30,95) dominates (20,80), (20,90) and (5,50)
    assert list(np.flatnonzero(pareto_mask(x, y))) == [0, 3, 4]


def test_equal_x_keeps_highest_y_and_equal_y_keeps_larger_x():
    assert list(np.flatnonzero(pareto_mask([10, 10, 20], [5, 7, 1]))) == [1, 2]
    assert list(np.flatnonzero(pareto_mask([10, 20], [5, 5]))) == [1]


@settings(max_examples=200, deadline=None)
@given(points)
def test_frontier_properties(pts):
    frame = pd.DataFrame(pts, columns=["interactivity", "throughput_per_gpu"], dtype=float)
    before = frame.copy()
    f = pareto_frontier(frame, "mtp")
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    x, y = f.x, f.y
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) < 0)
    assert np.all(x > 0) and np.all(np.isfinite(y))
    valid = frame[(frame.interactivity > 0) & np.isfinite(frame.interactivity) & np.isfinite(frame.throughput_per_gpu)]
    valid = valid[["interactivity", "throughput_per_gpu"]]
    for px, py in valid.itertuples(index=False):
        on = (x == px) & (y == py)
        if on.any():
            continue
        # a dropped point is dominated: some frontier point has x >= px and y >= py
        assert np.any((x >= px) & (y >= py))
    assert len(x) == 0 or len(valid) > 0
