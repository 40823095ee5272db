"""How much of a number was measured: the support of each interpolated value, and how far a ratio moves
when any one measurement is dropped.

Support
    Each arm's value at a target is read off its frontier curve between two knots, ``left`` (the last knot at
    or below the target's interactivity) and ``right`` (the first at or above it). Its ``grade`` is

    * ``"measured"`` — the target lies within ``MEASURED_TOLERANCE`` (1 %) of a knot's interactivity;
    * ``"sparse"`` — the two knots' throughputs differ by more than ``SPARSE_FACTOR``, or one side has no knot
      (a value clamped to the frontier's end under the ``inferencex`` semantics, or a one-knot frontier);
    * ``"interpolated"`` — otherwise.

    A value that is not measured (outside the arm's frontier, ``specnb`` semantics) has grade ``None``; its
    ``left``/``right`` are still the knots on either side, where there are any.

Why the throughput factor, and not the width of the gap
    A frontier falls monotonically, so all that two neighbouring measurements say about the throughput between
    them is that it lies between theirs. Where they are 1.5× apart, the interpolated value cannot be far off
    whatever shape the curve takes; where they are 170× apart (GB300 FP4 MTP, 11,997 → 71 tok/s/GPU), the
    curve there is a guess. A wide gap over a flat stretch is still pinned down, so the gap's width alone says
    little. 3× is where the bundled data split: every bracket of a mid-band value is either at most 2.7× or at
    least 3.1× (a threshold of 2× would sit on values of 1.9× and 2.0×, so a small change in the data would
    flip grades).

Ratio range
    For each target, every knot of the treatment's and of the baseline's frontier is dropped in turn, that
    arm's frontier is recomputed from its remaining measurements (a point the dropped one dominated may then
    become a knot — the frontier that would have been drawn had that run not been made), its curve refitted,
    and the ratio re-read at the same target. ``ratio_range`` is the smallest and largest of the ratio and
    those re-read ratios; a variant that no longer reaches the target is skipped (counted in ``skipped``).
    The range is ``wide`` when its high end exceeds its low end by more than ``WIDE_RANGE_FACTOR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frontier import Frontier, pareto_mask
from .spline import MonotoneCurve

SPARSE_FACTOR = 3.0
"""Neighbouring knots whose throughputs differ by more than this factor leave the curve between them a guess."""
MEASURED_TOLERANCE = 0.01
"""A target within this fraction of a knot's interactivity reads that measurement (grade "measured")."""
WIDE_RANGE_FACTOR = 1.5
"""A ratio range whose high end exceeds its low end by more than this factor is stated with the ratio."""
GRADES = ("measured", "interpolated", "sparse")


@dataclass(frozen=True)
class Knot:
    """One frontier point as a value's support names it."""

    interactivity: float
    throughput_per_gpu: float
    conc: int | None
    engine: str
    date: str | None

    def to_dict(self) -> dict:
        return {"interactivity": self.interactivity, "throughput_per_gpu": self.throughput_per_gpu,
                "conc": self.conc, "engine": self.engine, "date": self.date}


@dataclass(frozen=True)
class Support:
    """The knots an arm's value at a target is read between, and how well they pin it down (module notes)."""

    grade: str | None  # one of GRADES; None when the value is not measured
    left: Knot | None
    right: Knot | None

    @property
    def sparse(self) -> bool:
        return self.grade == "sparse"

    @property
    def factor(self) -> float | None:
        """How many times the left knot's throughput exceeds the right one's (None without both)."""
        if self.left is None or self.right is None:
            return None
        return self.left.throughput_per_gpu / self.right.throughput_per_gpu

    def to_dict(self) -> dict:
        return {"grade": self.grade, "left": self.left.to_dict() if self.left else None,
                "right": self.right.to_dict() if self.right else None}


def is_sparse_gap(y_left: float, y_right: float) -> bool:
    """Whether two neighbouring knots' throughputs differ by more than ``SPARSE_FACTOR``."""
    high, low = max(y_left, y_right), min(y_left, y_right)
    return high > SPARSE_FACTOR * low


def sparse_segments(frontier: Frontier) -> tuple[tuple[float, float], ...]:
    """The (left, right) interactivities of every pair of neighbouring knots with a sparse gap between them."""
    x, y = frontier.x, frontier.y
    return tuple((float(x[i]), float(x[i + 1])) for i in range(frontier.size - 1) if is_sparse_gap(y[i], y[i + 1]))


def frontier_knots(frontier: Frontier) -> tuple[Knot, ...]:
    """The frontier's rows as ``Knot``s, in x order (built once per arm: row-wise pandas access is slow)."""
    p = frontier.points
    n = frontier.size
    conc = p["conc"] if "conc" in p else pd.Series([None] * n, dtype=object)
    engine = p["framework"] if "framework" in p else pd.Series([""] * n, dtype=object)
    date = p["date"] if "date" in p else pd.Series([None] * n, dtype=object)
    return tuple(Knot(float(x), float(y), None if pd.isna(c) else int(c), str(e) if isinstance(e, str) else "",
                      d if isinstance(d, str) and d else None)
                 for x, y, c, e, d in zip(frontier.x, frontier.y, conc, engine, date, strict=True))


def value_support(knots: tuple[Knot, ...], x: float, has_value: bool) -> Support:
    """The support of an arm's value at target ``x``, given its frontier ``knots`` (``has_value``: the arm has
    a value there, in range or clamped)."""
    left = next((k for k in reversed(knots) if k.interactivity <= x), None)
    right = next((k for k in knots if k.interactivity >= x), None)
    near = [k for k in (left, right) if k is not None]
    if not has_value:
        grade = None
    elif any(abs(x - k.interactivity) <= MEASURED_TOLERANCE * k.interactivity for k in near):
        grade = "measured"
    elif left is None or right is None or is_sparse_gap(left.throughput_per_gpu, right.throughput_per_gpu):
        grade = "sparse"
    else:
        grade = "interpolated"
    return Support(grade, left, right)


