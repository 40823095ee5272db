"""Number and unit formatting shared by tables, narrative, CLI and chart tooltips.

One place decides how a value reads, so the narrative and the table cannot disagree:
"not measured" for values outside an arm's range or absent from the data, "no rate" for a GPU without
cost constants,
"~N" for concurrency, "$0.174" for costs, percent and ×-ratio wording.
"""

from __future__ import annotations

import math

NOT_MEASURED = "not measured"
NO_RATE = "no rate"
DASH = "—"


def _ok(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def _fixed(value: float, decimals: int, *, sep: str = ",") -> str:
    """Fixed-point with ``decimals`` (and thousands separators); three significant digits instead where fixed-point
    would print a non-zero value as 0 or run past 15 digits, so an extreme but valid value never reads as 0."""
    if value != 0 and (abs(value) < 0.5 * 10.0 ** -decimals or abs(value) >= 1e15):
        return f"{value:.3g}"
    return f"{value:{sep}.{decimals}f}"


def fmt_throughput(value, *, decimals: int = 1) -> str:
    """tok/s/GPU: ``3139.2`` in tables, ``3,139`` in prose (decimals=0)."""
    if not _ok(value):
        return NOT_MEASURED
    return _fixed(value, decimals)


def _unpriced(measured: bool, rated: bool) -> str:
    """Why a cost or power value is missing: the GPU has no rate, or the throughput it derives from was not
    measured (out of range, or the token type's throughput is not in the data)."""
    return NO_RATE if measured and not rated else NOT_MEASURED


def fmt_cost(value, *, measured: bool = True, rated: bool = True) -> str:
    """USD per million tokens: three decimals below $10, two above."""
    if not _ok(value):
        return _unpriced(measured, rated)
    return "$" + _fixed(value, 3 if value < 10 else 2)


def fmt_power(value, *, measured: bool = True, rated: bool = True) -> str:
    """tok/s per MW, whole numbers with thousands separators."""
    if not _ok(value):
        return _unpriced(measured, rated)
    return _fixed(value, 0)


def fmt_tokens_per_dollar(value, *, measured: bool = True, rated: bool = True) -> str:
    if not _ok(value):
        return _unpriced(measured, rated)
    return _fixed(value, 0)


def fmt_joules(value) -> str:
    """Energy per token, three significant digits: ``0.255 J``, ``3.16 J``."""
    if not _ok(value):
        return NOT_MEASURED
    return f"{value:.3g} J"


def fmt_concurrency(value) -> str:
    return NOT_MEASURED if value is None else f"~{int(value):,}"


def fmt_seconds(value) -> str:
    """Latency in seconds with sensible precision (0.123 s, 2.40 s, 17.9 s)."""
    if not _ok(value):
        return NOT_MEASURED
    if value < 1:
        return f"{_fixed(value, 3)} s"
    if value < 10:
        return f"{value:.2f} s"
    return f"{_fixed(value, 1, sep='')} s"


def fmt_interactivity(value) -> str:
    if not _ok(value):
        return DASH
    return f"{value:g}" if float(value).is_integer() else _fixed(value, 1, sep="")


def fmt_band(low, high) -> str:
    return f"{fmt_interactivity(low)}–{fmt_interactivity(high)}"


def fmt_ratio(ratio: float) -> str:
    """``8.4×``; two significant digits below 10, whole numbers above."""
    return f"{_fixed(ratio, 1, sep='')}×" if ratio < 10 else f"{_fixed(ratio, 0, sep='')}×"


def fmt_pct(fraction: float) -> str:
    """A fraction as a whole percent: 0.876 → ``88 %``."""
    return f"{fraction * 100:.0f} %"


THIN_MARK = "†"
"""Marks a value that rests on thin data (support grade "sparse"): after the number, never instead of it."""


def _ratio_end(ratio: float) -> str:
    """A range end: like ``fmt_ratio``, with two significant digits below 1 (0.36×, not 0.4×)."""
    return f"{ratio:.2g}×" if ratio < 1 else fmt_ratio(ratio)


def fmt_ratio_range(low: float, high: float) -> str:
    """``between 2.1× and 3.4×``."""
    return f"between {_ratio_end(low)} and {_ratio_end(high)}"


def fmt_knot_interactivity(x: float) -> str:
    """A measured point's interactivity in a support note: whole tok/s/user, one decimal below 10."""
    return _fixed(x, 0) if x >= 10 else _fixed(x, 1)


def fmt_support(target, grade, left, right) -> str:
    """The interactivities a value at ``target`` is read between: ``at 74`` (measured: the nearest knot),
    ``70–308``, ``70 (end)`` when clamped to a frontier end, a dash when there is no value
    (``left``/``right``: the bracketing knots' interactivities, or None). Whole tok/s/user, one decimal below 10."""
    if grade is None:
        return DASH
    ends = [x for x in (left, right) if x is not None]
    if grade == "measured":
        return f"at {fmt_knot_interactivity(min(ends, key=lambda x: abs(x - target)))}"
    if len(ends) == 1:
        return f"{fmt_knot_interactivity(ends[0])} (end)"
    return f"{fmt_knot_interactivity(left)}–{fmt_knot_interactivity(right)}"


def fmt_limits(low: float, high: float, unit: str) -> str:
    """A plausible range as people write it, for messages: ``0.001 to 100,000,000 tok/s/GPU``."""
    def end(x: float) -> str:
        return f"{int(x):,}" if 1 <= x < 1e10 and float(x).is_integer() else f"{x:g}"
    return f"{end(low)} to {end(high)} {unit}"
