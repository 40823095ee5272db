"""An independent re-statement of d3-shape's monotoneX point stream, for parity tests only.

It follows d3's drawing procedure literally (slope3/slope2 and a cubic Bézier per segment with control
points at one third of the segment), and evaluates those Béziers, so the test compares specnb's
Hermite spline against the curve d3 would *draw*, not against a copy of specnb's own formula.
"""

from __future__ import annotations

import math


def _sign(x):
    return -1 if x < 0 else 1


def _slope3(x0, y0, x1, y1, x2, y2):
    h0, h1 = x1 - x0, x2 - x1
    s0 = (y1 - y0) / h0
    s1 = (y2 - y1) / h1
    p = (s0 * h1 + s1 * h0) / (h0 + h1)
    v = (_sign(s0) + _sign(s1)) * min(abs(s0), abs(s1), 0.5 * abs(p))
    return 0 if math.isnan(v) else v


def _slope2(x0, y0, x1, y1, t):
    h = x1 - x0
    return (3 * (y1 - y0) / h - t) / 2 if h else t


def segments(xs, ys):
    """d3's Bézier segments [(P0, P1, P2, P3)] for knots; two knots give a straight segment."""
    n = len(xs)
    if n == 2:
        (x0, y0), (x1, y1) = (xs[0], ys[0]), (xs[1], ys[1])
        return [((x0, y0), (x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3), (x1 - (x1 - x0) / 3, y1 - (y1 - y0) / 3),
                 (x1, y1))]
    tangents = [None] * n
    for i in range(1, n - 1):
        tangents[i] = _slope3(xs[i - 1], ys[i - 1], xs[i], ys[i], xs[i + 1], ys[i + 1])
    tangents[0] = _slope2(xs[0], ys[0], xs[1], ys[1], tangents[1])
    tangents[-1] = _slope2(xs[-2], ys[-2], xs[-1], ys[-1], tangents[-2])
    out = []
    for i in range(n - 1):
        x0, y0, x1, y1 = xs[i], ys[i], xs[i + 1], ys[i + 1]
        dx = (x1 - x0) / 3
        out.append(((x0, y0), (x0 + dx, y0 + dx * tangents[i]), (x1 - dx, y1 - dx * tangents[i + 1]), (x1, y1)))
    return out


def bezier(seg, u):
    (a, b, c, d) = seg
    w = ((1 - u) ** 3, 3 * u * (1 - u) ** 2, 3 * u ** 2 * (1 - u), u ** 3)
    return (sum(wi * p[0] for wi, p in zip(w, (a, b, c, d))), sum(wi * p[1] for wi, p in zip(w, (a, b, c, d))))
