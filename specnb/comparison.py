"""Compare spec-decoding arms of one configuration at matched interactivity → a frozen ``Comparison``.

Every number a report shows is computed here, once: band, targets, per-arm metrics at each target,
crossovers, and the sampled curves the charts draw. Tables, JSON, narrative and charts only read it.

Semantics (SPEC §3):

``specnb`` (default)
    band = overlap of the arms' *frontier* interactivity ranges; targets at 25/50/75 % rounded to whole
    tok/s/user; a target outside an arm's frontier is "not measured" (never extrapolated).
``inferencex``
    reproduces the public dashboard: band = overlap of *raw-point* ranges (union when disjoint), shown as
    ceil(low)–floor(high); targets ``round(low + span·q)``; out-of-range targets clamped to the frontier
    end (flagged ``clamped``); values clamped to the knots' min/max; two-knot end slopes 1.5·s / 0.75·s.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from . import costs, names, support
from .data import (
    PERCENTILES,
    Dataset,
    at_percentile,
    check_percentile,
    check_plausible,
    latency_columns,
    parse_as_of,
    selection_words,
)
from .errors import UsageError
from .frontier import Frontier, pareto_frontier
from .frozen import FrameField, FrozenDict, freeze, own_copy, thaw
from .spline import SEMANTICS, MonotoneCurve

SCHEMA = "specnb.comparison/1"
QUANTILES = (0.25, 0.5, 0.75)
TIE_THRESHOLD = 0.01  # relative throughput difference under which two arms are "essentially tied"
CURVE_SAMPLES = 120
THROUGHPUT_COLUMNS = {"total": "throughput_per_gpu", "input": "input_throughput_per_gpu",
                      "output": "output_throughput_per_gpu"}
ENERGY_METRIC = "joules_per_total_token"
"""Measured energy per token (J per total token), where the data records power; see ``formats._rows.energy``."""
METRIC_LABELS = {"throughput_per_gpu": "throughput per GPU", "output_throughput_per_gpu": "output throughput",
                 "input_throughput_per_gpu": "input throughput", "conc": "concurrency",
                 ENERGY_METRIC: "measured energy per token",
                 **{f"{p}_ttft_s": f"{p} TTFT" for p in PERCENTILES},
                 **{f"{p}_e2el_s": f"{p} E2E latency" for p in PERCENTILES}}


def interpolated_metrics(percentile: str = "median") -> tuple:
    """The metrics interpolated at a target, latencies at ``percentile``. Throughput per GPU is on every frontier
    knot; any other may be missing on some or all knots, and is then interpolated over the knots that carry it
    (``MetricCurve``)."""
    latency = latency_columns(percentile)
    return ("throughput_per_gpu", "output_throughput_per_gpu", "input_throughput_per_gpu", "conc",
            latency["ttft_s"], latency["e2el_s"], ENERGY_METRIC)


@dataclass(frozen=True)
class Config:
    """A configuration: model × hardware × precision × sequence lengths."""

    model: str
    hardware: str
    precision: str
    isl: int
    osl: int

    @property
    def sequence(self) -> str:
        return names.sequence_label(self.isl, self.osl)

    @property
    def slug(self) -> str:
        """File-system safe id, e.g. ``dsr1-b200-fp4-1k1k``."""
        raw = f"{self.model}-{self.hardware}-{self.precision}-{self.sequence.replace('/', '')}"
        safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-._" else "_" for c in raw)
        if safe != raw or len(safe) > 120:  # replaced or cut characters: a hash keeps distinct names distinct
            digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:10]
            safe = f"{safe[:100].strip('.')}-{digest}"
        return safe

    def to_dict(self) -> dict:
        return {"model": self.model, "hardware": self.hardware, "precision": self.precision,
                "isl": self.isl, "osl": self.osl}


@dataclass(frozen=True)
class ArmValues:
    """One arm's metrics at one target interactivity; NaN where not measured or no rate."""

    throughput_per_gpu: float
    output_throughput_per_gpu: float
    input_throughput_per_gpu: float
    cost_per_mtok: float  # for the comparison's token type
    cost_per_mtok_by_type: dict
    tokens_per_dollar: float
    tok_s_per_mw: float
    concurrency: int | None
    ttft_s: float  # TTFT and E2E latency at the comparison's percentile (``Comparison.percentile``)
    e2el_s: float
    in_range: bool
    clamped: bool
    evaluated_at: float  # the interactivity actually evaluated (differs from the target when clamped)
    joules_per_total_token: float = math.nan  # measured energy, interpolated over the knots that record it

    def __post_init__(self):
        object.__setattr__(self, "cost_per_mtok_by_type", FrozenDict(self.cost_per_mtok_by_type))

    @property
    def measured(self) -> bool:
        return self.in_range or self.clamped


