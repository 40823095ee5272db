"""Change over time: the treatment/baseline throughput ratio at fixed interactivities, date by date.

For one configuration, every day on which its rows changed (a new run landed) gets the comparison *as of* that
day — ``compare(..., as_of=day)``, the one data-selection rule (``data.points_as_of``: rows dated on or before
the day, then the newest row per line and concurrency) — read at the same target interactivities every day, so
the dates compare like for like. The targets default to those of the comparison on the newest data, and the
newest point *is* that comparison: ``specnb trend`` and ``specnb compare`` cannot disagree.

Of an earlier day's comparison only what a point reads is computed, by the functions ``compare`` computes it with
(frontier, throughput curve, support, leave-one-out range, band, ratio), from that day's points: the "latest" rule
runs once for all the days, and an arm's reading is kept for the days its points did not change (often only one
arm's rows change on a day). The result is the full comparison's to the last bit (``tests/test_trends.py``).

Days before every arm has a row are left out (no ratio exists then). A row nothing dates (``dated_by`` empty)
counts only in the newest point, as it does in ``compare`` without ``as_of``; a note says so. Each point keeps
its arms' support grades, so a jump caused by one new measurement on thin data shows as such.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import costs, support
from .comparison import (
    Comparison,
    Config,
    MetricCurve,
    compare,
    matched_band,
    parse_targets,
    ratios_to_baseline,
    read_value,
    reading_point,
    resolve_config,
)
from .data import (
    LINE_KEY,
    PERCENTILES,
    Dataset,
    at_percentile,
    check_plausible,
    dated_by,
    implausible,
    latest,
    measuring,
    parse_as_of,
    rows_as_of,
)
from .errors import UsageError
from .frontier import Frontier, pareto_frontier

SCHEMA = "specnb.trend/1"
WINDOW_DAYS = 90
"""The suite index's trend column: the change of the mid-band ratio over this many days."""


def weakest_grade(grades) -> str | None:
    """The weakest of the arms' support grades (``support.GRADES``: weakest last); None if an arm has none."""
    grades = list(grades)
    if not grades or any(g is None for g in grades):
        return None
    return max(grades, key=support.GRADES.index)


@dataclass(frozen=True)
class TrendPoint:
    """The ratio at one target interactivity as the data stood on one day."""

    date: str | None  # YYYY-MM-DD; None only when no row of the configuration is dated
    interactivity: float
    ratio: float | None  # None where an arm was not measured at this interactivity that day
    grades: dict  # arm -> support grade (None: not measured)
    ratio_range: tuple | None  # (low, high) if any one measurement is dropped
    band: tuple | None  # the matched band (low, high) that day; None when the arms did not overlap

    @property
    def grade(self) -> str | None:
        """The weakest of the arms' grades; None without a ratio."""
        return None if self.ratio is None else weakest_grade(self.grades.values())

    def to_dict(self) -> dict:
        return {"date": self.date, "interactivity": _num(self.interactivity), "ratio": _num(self.ratio),
                "grade": self.grade, "grades": dict(self.grades),
                "ratio_range": None if self.ratio_range is None else
                {"low": _num(self.ratio_range[0]), "high": _num(self.ratio_range[1])},
                "band": None if self.band is None else {"low": _num(self.band[0]), "high": _num(self.band[1])}}


