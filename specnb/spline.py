"""Monotone cubic interpolation identical to d3's ``curveMonotoneX`` (and Vega-Lite ``"monotone"``).

Slopes follow Steffen (1990), "A simple method for monotonic interpolation in one dimension",
A&A 239, 443, as implemented in d3-shape's ``monotone`` curve, so values computed here lie exactly on
the line a Vega-Lite chart draws through the same knots.

Notes
-----
With secants ``s_i = (y_{i+1} - y_i) / h_i`` and ``h_i = x_{i+1} - x_i``:

* interior knot: ``m_i = (sgn s_{i-1} + sgn s_i) · min(|s_{i-1}|, |s_i|, ½|p_i|)`` where
  ``p_i = (s_{i-1} h_i + s_i h_{i-1}) / (h_{i-1} + h_i)`` and ``sgn(0) = +1`` (d3's convention);
* end knots: ``m_0 = (3 s_0 - m_1) / 2`` and ``m_{n-1} = (3 s_{n-2} - m_{n-2}) / 2``;
* two knots: a straight line (d3 draws a line segment), except under the ``inferencex`` semantics,
  which reproduce the public dashboard's end slopes ``1.5·s`` and ``0.75·s``.

The cubic Hermite pieces are evaluated by scipy's ``CubicHermiteSpline``. Preconditions (checked by
cheap assertions, not re-validated): ``x`` strictly increasing, ``x`` and ``y`` finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .frozen import readonly

SEMANTICS = ("specnb", "inferencex")


def _sgn(v: np.ndarray) -> np.ndarray:
    return np.where(v < 0, -1.0, 1.0)


def steffen_slopes(x, y, semantics: str = "specnb") -> np.ndarray:
    """Tangent slopes at each knot, as d3's monotoneX computes them (see module notes)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    assert n == len(y) and n >= 2, "need at least two knots"
    assert np.all(np.diff(x) > 0), "x must be strictly increasing"
    h = np.diff(x)
    s = np.diff(y) / h
    if n == 2:
        if semantics == "inferencex":
            return np.array([1.5 * s[0], 0.75 * s[0]])
        return np.array([s[0], s[0]])
    m = np.empty(n)
    s0, s1, h0, h1 = s[:-1], s[1:], h[:-1], h[1:]
    p = (s0 * h1 + s1 * h0) / (h0 + h1)
    m[1:-1] = (_sgn(s0) + _sgn(s1)) * np.minimum(np.minimum(np.abs(s0), np.abs(s1)), 0.5 * np.abs(p))
    m[0] = (3 * s[0] - m[1]) / 2
    m[-1] = (3 * s[-1] - m[-2]) / 2
    return m


@dataclass(frozen=True)
class MonotoneCurve:
    """A d3-monotone curve through knots; ``None`` spline when there is a single knot."""

    x: np.ndarray
    y: np.ndarray
    slopes: np.ndarray | None

    def __post_init__(self):  # arrays of its own that refuse writes: the curve cannot be edited in place
        for name in ("x", "y", "slopes"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, readonly(value))

    @classmethod
    def fit(cls, x, y, semantics: str = "specnb") -> MonotoneCurve:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if len(x) < 2:
            return cls(x, y, None)
        return cls(x, y, steffen_slopes(x, y, semantics))

    @property
    def low(self) -> float:
        return float(self.x[0])

    @property
    def high(self) -> float:
        return float(self.x[-1])

    def contains(self, xq) -> np.ndarray:
        xq = np.asarray(xq, dtype=float)
        return (xq >= self.low) & (xq <= self.high)

    def __call__(self, xq) -> np.ndarray:
        """Values at ``xq``; NaN outside the knots' range (never extrapolates)."""
        xq = np.asarray(xq, dtype=float)
        out = np.full(xq.shape, np.nan)
        inside = self.contains(xq)
        if not inside.any():
            return out
        if self.slopes is None:
            out[inside] = self.y[0]
            return out
        out[inside] = self._spline(xq[inside])
        # Knots are returned exactly (the polynomial form can be off in the last bit).
        exact = np.searchsorted(self.x, xq[inside])
        hit = (exact < len(self.x)) & (self.x[np.minimum(exact, len(self.x) - 1)] == xq[inside])
        vals = out[inside]
        vals[hit] = self.y[exact[hit]]
        out[inside] = vals
        return out

    def derivative(self, xq) -> np.ndarray:
        xq = np.asarray(xq, dtype=float)
        if self.slopes is None:
            return np.zeros(xq.shape)
        return self._spline.derivative()(xq)

    @cached_property
    def _spline(self):
        from scipy.interpolate import CubicHermiteSpline
        return CubicHermiteSpline(self.x, self.y, self.slopes, extrapolate=False)