@dataclass(frozen=True)
class Target:
    """A matched interactivity and every arm's values there."""

    interactivity: float
    position: str  # "low end", "middle", "upper edge" of the band
    arms: dict
    winner: str | None  # arm with the highest throughput/GPU; None if tied or not comparable
    ratios: dict = field(default_factory=dict)  # every non-baseline arm's throughput / baseline's
    support: dict = field(default_factory=dict)  # arm → support.Support: the knots its value is read between
    ratio_ranges: dict = field(default_factory=dict)  # non-baseline arm → support.RatioRange (None without a ratio)

    def __post_init__(self):
        for name in ("arms", "ratios", "support", "ratio_ranges"):
            object.__setattr__(self, name, FrozenDict(getattr(self, name)))

    @property
    def ratio(self) -> float | None:
        """The first (treatment) arm's throughput over the baseline's."""
        return next(iter(self.ratios.values()), None)

    @property
    def ratio_range(self) -> support.RatioRange | None:
        """How far the first arm's ratio moves when any one knot of either frontier is dropped."""
        return next(iter(self.ratio_ranges.values()), None)

    @property
    def sparse_arms(self) -> tuple:
        """Arms whose value here rests on a sparse stretch of their frontier (see ``support``)."""
        return tuple(a for a, s in self.support.items() if s.sparse)


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    shown_low: float
    shown_high: float
    kind: str  # "frontier overlap", "raw overlap", "raw union"

    @property
    def span(self) -> float:
        return self.high - self.low

    def position(self, x: float) -> str:
        f = (x - self.low) / self.span if self.span > 0 else 0.5
        return "low end" if f < 1 / 3 else ("middle" if f <= 2 / 3 else "upper edge")


@dataclass(frozen=True)
class Crossover:
    """Where the throughput winner changes: ``leader_above`` wins for higher interactivity."""

    interactivity: float
    leader_above: str
    leader_below: str


@dataclass(frozen=True)
class MetricCurve:
    """One arm's metric, interpolated over the frontier knots that carry it.

    ``knots`` are positions in the frontier's rows (``Frontier.points``) whose value of ``metric`` is finite.
    With two or more, ``curve`` is the monotone spline through them, defined from the first to the last of
    them and nowhere else; with fewer, the metric is not measured anywhere (``curve`` is None) — except on a
    one-knot frontier whose knot carries it, where the metric is as measured as the throughput itself.
    """

    metric: str
    knots: tuple[int, ...]
    curve: MonotoneCurve | None

    @classmethod
    def fit(cls, frontier: Frontier, metric: str, semantics: str) -> MetricCurve:
        values = frontier.values(metric)
        knots = np.flatnonzero(np.isfinite(values))
        if len(knots) < 2 and not (frontier.size == 1 and len(knots) == 1):
            return cls(metric, tuple(int(k) for k in knots), None)
        return cls(metric, tuple(int(k) for k in knots), MonotoneCurve.fit(frontier.x[knots], values[knots], semantics))

    @property
    def measured(self) -> bool:
        return self.curve is not None

    def __call__(self, xq) -> np.ndarray:
        """Values at ``xq``; NaN where the metric is not measured (outside its knots, or no curve)."""
        if self.curve is None:
            return np.full(np.shape(xq), np.nan)
        return self.curve(xq)


