"""Pareto frontier of throughput per GPU against interactivity, both maximised.

Sort by x ascending, keep the highest y at equal x, drop every point for which a point with larger
x has y at least as large. The result has x strictly increasing and y strictly decreasing.
Points with x ≤ 0 or non-finite values never enter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .frozen import FrameField, readonly, stored


def pareto_mask(x, y) -> np.ndarray:
    """Boolean mask of the frontier points among (x, y)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    valid = np.isfinite(x) & np.isfinite(y) & (x > 0)
    mask = np.zeros(len(x), dtype=bool)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return mask
    # Walk from the largest x down (ties: highest y first); a point survives only if it beats
    # every y seen so far, i.e. every point with larger (or equal) x.
    order = idx[np.lexsort((-y[idx], -x[idx]))]
    best = -np.inf
    for i in order:
        if y[i] > best:
            mask[i] = True
            best = y[i]
    return mask


@dataclass(frozen=True)
class Frontier:
    """An arm's frontier: knots ``x`` (strictly increasing) and ``y`` (strictly decreasing) and their rows
    (``points``, handed out as a copy: editing it cannot change the frontier)."""

    arm: str
    points: pd.DataFrame = FrameField()  # the frontier rows, sorted by x
    x_col: str = "interactivity"
    y_col: str = "throughput_per_gpu"

    @cached_property
    def x(self) -> np.ndarray:
        """The knots' interactivities (read-only)."""
        return readonly(self._rows[self.x_col])

    @cached_property
    def y(self) -> np.ndarray:
        """The knots' throughputs (read-only)."""
        return readonly(self._rows[self.y_col])

    @property
    def size(self) -> int:
        return len(self._rows)

    @property
    def x_range(self) -> tuple[float, float] | None:
        return (float(self.x[0]), float(self.x[-1])) if self.size else None

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._rows["framework"]))) if "framework" in self._rows else ()

    def values(self, column: str) -> np.ndarray:
        """One column of the frontier's rows as floats: NaN where blank, all NaN when the rows lack it."""
        rows = self._rows
        if column not in rows:
            return np.full(len(rows), np.nan)
        return rows[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)

    @property
    def _rows(self) -> pd.DataFrame:  # the stored rows, read without the copy ``points`` hands out
        return stored(self, "points")


def pareto_frontier(points: pd.DataFrame, arm: str, x_col: str = "interactivity",
                    y_col: str = "throughput_per_gpu") -> Frontier:
    """The frontier rows of ``points`` (any frame with ``x_col``/``y_col``), sorted by x; input untouched."""
    mask = pareto_mask(points[x_col].to_numpy(dtype=float), points[y_col].to_numpy(dtype=float))
    rows = points.loc[mask].sort_values(x_col, kind="mergesort").reset_index(drop=True)
    return Frontier(arm=arm, points=rows, x_col=x_col, y_col=y_col)