# ---------------------------------------------------------------------------------------------- ratio range


@dataclass(frozen=True)
class RatioRange:
    """The smallest and largest treatment/baseline ratio when any one knot of either frontier is dropped."""

    low: float
    high: float
    refits: int  # leave-one-out variants that still reached the target
    skipped: int  # variants that no longer reached it

    @property
    def factor(self) -> float:
        return self.high / self.low

    @property
    def wide(self) -> bool:
        return self.factor > WIDE_RANGE_FACTOR

    def inverted(self) -> RatioRange:
        """The range of the reciprocal ratio (baseline/treatment), for prose that names the winner first."""
        return RatioRange(1 / self.high, 1 / self.low, self.refits, self.skipped)

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "refits": self.refits, "skipped": self.skipped}


def throughput_at(curve: MonotoneCurve, xq, semantics: str) -> np.ndarray:
    """Throughput at ``xq`` the way ``compare`` reads it: NaN outside the curve (``specnb``); clamped to the
    knots' range in x and in y (``inferencex``)."""
    xq = np.asarray(xq, dtype=float)
    if semantics == "inferencex":
        return np.clip(curve(np.clip(xq, curve.low, curve.high)), curve.y.min(), curve.y.max())
    return curve(xq)


def reach(fx: np.ndarray, xq) -> list[set]:
    """Per target, the positions of the frontier knots (``fx``, sorted) its value can depend on.

    Between knots j and j+1 the Steffen cubic uses the two knots' values and slopes, and a knot's slope only its
    neighbours (the end slopes too: ``m_0`` needs knots 0–2), so an in-range value depends on at most knots j−1 to
    j+2; a value clamped to a frontier end, on the end knot. Dropping any other knot cannot change it: the points
    it dominated, which may join the frontier in its place, lie between its neighbours, and at least three knots
    remain (so the two-knot rule does not apply)."""
    n = len(fx)
    out = []
    for x in np.asarray(xq, dtype=float):
        below, above = np.flatnonzero(fx <= x), np.flatnonzero(fx >= x)
        if not below.size or not above.size:
            out.append({0, 1} if not below.size else {n - 2, n - 1})
            continue
        out.append(set(range(max(int(below[-1]) - 1, 0), min(int(above[0]) + 2, n))))
    return out


def leave_one_out(points: pd.DataFrame, xq, semantics: str, values) -> np.ndarray:
    """Throughput at ``xq`` (columns) with each frontier knot's measurement dropped in turn (rows, in x order):
    the frontier is recomputed from the remaining points, so a point the dropped one dominated may become a
    knot. ``values`` are the arm's throughputs at ``xq``; a variant keeps them where the dropped knot cannot
    reach (``reach``), without refitting."""
    x = points["interactivity"].to_numpy(dtype=float)
    y = points["throughput_per_gpu"].to_numpy(dtype=float)
    xq = np.asarray(xq, dtype=float)
    knots = np.flatnonzero(pareto_mask(x, y))
    knots = knots[np.argsort(x[knots], kind="mergesort")]
    deps = reach(x[knots], xq)
    out = np.tile(np.asarray(values, dtype=float), (len(knots), 1))
    for row, k in enumerate(knots):
        hit = np.array([row in d for d in deps], dtype=bool)
        if not hit.any():
            continue
        keep = np.ones(len(x), dtype=bool)
        keep[k] = False
        kx, ky = x[keep], y[keep]
        mask = pareto_mask(kx, ky)
        if not mask.any():
            out[row, hit] = np.nan
            continue
        order = np.argsort(kx[mask], kind="mergesort")
        curve = MonotoneCurve.fit(kx[mask][order], ky[mask][order], semantics)
        out[row, hit] = throughput_at(curve, xq[hit], semantics)
    return out


def ratio_ranges(points_by_arm: dict, arms: tuple, xq, throughputs: dict, ratios: list[dict],
                 semantics: str) -> list[dict]:
    """Per target (``xq``), per treatment arm (all ``arms`` but the last), its ``RatioRange`` (None without a ratio).

    ``throughputs[arm]`` holds the arm's throughput at each target, ``ratios[j][arm]`` the ratio at target j.
    Every arm's curve is refitted once per dropped knot and read at all targets at once.
    """
    variants = {arm: leave_one_out(points_by_arm[arm], xq, semantics, throughputs[arm]) for arm in arms}
    return ranges_of(variants, arms, throughputs, ratios)


def ranges_of(variants: dict, arms: tuple, throughputs: dict, ratios: list[dict]) -> list[dict]:
    """``ratio_ranges`` from every arm's ``leave_one_out`` throughputs (``variants[arm]``, read at the same targets
    as ``throughputs``): for a caller that keeps an arm's variants while its measurements do not change."""
    base = arms[-1]
    out = []
    for j in range(len(ratios)):
        ranges = {}
        for arm in arms[:-1]:
            ratio = ratios[j].get(arm)
            if ratio is None or not math.isfinite(ratio):
                ranges[arm] = None
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                alt = np.concatenate([variants[arm][:, j] / throughputs[base][j],
                                      throughputs[arm][j] / variants[base][:, j]])
            ok = np.isfinite(alt) & (alt > 0)
            ranges[arm] = RatioRange(float(min(ratio, alt[ok].min(initial=ratio))),
                                     float(max(ratio, alt[ok].max(initial=ratio))), int(ok.sum()), int((~ok).sum()))
        out.append(ranges)
    return out
