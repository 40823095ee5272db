"""Pareto frontier of throughput per GPU against interactivity, both maximised.

Sort by x ascending, keep the highest y at equal x, drop every point for which a point with larger
x has y at least as large. The result has x strictly increasing and y strictly decreasing.
Points with x ≤ 0 or non-finite values never enter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frozen import FrameField


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

    @property
    def x(self) -> np.ndarray:
        return self.points[self.x_col].to_numpy(dtype=float)

    @property
    def y(self) -> np.ndarray:
        return self.points[self.y_col].to_numpy(dtype=float)

    @property
    def size(self) -> int:
        return len(self.points)

    @property
    def x_range(self) -> tuple[float, float] | None:
        return (float(self.x[0]), float(self.x[-1])) if self.size else None

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.points["framework"]))) if "framework" in self.points else ()


def pareto_frontier(points: pd.DataFrame, arm: str, x_col: str = "interactivity",
                    y_col: str = "throughput_per_gpu") -> Frontier:
    """The frontier rows of ``points`` (any frame with ``x_col``/``y_col``), sorted by x; input untouched."""
    mask = pareto_mask(points[x_col].to_numpy(dtype=float), points[y_col].to_numpy(dtype=float))
    rows = points.loc[mask].sort_values(x_col, kind="mergesort").reset_index(drop=True)
    return Frontier(arm=arm, points=rows, x_col=x_col, y_col=y_col)