@dataclass(frozen=True)
class Trend:
    """A configuration's ratio at fixed interactivities on every day its data changed (dates ascending)."""

    config: Config
    arms: tuple
    targets: tuple  # the fixed interactivities, tok/s/user
    points: tuple  # TrendPoint, by date then target order
    semantics: str = "specnb"
    percentile: str = "median"
    as_of: str | None = None
    notes: tuple = field(default=())

    @property
    def dates(self) -> tuple:
        return tuple(dict.fromkeys(p.date for p in self.points))

    @property
    def treatment(self) -> str:
        return self.arms[0]

    @property
    def baseline(self) -> str:
        return self.arms[-1]

    @property
    def mid_target(self) -> float | None:
        """The middle target (the report's mid-band one), as the index and the narrative use it."""
        return self.targets[len(self.targets) // 2] if self.targets else None

    def series(self, interactivity: float) -> list[TrendPoint]:
        """The points at one target, oldest first."""
        return [p for p in self.points if p.interactivity == interactivity]

    def index_entry(self) -> dict | None:
        """What the suite index keeps of a report's history: the mid-band target's ratio and grade per date."""
        x = self.mid_target
        if x is None:
            return None
        return {"interactivity": _num(x), "points": [{"date": p.date, "ratio": _num(p.ratio), "grade": p.grade}
                                                     for p in self.series(x)]}

    def to_dict(self) -> dict:
        """The ``specnb trend --format json`` shape: schema, config, then the points (dates ascending)."""
        return {"schema": SCHEMA, "config": self.config.to_dict(), "arms": list(self.arms),
                "semantics": self.semantics, "percentile": self.percentile, "as_of": self.as_of,
                "targets": [_num(t) for t in self.targets], "dates": list(self.dates),
                "points": [p.to_dict() for p in self.points], "notes": list(self.notes)}

    def to_frame(self) -> pd.DataFrame:
        """One row per date and target: the ratio, its grade (and each arm's), range and the day's band."""
        cfg = self.config.to_dict()
        rows = [{**cfg, "arm": self.treatment, "baseline": self.baseline, "date": p.date,
                 "interactivity": p.interactivity, "ratio": p.ratio, "grade": p.grade,
                 **{f"grade_{a}": p.grades.get(a) for a in self.arms},
                 "ratio_low": p.ratio_range[0] if p.ratio_range else None,
                 "ratio_high": p.ratio_range[1] if p.ratio_range else None,
                 "band_low": p.band[0] if p.band else None, "band_high": p.band[1] if p.band else None,
                 "semantics": self.semantics, "percentile": self.percentile, "as_of": self.as_of}
                for p in self.points]
        columns = [*cfg, "arm", "baseline", "date", "interactivity", "ratio", "grade",
                   *(f"grade_{a}" for a in self.arms), "ratio_low", "ratio_high", "band_low", "band_high",
                   "semantics", "percentile", "as_of"]
        frame = pd.DataFrame(rows, columns=columns)
        frame["ratio"] = frame["ratio"].astype(float)
        return frame


def _num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------------------------- compute


def config_dataset(dataset: Dataset, config: Config) -> Dataset:
    """``dataset`` cut to one configuration's points and history (with ``dated_by``): the same comparisons, each
    selection a few rows instead of the whole table's."""
    key = config.to_dict().values()
    return replace(dataset, points=dataset.select(*key), history=dataset.history_of(*key))


def config_slices(dataset: Dataset):
    """A function giving ``config_dataset(dataset, config)`` for any configuration, the table grouped once (for
    many configurations: one pass instead of a scan of the whole table per configuration)."""
    history = dataset.history
    if "dated_by" not in history:
        history = history.assign(dated_by=dated_by(history))
    frames = {"points": dataset.points, "history": history}
    key = ["model", "hardware", "precision", "isl", "osl"]
    groups = {name: frame.groupby(key, sort=False).indices for name, frame in frames.items()}

    def cut(config: Config) -> Dataset:
        at = tuple(config.to_dict().values())
        return replace(dataset, **{name: frame.take(groups[name].get(at, [])).reset_index(drop=True)
                                   for name, frame in frames.items()})

    return cut


def change_dates(history: pd.DataFrame, arms, as_of=None, percentile: str = "median") -> list[str]:
    """The days on which one configuration's rows of ``arms`` changed, up to ``as_of``, from the first day on
    which every arm has a row measuring ``percentile`` (before it there is no ratio). Undated rows have no day."""
    as_of = parse_as_of(as_of)
    rows = history[history["spec_method"].isin(arms)]
    days = rows["dated_by"].astype(str)
    keep = (days != "") & ((days <= as_of) if as_of else True)
    rows, days = rows[keep.to_numpy()], days[keep.to_numpy()]
    usable = measuring(rows.assign(_day=days), percentile)
    firsts = [usable["_day"][usable["spec_method"] == arm].min() for arm in arms]
    if any(not isinstance(d, str) for d in firsts):
        return []
    start = max(firsts)
    return sorted(d for d in set(days) if d >= start)


def _points_of(c: Comparison, day: str | None, targets: tuple) -> list[TrendPoint]:
    """``c`` read at ``targets`` (compare was given them, in this order; none when the arms did not overlap)."""
    band = None if c.band is None else (c.band.low, c.band.high)
    out = []
    for i, x in enumerate(targets):
        t = c.targets[i] if c.comparable and i < len(c.targets) else None
        if t is None:
            out.append(TrendPoint(day, x, None, dict.fromkeys(c.arms), None, band))
            continue
        r = t.ratio_range
        out.append(TrendPoint(day, x, t.ratio, {a: s.grade for a, s in t.support.items()},
                              None if r is None else (r.low, r.high), band))
    return out


def compute(dataset: Dataset, model: str, hardware: str, precision: str, sequence=None, *,
            isl: int | None = None, osl: int | None = None, arms=("mtp", "none"), targets=None,
            semantics: str = "specnb", cost_table=None, provider: str = costs.DEFAULT_PROVIDER,
            token_type: str = "total", percentile: str = "median", as_of=None,
            comparison: Comparison | None = None) -> Trend:
    """The ratio of ``arms`` (treatment first, baseline last) at fixed ``targets`` on every day the
    configuration's data changed, up to ``as_of`` (default: all of it).

    ``targets`` default to the newest comparison's (25/50/75 % of its band). ``comparison``: that newest
    comparison when the caller has it already (a report), so it is not computed twice; it must be the one
    ``compare`` gives for the same options. The ratio depends on neither costs nor token type; they are passed
    on so that every comparison here is the one ``compare`` would make.

    Each earlier day's points are, by definition, ``compare(..., targets=<the fixed targets>, as_of=day)`` read at
    those targets (``tests/test_trends.py`` checks it on every bundled configuration and on made-up histories).
    They are computed from the parts of that comparison a point reads (``_day_points``), not all of it.
    """
    as_of = parse_as_of(as_of)
    config = resolve_config(dataset, model, hardware, precision, sequence, isl=isl, osl=osl)
    sub = config_dataset(dataset, config)
    options = {"arms": arms, "semantics": semantics, "cost_table": cost_table, "provider": provider,
               "token_type": token_type, "percentile": percentile}
    key = config.to_dict()
    wanted = parse_targets(targets)
    newest = comparison if comparison is not None else compare(sub, targets=wanted, as_of=as_of, **key, **options)
    fixed = tuple(wanted) or tuple(t.interactivity for t in newest.targets)
    arms = newest.arms
    days = change_dates(sub.history, arms, as_of, percentile)
    notes = []
    undated = int(((sub.history["dated_by"] == "") & sub.history["spec_method"].isin(arms)).sum())
    if undated and as_of is None and days:  # with no dated row at all, the sentence says so
        notes.append(f"{undated} row{'s' if undated != 1 else ''} of unknown date count only in the newest point, "
                     "as in the comparison on all the data.")
    if not fixed:
        notes.append("No matched band in the newest data, so no interactivity to follow; give targets.")
        return Trend(config, arms, fixed, (), semantics, percentile, as_of, tuple(notes))

    def compared(day: str) -> list[TrendPoint]:  # the definition itself: for a day whose data compare refuses
        try:
            return _points_of(compare(sub, targets=list(fixed), as_of=day, **key, **options), day, fixed)
        except UsageError as exc:  # e.g. no point of that day measures the percentile
            notes.append(f"{day}: {exc}")
            return [TrendPoint(day, x, None, dict.fromkeys(arms), None, None) for x in fixed]

    points = _day_points(sub.history, days[:-1], arms, fixed, semantics, percentile, compared)
    points += _points_of(newest, days[-1] if days else None, fixed)
    return Trend(config, arms, fixed, tuple(points), semantics, percentile, as_of, tuple(notes))


STACK_ROWS = 200_000
"""At most this many rows go into one run of the "latest" rule for many days at once (``_kept_by_day``)."""


def _kept_by_day(history: pd.DataFrame, days) -> dict[str, np.ndarray]:
    """Per day, the positions in ``history`` of ``points_as_of(history, day)``'s rows, in its order: the "latest"
    rule run once over all the days' rows (``rows_as_of``) instead of once per day, each day's rows standing as a
    model of their own (the configuration has one), so no row of one day can replace one of another day."""
    if history["model"].nunique() > 1:
        raise ValueError("the history of one configuration (one model) is needed")
    columns = list(dict.fromkeys([*LINE_KEY, "conc", "date", "run_id", "source", "interactivity"]))
    dated = history[["dated_by"]].assign(_pos=np.arange(len(history)))
    cuts = [(day, rows_as_of(dated, day)["_pos"].to_numpy()) for day in days]
    out = {}
    while cuts:
        group, size = [], 0
        while cuts and (not group or size + len(cuts[0][1]) <= STACK_ROWS):
            size += len(cuts[0][1])
            group.append(cuts.pop(0))
        rows = np.concatenate([pos for _, pos in group])
        stacked = history[columns].take(rows).assign(
            model=np.repeat([day for day, _ in group], [len(pos) for _, pos in group]), _pos=rows)
        kept = latest(stacked.reset_index(drop=True))
        at = kept.groupby("model", sort=False).indices
        pos = kept["_pos"].to_numpy(dtype="int64")
        out |= {day: pos[at[day]] if day in at else pos[:0] for day, _ in group}
    return out


READ_COLUMNS = ("interactivity", "throughput_per_gpu", *(f"{p}_interactivity" for p in PERCENTILES if p != "median"),
                "conc", "framework", "date")
"""All an ``_ArmReading`` reads of a point: its frontier, throughputs, grades and ranges are computed from the first
columns; the last three name a frontier's knots (``support.frontier_knots``)."""


@dataclass(frozen=True)
class _ArmReading:
    """One arm's points of a day read at the fixed targets: all a trend point needs of the arm (its frontier,
    throughput and support grade at each target, its leave-one-out throughputs), kept while its points stay."""

    points: pd.DataFrame
    frontier: Frontier
    throughput: np.ndarray
    grades: tuple
    variants: np.ndarray

    @classmethod
    def of(cls, points: pd.DataFrame, arm: str, targets: tuple, semantics: str) -> _ArmReading:
        """What ``compare`` computes for this arm at ``targets``, through the functions it uses."""
        frontier = pareto_frontier(points, arm)
        curve = MetricCurve.fit(frontier, "throughput_per_gpu", semantics)
        where = [reading_point(frontier, x, semantics) for x in targets]
        throughput = np.array([read_value(curve, at, inside or clamped, semantics) for at, inside, clamped in where])
        knots = support.frontier_knots(frontier)
        grades = tuple(support.value_support(knots, x, inside or clamped).grade
                       for x, (_, inside, clamped) in zip(targets, where, strict=True))
        variants = support.leave_one_out(points, targets, semantics, throughput)
        return cls(points, frontier, throughput, grades, variants)


def _day_points(history: pd.DataFrame, days, arms: tuple, targets: tuple, semantics: str, percentile: str,
                compared) -> list[TrendPoint]:
    """The points of ``compare(..., as_of=day)`` read at ``targets`` for each of ``days``, computed from what they
    read: each day's points (``_kept_by_day``, then ``at_percentile``, checked as compare checks them), each arm's
    frontier, throughputs, grades and leave-one-out throughputs (``_ArmReading``, kept for the days the arm's
    points do not change), the band and the ratios (``comparison.matched_band``, ``ratios_to_baseline``,
    ``support.ranges_of``). A day whose data compare refuses (no point measures the percentile) is ``compared``."""
    kept = _kept_by_day(history, days)
    spec = history["spec_method"].to_numpy(dtype=object)
    measured = np.zeros(len(history), dtype=bool)
    measured[measuring(history.assign(_pos=np.arange(len(history))), percentile)["_pos"].to_numpy()] = True
    _check_plausible(history, [kept[d] for d in days], percentile)
    read = history[[c for c in READ_COLUMNS if c in history]]
    readings: dict = {}
    out = []
    for day in days:
        pos = kept[day]
        if not measured[pos].any():  # no point as of the day (at the percentile): compare says why
            out += compared(day)
            continue
        arm_of = {}
        for arm in arms:
            rows = pos[spec[pos] == arm]
            own = rows[measured[rows]].tobytes()
            if (arm, own) not in readings:  # the arm's points: points_as_of(history, day) of the arm, at_percentile
                points = at_percentile(read.take(rows).reset_index(drop=True), percentile)
                readings[arm, own] = _ArmReading.of(points, arm, targets, semantics)
            arm_of[arm] = readings[arm, own]
        out += _pair(arm_of, arms, day, targets, semantics)
    return out


def _check_plausible(history: pd.DataFrame, kept: list, percentile: str) -> None:
    """``check_plausible`` of every day's points, as compare checks them; each row once (a row's problems are its
    own), and day by day only when there is one, for the error compare would give: the first failing day's."""
    seen = np.zeros(len(history), dtype=bool)
    first = []
    for pos in kept:
        first.append(pos[~seen[pos]])
        seen[pos] = True
    if first and not implausible(at_percentile(history.take(np.concatenate(first)), percentile)):
        return
    for pos in kept:
        check_plausible(at_percentile(history.take(pos).reset_index(drop=True), percentile))


def _pair(arm_of: dict, arms: tuple, day: str, targets: tuple, semantics: str) -> list[TrendPoint]:
    """A day's points from its arms' readings: no ratio without a matched band (compare then has no targets);
    else per target the treatment's ratio, every arm's grade and the ratio's leave-one-out range."""
    band = matched_band({a: arm_of[a].frontier for a in arms}, {a: arm_of[a].points for a in arms}, semantics)
    if band is None:
        return [TrendPoint(day, x, None, dict.fromkeys(arms), None, None) for x in targets]
    throughputs = {a: arm_of[a].throughput for a in arms}
    ratios = [ratios_to_baseline({a: float(throughputs[a][j]) for a in arms}, arms) for j in range(len(targets))]
    ranges = support.ranges_of({a: arm_of[a].variants for a in arms}, arms, throughputs, ratios)
    out = []
    for j, x in enumerate(targets):
        r = next(iter(ranges[j].values()))
        out.append(TrendPoint(day, x, next(iter(ratios[j].values())), {a: arm_of[a].grades[j] for a in arms},
                              None if r is None else (r.low, r.high), (band.low, band.high)))
    return out


def of_comparison(c: Comparison, dataset: Dataset) -> Trend:
    """The history of a comparison: its ratio at its own targets on every day its data changed, ``c`` itself
    as the newest point. ``dataset`` is the data ``c`` was computed from (or that configuration's rows of it)."""
    cfg = c.config
    return compute(dataset, cfg.model, cfg.hardware, cfg.precision, isl=cfg.isl, osl=cfg.osl, arms=c.arms,
                   targets=[t.interactivity for t in c.targets], semantics=c.semantics, percentile=c.percentile,
                   as_of=c.as_of, comparison=c)


# ---------------------------------------------------------------------------------------------- change


def window_change(points: list[dict], end: str | None, days: int = WINDOW_DAYS) -> dict | None:
    """How a ratio series (``[{"date", "ratio", "grade"}]``, oldest first) moved over the ``days`` up to ``end``:
    from the value as the data stood ``days`` before ``end`` (the last point dated on or before then; the first
    point when the series starts later: ``since_start``) to the value as of ``end``. None without two dated
    values to compare."""
    known = [p for p in points if p.get("ratio") is not None and p.get("date")]
    if end:
        known = [p for p in known if p["date"] <= end]
    if not known:
        return None
    end = end or known[-1]["date"]
    start = (dt.date.fromisoformat(end) - dt.timedelta(days=days)).isoformat()
    before = [p for p in known if p["date"] <= start]
    first = before[-1] if before else known[0]
    last = known[-1]
    return {"from": first, "to": last, "change": last["ratio"] / first["ratio"] - 1, "since_start": not before,
            "window_start": start, "end": end, "days": days, "same_point": first is last}