@dataclass(frozen=True)
class Comparison:
    """The result everything renders from. Build it with ``compare``. Immutable in depth: its frames (``points``,
    ``curves``, ``priced_points``, each frontier's ``points``) are handed out as copies, its curves' arrays are
    read-only and its mappings refuse edits, so whatever a reader does with them, the next reader sees the same."""

    config: Config
    arms: tuple
    semantics: str
    rate: costs.Rate
    token_type: str
    band: Band | None
    targets: tuple
    crossovers: tuple
    frontiers: dict
    metric_curves: dict  # arm → metric → MetricCurve: which frontier knots carry which metric
    points: pd.DataFrame = FrameField()
    curves: pd.DataFrame = FrameField()
    notes: tuple
    provenance: dict = field(default_factory=dict)
    percentile: str = "median"  # the latency percentile interactivity, TTFT and E2E are read at
    as_of: str | None = None  # the day the data was cut at (rows dated after it left out); None: all rows

    def __post_init__(self):
        object.__setattr__(self, "frontiers", FrozenDict(self.frontiers))
        object.__setattr__(self, "metric_curves", FrozenDict({a: FrozenDict(m) for a, m in self.metric_curves.items()}))
        object.__setattr__(self, "provenance", freeze(self.provenance))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def title(self) -> str:
        """Report title, e.g. ``B200 FP4: MTP vs Off — DeepSeek R1 · 1k/1k``."""
        cfg = self.config
        versus = " vs ".join(names.spec_label(a) for a in self.arms)
        return (f"{names.hardware_label(cfg.hardware)} {cfg.precision.upper()}: {versus} — "
                f"{names.model_label(cfg.model)} · {cfg.sequence}")

    @property
    def treatment(self) -> str:
        return self.arms[0]

    @property
    def baseline(self) -> str:
        return self.arms[-1]

    @property
    def engines(self) -> dict:
        """Engines (frameworks) that contributed frontier points, per arm."""
        return {arm: self.frontiers[arm].engines for arm in self.arms}

    @property
    def engines_differ(self) -> bool:
        sets = [set(e) for e in self.engines.values() if e]
        return len(sets) > 1 and any(s != sets[0] for s in sets[1:])

    @property
    def comparable(self) -> bool:
        return self.band is not None and bool(self.targets)

    @property
    def sparse_segments(self) -> dict:
        """Per arm, the (left, right) interactivities of frontier stretches too thin to pin the curve down."""
        return {arm: support.sparse_segments(self.frontiers[arm]) for arm in self.arms}

    @property
    def priced_points(self) -> pd.DataFrame:
        """The configuration's measured points (arms of this comparison) with cost and power, and a
        ``on_frontier`` flag: what the charts plot as raw points (a copy: see ``Comparison``)."""
        return own_copy(self._priced_points)

    @cached_property
    def _priced_points(self) -> pd.DataFrame:
        p = self.points[self.points.spec_method.isin(self.arms)].copy()
        col = THROUGHPUT_COLUMNS[self.token_type]
        p["cost_per_mtok"] = costs.cost_per_mtok(self.rate.usd_per_gpu_hour, p[col].to_numpy(dtype=float))
        p["tok_s_per_mw"] = costs.tok_s_per_mw(self.rate.kw_per_gpu, p[col].to_numpy(dtype=float))
        on = set()
        for arm in self.arms:
            on |= set(self.frontiers[arm].points["source"])
        p["on_frontier"] = p["source"].isin(on)
        return p.reset_index(drop=True)

    @property
    def energy_measured(self) -> bool:
        """Whether any arm's frontier has points that record power (measured J/token)."""
        return any(self.metric_curves[a][ENERGY_METRIC].knots for a in self.arms)

    @property
    def token_throughput_measured(self) -> bool:
        """Whether any point measures the throughput of the token type, from which cost and power derive."""
        return bool(self.priced_points[THROUGHPUT_COLUMNS[self.token_type]].notna().any())

    def to_dict(self) -> dict:
        """The ``comparison.json`` shape of SPEC §4 (keys fixed), plus labels, notes and provenance."""
        return _to_dict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per target and arm, with every metric (the CSV download)."""
        return _to_frame(self)

    def narrative(self) -> list[str]:
        from .narrative import paragraphs  # presentation lives above compare; imported on use

        return paragraphs(self)

    def _repr_html_(self) -> str:
        from .display import comparison_html  # presentation lives above compare; imported on use

        return comparison_html(self)

    def __repr__(self) -> str:
        band = f"{self.band.low:.1f}–{self.band.high:.1f}" if self.band else "no overlap"
        return f"<Comparison {self.config.slug} arms={list(self.arms)} band={band} targets={len(self.targets)}>"


# ---------------------------------------------------------------------------------------------- compute


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float, np.floating)) and math.isfinite(v)


def metric_curves(frontier: Frontier, semantics: str, percentile: str = "median") -> dict:
    """Every interpolated metric of one arm, each over the knots that carry it."""
    return {metric: MetricCurve.fit(frontier, metric, semantics) for metric in interpolated_metrics(percentile)}


def matched_band(frontiers: dict, points_by_arm: dict, semantics: str) -> Band | None:
    """The band the arms are compared over (module notes: frontier overlap, or raw overlap/union); None if none."""
    if any(f.size == 0 for f in frontiers.values()):
        return None
    if semantics == "inferencex":
        lows = [float(p.interactivity.min()) for p in points_by_arm.values()]
        highs = [float(p.interactivity.max()) for p in points_by_arm.values()]
        low, high, kind = max(lows), min(highs), "raw overlap"
        if low >= high:  # disjoint, or touching in a single point: the dashboard takes no overlap as the union
            low, high, kind = min(lows), max(highs), "raw union"
        return Band(low, high, float(math.ceil(low)), float(math.floor(high)), kind)
    low = max(f.x_range[0] for f in frontiers.values())
    high = min(f.x_range[1] for f in frontiers.values())
    if not low < high:
        return None
    return Band(low, high, low, high, "frontier overlap")


def default_targets(band: Band, semantics: str) -> list[float]:
    """25/50/75 % of the band, rounded to whole tok/s/user, or to as few decimals as keep the target inside the band
    when whole numbers leave it (a band narrower than 1 tok/s/user, or one near 0): a default target never lies
    outside the band, in either semantics. Targets that round alike are given once."""
    out = []
    for q in QUANTILES:
        exact = band.low + band.span * q
        t = next((float(round(exact, d)) for d in range(17) if band.low <= round(exact, d) <= band.high), exact)
        if t not in out:
            out.append(t)
    return out


def reading_point(frontier: Frontier, x: float, semantics: str) -> tuple[float, bool, bool]:
    """Where an arm is read for target ``x``: (the interactivity evaluated, in the frontier's range, clamped to
    its end — ``inferencex`` only). Outside the range under ``specnb``, or on an empty frontier: not read."""
    if frontier.size == 0:
        return x, False, False
    lo, hi = frontier.x_range
    if lo <= x <= hi:
        return x, True, False
    if semantics == "inferencex":
        return min(max(x, lo), hi), False, True
    return x, False, False


def read_value(mc: MetricCurve, at: float, measured: bool, semantics: str) -> float:
    """One metric at ``at`` (a ``reading_point``): NaN when not ``measured``; clamped to the knots' values under
    ``inferencex``."""
    v = float(mc(at)) if measured else math.nan
    if semantics == "inferencex" and math.isfinite(v):
        v = float(min(max(v, mc.curve.y.min()), mc.curve.y.max()))
    return v


def ratios_to_baseline(throughputs: dict, arms: tuple) -> dict:
    """Every non-baseline arm's throughput over the baseline's (the last arm's); None where either is missing."""
    base = throughputs[arms[-1]]
    return {a: (throughputs[a] / base if _finite(throughputs[a]) and _finite(base) and base > 0 else None)
            for a in arms[:-1]}


def _arm_values(curves: dict, frontier: Frontier, x: float, semantics: str, rate: costs.Rate,
                token_type: str, percentile: str = "median") -> ArmValues:
    """One arm's metrics at ``x``: each metric from its own ``MetricCurve`` (NaN where not measured); cost and
    power from the interpolated throughput of the token type, never interpolated on their own."""
    if frontier.size == 0:
        nan = math.nan
        return ArmValues(nan, nan, nan, nan, {t: nan for t in costs.TOKEN_TYPES}, nan, nan, None, nan, nan,
                         False, False, x)
    at, in_range, clamped = reading_point(frontier, x, semantics)
    vals = {metric: read_value(mc, at, in_range or clamped, semantics) for metric, mc in curves.items()}
    usd, kw = rate.usd_per_gpu_hour, rate.kw_per_gpu
    by_type = {t: costs.cost_per_mtok(usd, vals[THROUGHPUT_COLUMNS[t]]) for t in costs.TOKEN_TYPES}
    chosen = vals[THROUGHPUT_COLUMNS[token_type]]
    conc = vals["conc"]
    latency = latency_columns(percentile)
    return ArmValues(
        throughput_per_gpu=vals["throughput_per_gpu"],
        output_throughput_per_gpu=vals["output_throughput_per_gpu"],
        input_throughput_per_gpu=vals["input_throughput_per_gpu"],
        cost_per_mtok=by_type[token_type],
        cost_per_mtok_by_type=by_type,
        tokens_per_dollar=costs.tokens_per_dollar(usd, chosen),
        tok_s_per_mw=costs.tok_s_per_mw(kw, chosen),
        concurrency=int(round(conc)) if math.isfinite(conc) else None,
        ttft_s=vals[latency["ttft_s"]],
        e2el_s=vals[latency["e2el_s"]],
        in_range=in_range, clamped=clamped, evaluated_at=at,
        joules_per_total_token=vals[ENERGY_METRIC])


def _winner(values: dict) -> str | None:
    """The arm with the highest throughput/GPU, or None when fewer than two are measured or it is tied."""
    measured = {a: v.throughput_per_gpu for a, v in values.items() if _finite(v.throughput_per_gpu)}
    if len(measured) < 2:
        return None
    ranked = sorted(measured.items(), key=lambda kv: kv[1], reverse=True)
    if ranked[0][1] <= ranked[1][1] * (1 + TIE_THRESHOLD):
        return None
    return ranked[0][0]


def find_crossovers(a: MonotoneCurve, b: MonotoneCurve, low: float, high: float, name_a: str,
                    name_b: str) -> list[Crossover]:
    """Interactivities in (low, high) where curve a − curve b changes sign.

    Both curves are cubic between the union of their knots, so the difference is a cubic Hermite
    spline on the merged knots, rebuilt exactly from its values and derivatives there; scipy finds
    the real roots of each piece.
    """
    if a.slopes is None or b.slopes is None or not low < high:
        return []
    from scipy.interpolate import CubicHermiteSpline

    knots = np.unique(np.concatenate([[low, high], a.x, b.x]))
    knots = knots[(knots >= low) & (knots <= high)]
    diff = a(knots) - b(knots)
    slope = a.derivative(knots) - b.derivative(knots)
    spline = CubicHermiteSpline(knots, diff, np.nan_to_num(slope), extrapolate=False)
    roots = [r for r in np.unique(np.round(spline.roots(extrapolate=False), 9)) if low < r < high]
    out = []
    eps = max((high - low) * 1e-6, 1e-9)
    for r in roots:
        below, above = float(spline(max(r - eps, low))), float(spline(min(r + eps, high)))
        if np.sign(below) == np.sign(above) or below == 0 or above == 0:
            continue  # touches zero without changing the winner
        leader_above = name_a if above > 0 else name_b
        out.append(Crossover(float(r), leader_above, name_b if leader_above == name_a else name_a))
    return out


def _with_support(results: list, frontiers: dict, points_by_arm: dict, arms: tuple, semantics: str) -> list:
    """The targets with each arm's ``Support`` and each ratio's leave-one-out ``RatioRange`` (``support``)."""
    if not results:
        return results
    xq = [t.interactivity for t in results]
    tput = {a: np.array([t.arms[a].throughput_per_gpu for t in results]) for a in arms}
    ranges = support.ratio_ranges(points_by_arm, arms, xq, tput, [t.ratios for t in results], semantics)
    knots = {a: support.frontier_knots(frontiers[a]) for a in arms}
    return [replace(t, support={a: support.value_support(knots[a], t.interactivity, t.arms[a].measured)
                                for a in arms}, ratio_ranges=r) for t, r in zip(results, ranges, strict=True)]


def _sample_curves(frontiers: dict, fitted: dict, arms: tuple, band: Band | None, rate: costs.Rate,
                   token_type: str, crossovers: list, targets: list) -> pd.DataFrame:
    frames = []
    for arm in arms:
        f = frontiers[arm]
        if f.size < 2:
            continue
        xs = np.unique(np.concatenate([np.linspace(f.x[0], f.x[-1], CURVE_SAMPLES), f.x]))
        tput = fitted[arm]["throughput_per_gpu"](xs)
        chosen = fitted[arm][THROUGHPUT_COLUMNS[token_type]](xs)  # NaN where that throughput is not measured
        frames.append(pd.DataFrame({
            "series": "arm", "arm": arm, "interactivity": xs, "throughput_per_gpu": tput,
            "cost_per_mtok": costs.cost_per_mtok(rate.usd_per_gpu_hour, chosen),
            "tok_s_per_mw": costs.tok_s_per_mw(rate.kw_per_gpu, chosen), "ratio": np.nan}))
    if band is not None and all(frontiers[a].size >= 2 for a in arms):
        base = fitted[arms[-1]]["throughput_per_gpu"]
        low = max(frontiers[a].x[0] for a in arms)
        high = min(frontiers[a].x[-1] for a in arms)
        knots = np.concatenate([frontiers[a].x for a in arms])
        extra = [c.interactivity for c in crossovers] + [t for t in targets if low <= t <= high] + \
            [k for k in knots if low <= k <= high]
        xs = np.unique(np.concatenate([np.linspace(low, high, CURVE_SAMPLES), extra])) if low < high else np.array([])
        for arm in arms[:-1]:
            ratio = fitted[arm]["throughput_per_gpu"](xs) / base(xs)
            frames.append(pd.DataFrame({"series": "ratio", "arm": arm, "interactivity": xs,
                                        "throughput_per_gpu": np.nan, "cost_per_mtok": np.nan,
                                        "tok_s_per_mw": np.nan, "ratio": ratio}))
    cols = ["series", "arm", "interactivity", "throughput_per_gpu", "cost_per_mtok", "tok_s_per_mw", "ratio"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _notes(arms: tuple, points_by_arm: dict, frontiers: dict, band: Band | None, rate: costs.Rate,
           scope: str = "") -> list[str]:
    notes = []
    for arm in arms:
        label, n, f = names.spec_label(arm), len(points_by_arm[arm]), frontiers[arm]
        if n == 0:
            notes.append(f"{label} has no measured points for this configuration{scope}.")
        elif f.size == 1 and n > 1:
            notes.append(f"All {n} {label} points but one are dominated: its frontier is a single point, "
                         "so no curve can be drawn.")
        elif f.size == 1:
            notes.append(f"{label} has a single measured point, so no curve can be drawn.")
        elif f.size == 2:
            notes.append(f"{label}'s frontier has only two points; between them the curve is a straight line.")
    if band is None and all(frontiers[a].size for a in arms):
        ranges = ", ".join(f"{names.spec_label(a)} {frontiers[a].x_range[0]:.1f}–{frontiers[a].x_range[1]:.1f}"
                           for a in arms)
        notes.append(f"The arms' frontiers do not overlap in interactivity ({ranges} tok/s/user), "
                     "so there is no matched comparison.")
    if rate.usd_per_gpu_hour is None or rate.kw_per_gpu is None:
        missing = " and ".join(w for w, v in (("cost", rate.usd_per_gpu_hour), ("power", rate.kw_per_gpu))
                               if v is None)
        notes.append(f"The {rate.table} table has no {missing} for {names.hardware_label(rate.gpu)} "
                     f"({rate.provider}): shown as \"no rate\".")
    return notes


def _metric_notes(arms: tuple, fitted: dict, frontiers: dict, token_type: str) -> list[str]:
    """What the data does not measure, so a reader knows why a value reads "not measured": metrics no frontier
    knot carries, and metrics carried by only some knots (interpolated between those only)."""
    shown = [a for a in arms if frontiers[a].size]
    if not shown:
        return []
    absent, partial = [], []
    for metric in [m for m in fitted[shown[0]] if m not in ("throughput_per_gpu", ENERGY_METRIC)]:
        missing = [a for a in shown if not fitted[a][metric].knots]
        if len(missing) == len(shown):
            absent.append(METRIC_LABELS[metric])
            continue
        if missing:
            absent.append(f"{METRIC_LABELS[metric]} ({' and '.join(names.spec_label(a) for a in missing)})")
        for a in shown:
            n, size = len(fitted[a][metric].knots), frontiers[a].size
            if 0 < n < size:
                partial.append(f"{METRIC_LABELS[metric]} at {n} of {names.spec_label(a)}'s {size} frontier points")
    notes = []
    if absent:
        notes.append(f"Not in the data: {_join(absent)}; shown as \"not measured\".")
    if partial:
        notes.append(f"Measured only in part: {_join(partial)}; interpolated between those points only, "
                     "\"not measured\" outside them (and with fewer than two).")
    token = THROUGHPUT_COLUMNS[token_type]
    if token_type != "total" and all(not fitted[a][token].measured for a in shown):
        notes.append(f"Cost and power per {token_type} token need the {token_type} throughput, which is not "
                     "measured: they read \"not measured\".")
    return notes


def _energy_notes(arms: tuple, fitted: dict, frontiers: dict) -> list[str]:
    """Where the measured energy per token comes from; nothing when no frontier point records power."""
    shown = [a for a in arms if frontiers[a].size]
    if not any(fitted[a][ENERGY_METRIC].knots for a in shown):
        return []
    counts = [f"{n} of {names.spec_label(a)}'s {frontiers[a].size}" for a in shown
              for n in [len(fitted[a][ENERGY_METRIC].knots)]]
    return [f"Measured energy per token (from the GPUs' average power during each run) at {_join(counts)} frontier "
            "points, interpolated between those only. tok/s per MW is provisioned power (the cost table's kW per "
            "GPU), not measured."]


def _selection(dataset: Dataset, config: Config, arms: tuple, as_of: str | None,
               percentile: str) -> tuple[pd.DataFrame, list[str], str]:
    """The configuration's points as of ``as_of`` at ``percentile`` (``data.points_as_of``, ``data.at_percentile``),
    the notes saying what that left out, and the words that scope an arm's "no points" note. A configuration with
    nothing left is a ``UsageError`` naming the date or percentile."""
    rows = dataset.select(*config.to_dict().values(), as_of=as_of)
    notes = []
    if as_of is not None:
        history = dataset.history_of(*config.to_dict().values())
        by = history["dated_by"]
        later, unknown = int(((by != "") & (by > as_of)).sum()), int((by == "").sum())
        if rows.empty:
            oldest = min((d for d in by if d), default=None)
            msg = (f"{config.slug}: no row is dated on or before --as-of {as_of}"
                   f"{f' (its oldest is dated {oldest})' if oldest else ' (none of its rows is dated)'}; "
                   "choose a later date")
            raise UsageError(msg)
        left = f"{later} later row{'s' if later != 1 else ''}" + (f" and {unknown} of unknown date" if unknown else "")
        notes.append(f"Data as of {as_of}: the newest row per line and concurrency dated on or before it; {left} "
                     "of this configuration left out.")
    scope = selection_words(as_of, percentile)
    points = at_percentile(rows, percentile)
    if percentile != "median":
        if points.empty:
            others = ", ".join(p for p in PERCENTILES if p != percentile)
            msg = (f"{config.slug}: none of its {len(rows)} points{selection_words(as_of)} records the {percentile} "
                   f"TPOT; choose --percentile {others}")
            raise UsageError(msg)
        lacking = rows.spec_method[rows[f"{percentile}_interactivity"].isna()].value_counts()
        if len(lacking):
            per_arm = ", ".join(f"{names.spec_label(a)} {int(lacking[a])}" for a in arms if a in lacking)
            notes.append(f"Read at the {percentile}: {int(lacking.sum())} of {len(rows)} points do not record the "
                         f"{percentile} TPOT and are left out ({per_arm}).")
    return points, notes, scope


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _provenance(dataset: Dataset | None, points: pd.DataFrame) -> dict:
    files = sorted({s.split("#")[0] for s in points["source"]}) if not points.empty else []
    hashes = {f.path: f.sha256 for f in dataset.files} if dataset is not None else {}
    runs = sorted(int(r) for r in points["run_id"].dropna().unique()) if not points.empty else []
    dates = sorted(d for d in points["date"].unique() if d) if not points.empty else []
    model_ids = sorted({str(m) for m in points["model_id"]}) if "model_id" in points and not points.empty else []
    return {"files": [{"path": f, "sha256": hashes.get(f, "")} for f in files], "runs": runs,
            "dates": [dates[0], dates[-1]] if dates else [], "points": len(points), "model_ids": model_ids}


def parse_targets(text) -> list[float]:
    """``"30,50"`` or an iterable of numbers → floats; anything else is a UsageError."""
    if text is None:
        return []
    items = str(text).split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        try:
            value = float(str(item).strip())
        except ValueError:
            msg = f"--targets: {str(item).strip()!r} is not a number; give interactivities like 30,50,80"
            raise UsageError(msg) from None
        if not (math.isfinite(value) and value > 0):
            msg = f"--targets: {value!r} must be a positive interactivity (tok/s/user)"
            raise UsageError(msg)
        out.append(value)
    return out


def resolve_config(dataset: Dataset, model: str, hardware: str, precision: str, sequence=None, *,
                   isl: int | None = None, osl: int | None = None) -> Config:
    if sequence is not None:
        try:
            isl, osl = names.parse_sequence(sequence)
        except ValueError:
            msg = f"--sequence {sequence!r} is not like 1k/1k, 1k/8k or 8k/1k"
            raise UsageError(msg) from None
    if isl is None or osl is None:
        raise UsageError("give the sequence lengths, e.g. sequence='1k/1k'")
    config = Config(dataset.model_key(model), names.hardware_key(hardware), names.precision_key(precision),
                    int(isl), int(osl))
    if dataset.select(*config.to_dict().values()).empty:
        known = dataset.configurations(all_configs=True)
        wanted = (config.model, config.hardware, config.precision, config.sequence)
        ranked = sorted(known.itertuples(), key=lambda r: -sum(a == b for a, b in zip(
            (r.model, r.hardware, r.precision, r.sequence), wanted, strict=True)))  # closest first, stable otherwise
        choices = [f"{r.model}/{r.hardware}/{r.precision}/{r.sequence}" for r in ranked]
        shown = ", ".join(choices[:8]) + (f", ... ({len(choices)} in all: see `specnb list --all`)"
                                          if len(choices) > 8 else "")
        msg = f"unknown configuration {'/'.join(wanted)!r}; choose one of: {shown or '(none)'}"
        raise UsageError(msg)
    return config


def compare(dataset: Dataset, model: str, hardware: str, precision: str, sequence=None, *,
            isl: int | None = None, osl: int | None = None, arms=("mtp", "none"), targets=None,
            strict_targets: bool = False, semantics: str = "specnb", cost_table=None,
            provider: str = costs.DEFAULT_PROVIDER, token_type: str = "total", percentile: str = "median",
            as_of=None) -> Comparison:
    """Compare ``arms`` (treatment first, baseline last) of one configuration at matched interactivity.

    ``targets`` defaults to 25/50/75 % of the band. With ``strict_targets`` a target outside the band
    is a ``UsageError`` (the CLI's behaviour); otherwise it is reported as "not measured".
    ``cost_table`` is a bundled table name, a file path or a ``CostTable``. ``percentile`` (median, p90, p99)
    reads interactivity as 1 / that percentile's TPOT, and TTFT and E2E latency at it; points without it are left
    out. ``as_of`` (YYYY-MM-DD) compares the data as it stood that day: rows dated after it are left out.
    """
    if semantics not in SEMANTICS:
        raise UsageError.unknown_choice("semantics", semantics, SEMANTICS)
    if token_type not in costs.TOKEN_TYPES:
        raise UsageError.unknown_choice("token type", token_type, costs.TOKEN_TYPES)
    check_percentile(percentile)
    as_of = parse_as_of(as_of)
    arms = tuple(names.spec_key(a) for a in arms)
    if len(arms) < 2 or len(set(arms)) != len(arms):
        msg = f"arms {list(arms)}: need two or more different spec methods (treatment first, baseline last)"
        raise UsageError(msg)
    config = resolve_config(dataset, model, hardware, precision, sequence, isl=isl, osl=osl)
    table = costs.load_cost_table(cost_table)
    rate = table.rate(config.hardware, provider)
    points, selection_notes, scope = _selection(dataset, config, arms, as_of, percentile)
    check_plausible(points)  # loading checked every row; this guards a Dataset made or edited by hand
    points_by_arm = {arm: points[points.spec_method == arm] for arm in arms}
    frontiers = {arm: pareto_frontier(points_by_arm[arm], arm) for arm in arms}
    fitted = {arm: metric_curves(frontiers[arm], semantics, percentile) for arm in arms}
    band = matched_band(frontiers, points_by_arm, semantics)

    wanted = parse_targets(targets)
    if band is None:
        chosen: list[float] = []
    elif wanted:
        outside = [t for t in wanted if not band.low <= t <= band.high]
        if strict_targets and outside:
            msg = (f"--targets {outside[0]:g} is outside the matched band {band.low:.1f}–{band.high:.1f} tok/s/user "
                   f"of {config.slug}; choose targets inside it")
            raise UsageError(msg)
        chosen = wanted
    else:
        chosen = default_targets(band, semantics)

    results = []
    for t in chosen:
        values = {arm: _arm_values(fitted[arm], frontiers[arm], t, semantics, rate, token_type, percentile)
                  for arm in arms}
        ratios = ratios_to_baseline({a: v.throughput_per_gpu for a, v in values.items()}, arms)
        results.append(Target(t, band.position(t), values, _winner(values), ratios))
    results = _with_support(results, frontiers, points_by_arm, arms, semantics)

    crossings: list[Crossover] = []
    if band is not None:
        lo = max(f.x_range[0] for f in frontiers.values())
        hi = min(f.x_range[1] for f in frontiers.values())
        for arm in arms[:-1]:
            crossings += find_crossovers(fitted[arm]["throughput_per_gpu"].curve,
                                         fitted[arms[-1]]["throughput_per_gpu"].curve,
                                         lo, hi, arm, arms[-1])
    crossings.sort(key=lambda c: c.interactivity)
    curves = _sample_curves(frontiers, fitted, arms, band, rate, token_type, crossings, chosen)
    notes = selection_notes + _notes(arms, points_by_arm, frontiers, band, rate, scope) + \
        _metric_notes(arms, fitted, frontiers, token_type) + _energy_notes(arms, fitted, frontiers)
    outside = [t.interactivity for t in results if not all(v.in_range for v in t.arms.values())]
    if outside and semantics == "specnb":
        notes.append("Targets outside an arm's measured range are shown as \"not measured\" "
                     f"({', '.join(f'{x:g}' for x in outside)} tok/s/user); specnb never extrapolates.")
    return Comparison(config=config, arms=arms, semantics=semantics, rate=rate, token_type=token_type,
                      band=band, targets=tuple(results), crossovers=tuple(crossings), frontiers=frontiers,
                      metric_curves=fitted,
                      points=points, curves=curves, notes=tuple(notes), provenance=_provenance(dataset, points),
                      percentile=percentile, as_of=as_of)


# ---------------------------------------------------------------------------------------------- export


def _num(v):
    """JSON-safe number: NaN/None → null; floats kept at full precision (what the report formats)."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None


def _arm_dict(v: ArmValues, percentile: str) -> dict:
    latency = latency_columns(percentile)  # keys name their percentile: median_ttft_s, p99_ttft_s, ...
    return {
        "throughput_per_gpu": _num(v.throughput_per_gpu),
        "cost_per_mtok": _num(v.cost_per_mtok),
        "tok_s_per_mw": _num(v.tok_s_per_mw),
        "concurrency": v.concurrency,
        "clamped": bool(v.clamped),
        "in_range": bool(v.in_range),
        "output_throughput_per_gpu": _num(v.output_throughput_per_gpu),
        "input_throughput_per_gpu": _num(v.input_throughput_per_gpu),
        "cost_per_mtok_by_token_type": {k: _num(x) for k, x in v.cost_per_mtok_by_type.items()},
        "tokens_per_dollar": _num(v.tokens_per_dollar),
        latency["ttft_s"]: _num(v.ttft_s),
        latency["e2el_s"]: _num(v.e2el_s),
        "evaluated_at": _num(v.evaluated_at),
        "joules_per_total_token": _num(v.joules_per_total_token),
    }


def _selection_dict(c: Comparison) -> dict:
    """Which rows the comparison read: the latency percentile and the as-of day (None: every row)."""
    return {"percentile": c.percentile, "as_of": c.as_of}


def _to_dict(c: Comparison) -> dict:
    band = None if c.band is None else {"low": _num(c.band.low), "high": _num(c.band.high),
                                        "shown_low": _num(c.band.shown_low), "shown_high": _num(c.band.shown_high),
                                        "kind": c.band.kind}
    return {
        "schema": SCHEMA,
        "config": c.config.to_dict(),
        "arms": list(c.arms),
        "semantics": c.semantics,
        "cost": {"table": c.rate.table, "provider": c.rate.provider, "token_type": c.token_type,
                 "usd_per_gpu_hour": c.rate.usd_per_gpu_hour, "kw_per_gpu": c.rate.kw_per_gpu},
        "band": band,
        "crossovers": [_num(x.interactivity) for x in c.crossovers],
        "targets": [{"interactivity": _num(t.interactivity), "position": t.position, "winner": t.winner,
                     "ratio": _num(t.ratio), "ratios": {a: _num(r) for a, r in t.ratios.items()},
                     "ratio_range": _range_dict(t.ratio_range),
                     "ratio_ranges": {a: _range_dict(r) for a, r in t.ratio_ranges.items()},
                     "arms": {a: {**_arm_dict(v, c.percentile), "support": t.support[a].to_dict()}
                              for a, v in t.arms.items()}}
                    for t in c.targets],
        **_selection_dict(c),  # after SPEC §4's fixed keys, which keep their order
        "crossover_details": [{"interactivity": _num(x.interactivity), "leader_above": x.leader_above,
                               "leader_below": x.leader_below} for x in c.crossovers],
        "labels": {"title": c.title, "model": names.model_label(c.config.model),
                   "hardware": names.hardware_label(c.config.hardware), "sequence": c.config.sequence,
                   "arms": {a: names.spec_label(a) for a in c.arms}},
        "engines": {a: list(e) for a, e in c.engines.items()},
        "engines_differ": c.engines_differ,
        "frontier_points": {a: int(c.frontiers[a].size) for a in c.arms},
        "metric_knots": {a: {m: len(mc.knots) for m, mc in c.metric_curves[a].items()} for a in c.arms},
        "support_rule": {"sparse_factor": support.SPARSE_FACTOR, "measured_tolerance": support.MEASURED_TOLERANCE,
                         "wide_range_factor": support.WIDE_RANGE_FACTOR},
        "sparse_segments": {a: [list(s) for s in segs] for a, segs in c.sparse_segments.items()},
        "notes": list(c.notes),
        "provenance": thaw(c.provenance),
    }


def _range_dict(r: support.RatioRange | None) -> dict | None:
    return None if r is None else {k: _num(v) for k, v in r.to_dict().items()}


SUPPORT_COLUMNS = ("ratio", "ratio_low", "ratio_high", "support_grade",
                   *(f"support_{side}_{k}" for side in ("left", "right")
                     for k in ("interactivity", "throughput_per_gpu", "conc", "engine", "date")))


def frame_columns(percentile: str = "median") -> tuple:
    """The CSV download's columns; latency columns name their percentile, as in ``comparison.json``."""
    latency = latency_columns(percentile)
    return ("model", "hardware", "precision", "isl", "osl", "semantics", "interactivity", "arm", "winner",
            "throughput_per_gpu", "output_throughput_per_gpu", "input_throughput_per_gpu", "cost_per_mtok",
            "token_type", "tokens_per_dollar", "tok_s_per_mw", "concurrency", latency["ttft_s"], latency["e2el_s"],
            "in_range", "clamped", "cost_table", "provider", "usd_per_gpu_hour", "kw_per_gpu",
            "joules_per_total_token", "percentile", "as_of", *SUPPORT_COLUMNS)


def _to_frame(c: Comparison) -> pd.DataFrame:
    latency = latency_columns(c.percentile)
    rows = []
    for t in c.targets:
        for arm, v in t.arms.items():
            rows.append({
                "model": c.config.model, "hardware": c.config.hardware, "precision": c.config.precision,
                "isl": c.config.isl, "osl": c.config.osl, "semantics": c.semantics,
                "interactivity": t.interactivity, "arm": arm, "winner": t.winner or "",
                "throughput_per_gpu": v.throughput_per_gpu,
                "output_throughput_per_gpu": v.output_throughput_per_gpu,
                "input_throughput_per_gpu": v.input_throughput_per_gpu,
                "cost_per_mtok": v.cost_per_mtok, "token_type": c.token_type,
                "tokens_per_dollar": v.tokens_per_dollar, "tok_s_per_mw": v.tok_s_per_mw,
                "concurrency": v.concurrency, latency["ttft_s"]: v.ttft_s, latency["e2el_s"]: v.e2el_s,
                "in_range": v.in_range, "clamped": v.clamped,
                "cost_table": c.rate.table, "provider": c.rate.provider,
                "usd_per_gpu_hour": c.rate.usd_per_gpu_hour, "kw_per_gpu": c.rate.kw_per_gpu,
                "joules_per_total_token": v.joules_per_total_token, **_selection_dict(c),
            } | _support_columns(t, arm))
    return pd.DataFrame(rows, columns=list(frame_columns(c.percentile)))  # a header even with no matched target


def _support_columns(t: Target, arm: str) -> dict:
    """The CSV's ratio (on treatment rows), its leave-one-out range and the arm's support, flattened."""
    r = t.ratio_ranges.get(arm)
    s = t.support[arm]
    out = {"ratio": t.ratios.get(arm), "ratio_low": r.low if r else None, "ratio_high": r.high if r else None,
           "support_grade": s.grade or ""}
    for side, knot in (("left", s.left), ("right", s.right)):
        out |= {f"support_{side}_{k}": v for k, v in (knot.to_dict() if knot else dict.fromkeys(
            ("interactivity", "throughput_per_gpu", "conc", "engine", "date"))).items()}
    return out
