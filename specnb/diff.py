"""What changed between two data sets, configuration by configuration: the "since the last drop" view.

Each configuration comparable in either data set (every arm has points) is

* ``added``     — comparable in the new data only;
* ``removed``   — comparable in the old data only;
* ``unchanged`` — the same points in both (every point's line, concurrency, date, run and values);
* ``changed``   — otherwise: points were added, dropped or re-measured.

Both sides are read at the same interactivities (the new comparison's targets, or the old one's for a removed
configuration, or the caller's), so the old and new ratios compare like for like. For a changed configuration
the frontier points that are new or gone are listed per arm, with the band on each side. Every number comes from
``compare`` on each data set; an unchanged configuration is compared once (both sides are the same numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import costs, names
from .comparison import Comparison, Config, compare, parse_targets
from .data import Dataset, at_percentile, check_percentile
from .trends import config_slices, weakest_grade

SCHEMA = "specnb.diff/1"
CHANGES = ("changed", "added", "removed", "unchanged")
"""In the order a reader wants them: what moved first."""
POINT_KEY = ("spec_method", "framework", "topology", "conc", "interactivity", "throughput_per_gpu", "date", "run_id")
"""What makes two points the same measurement in two data sets (files and row numbers differ between snapshots)."""


def point_keys(points: pd.DataFrame) -> list[tuple]:
    """Each point's identity (``POINT_KEY``), floats rounded to 9 significant digits, NA as None."""
    def clean(v):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return None
        return float(f"{v:.9g}") if isinstance(v, float) else (int(v) if hasattr(v, "__index__") else str(v))
    cols = [c for c in POINT_KEY if c in points]
    return [tuple(clean(v) for v in row) for row in points[cols].itertuples(index=False, name=None)]


@dataclass(frozen=True)
class ConfigDiff:
    """One configuration in both data sets: how it changed and its comparison on each side (None where absent)."""

    config: Config
    change: str  # one of CHANGES
    targets: tuple  # interactivities both sides are read at
    old: Comparison | None
    new: Comparison | None
    frontier_added: tuple = ()  # frontier points (dicts) in the new data's frontier, not in the old one's
    frontier_dropped: tuple = ()  # ... in the old frontier, not in the new one
    points_added: int = 0
    points_dropped: int = 0

    @property
    def mid(self) -> float | None:
        return self.targets[len(self.targets) // 2] if self.targets else None

    def ratios(self, side: str) -> list:
        c = self.old if side == "old" else self.new
        if c is None:
            return [None] * len(self.targets)
        return [t.ratio for t in c.targets] if c.comparable else [None] * len(self.targets)

    def to_dict(self) -> dict:
        old, new = self.ratios("old"), self.ratios("new")
        mid = len(self.targets) // 2
        sides = {"old": self.old, "new": self.new}
        return {"config": self.config.to_dict(), "slug": self.config.slug, "title": _title(self.config),
                "change": self.change, "interactivity": _num(self.mid),
                **{name: _side(c, mid) for name, c in sides.items()},
                "ratio_change": _change(old[mid], new[mid]) if self.targets else None,
                "targets": [{"interactivity": _num(x), **{name: _side(c, i, brief=True) for name, c in sides.items()},
                             "ratio_change": _change(old[i], new[i])} for i, x in enumerate(self.targets)],
                "frontier": {"added": list(self.frontier_added), "dropped": list(self.frontier_dropped)},
                "points": {"added": self.points_added, "dropped": self.points_dropped}}


@dataclass(frozen=True)
class Diff:
    """Every configuration of two data sets, changed ones first (``CHANGES`` order), then by name."""

    old: Dataset
    new: Dataset
    entries: tuple
    arms: tuple
    semantics: str = "specnb"
    percentile: str = "median"
    paths: dict = field(default_factory=dict)  # "old"/"new" -> the paths as given
    left_out: tuple = ()  # slugs comparable in either data set, but not at ``percentile`` in either

    @property
    def counts(self) -> dict:
        return {kind: sum(e.change == kind for e in self.entries) for kind in CHANGES}

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "old": _data_dict(self.old, self.paths.get("old")),
                "new": _data_dict(self.new, self.paths.get("new")), "arms": list(self.arms),
                "semantics": self.semantics, "percentile": self.percentile, "counts": self.counts,
                "configurations": [e.to_dict() for e in self.entries], "left_out": list(self.left_out)}


def left_out_note(doc: dict) -> str | None:
    """The sentence the text and the page share on configurations a tail percentile leaves out of a diff."""
    slugs = doc.get("left_out") or []
    if not slugs:
        return None
    arms = " and ".join(names.spec_label(a) for a in doc.get("arms", ()))
    return (f"Left out: {len(slugs)} configuration{'s' if len(slugs) != 1 else ''} where, in neither data set, "
            f"{arms} both have points measuring the {doc.get('percentile')} latency ({', '.join(slugs)}).")


def _num(v):
    return None if v is None else float(v)


def _change(old, new):
    return None if old is None or new is None else new / old - 1


def _title(cfg: Config) -> str:
    return (f"{names.hardware_label(cfg.hardware)} {cfg.precision.upper()} · {names.model_label(cfg.model)} · "
            f"{cfg.sequence}")


def _side(c: Comparison | None, i: int, *, brief: bool = False) -> dict | None:
    """One side of a configuration at its ``i``-th target: ratio and its grade, then (unless ``brief``) the band
    and the point counts per arm."""
    if c is None:
        return None
    t = c.targets[i] if c.comparable and i < len(c.targets) else None
    grades = [s.grade for s in t.support.values()] if t is not None else []
    grade = None if t is None or t.ratio is None else weakest_grade(grades)
    out = {"ratio": _num(t.ratio) if t is not None else None, "grade": grade}
    if brief:
        return out
    return {**out, "band": None if c.band is None else {"low": c.band.low, "high": c.band.high},
            "points": {a: int((c.points.spec_method == a).sum()) for a in c.arms}}


def _data_dict(ds: Dataset, paths) -> dict:
    dates = sorted(d for d in ds.history["date"].unique() if d)
    return {"paths": [str(p) for p in paths or []], "files": [{"path": f.path, "sha256": f.sha256} for f in ds.files],
            "dates": [dates[0], dates[-1]] if dates else []}


def _frontier_points(c: Comparison) -> dict:
    """Each frontier point of ``c`` (every arm) by its identity, as the page lists it."""
    out = {}
    for arm in c.arms:
        p = c.frontiers[arm].points
        rows = zip(p["framework"].astype(str), p["topology"].astype(str), p["conc"], p["interactivity"],
                   p["throughput_per_gpu"], p["date"], strict=True)
        for key, (engine, topology, conc, x, y, date) in zip(point_keys(p), rows, strict=True):
            out[key] = {"arm": arm, "engine": engine, "parallelism": topology,
                        "conc": None if pd.isna(conc) else int(conc), "interactivity": float(x),
                        "throughput_per_gpu": float(y), "date": date or None}
    return out


def _usable(ds: Dataset, arms: tuple, percentile: str) -> pd.DataFrame:
    """One configuration's points (``ds`` holds only it) that a comparison of ``arms`` at ``percentile`` reads."""
    points = at_percentile(ds.points, percentile)
    return points[points.spec_method.isin(arms)]


def diff(old: Dataset, new: Dataset, *, arms=("mtp", "none"), targets=None, semantics: str = "specnb",
         cost_table=None, provider: str = costs.DEFAULT_PROVIDER, token_type: str = "total",
         percentile: str = "median", paths: dict | None = None) -> Diff:
    """Compare two data sets configuration by configuration (module notes). ``targets`` (tok/s/user) fix the
    interactivities for every configuration; by default each is read at its new comparison's targets."""
    check_percentile(percentile)
    arms = tuple(names.spec_key(a) for a in arms)
    wanted = parse_targets(targets)
    table = costs.load_cost_table(cost_table)
    options = {"arms": arms, "semantics": semantics, "cost_table": table, "provider": provider,
               "token_type": token_type, "percentile": percentile}
    sides = {"old": old, "new": new}
    def comparable(ds: Dataset, pct: str) -> set:
        return {Config(r.model, r.hardware, r.precision, int(r.isl), int(r.osl))
                for r in ds.configurations(arms=arms, percentile=pct).itertuples()}

    configs = {name: comparable(ds, percentile) for name, ds in sides.items()}
    left_out = () if percentile == "median" else tuple(sorted(
        c.slug for c in (comparable(old, "median") | comparable(new, "median")) - configs["old"] - configs["new"]))
    cut = {name: config_slices(ds) for name, ds in sides.items()}
    entries = []
    for cfg in sorted(configs["old"] | configs["new"], key=lambda c: c.slug):
        key = cfg.to_dict()
        here = {name: cut[name](cfg) for name in sides if cfg in configs[name]}
        first = "new" if "new" in here else "old"
        lead = compare(here[first], targets=wanted or None, **key, **options)
        fixed = tuple(wanted) or tuple(t.interactivity for t in lead.targets)
        if len(here) == 1:
            change = "added" if first == "new" else "removed"
            entries.append(ConfigDiff(cfg, change, fixed, **{first: lead, ("old" if first == "new" else "new"): None}))
            continue
        old_keys, new_keys = (set(point_keys(_usable(here[n], arms, percentile))) for n in ("old", "new"))
        if old_keys == new_keys:
            entries.append(ConfigDiff(cfg, "unchanged", fixed, lead, lead))
            continue
        before = compare(here["old"], targets=list(fixed) or None, **key, **options)
        if not fixed and before.targets:  # no band in the new data: both sides at the old comparison's targets
            fixed = tuple(t.interactivity for t in before.targets)
            lead = compare(here["new"], targets=list(fixed), **key, **options)
        was, now = _frontier_points(before), _frontier_points(lead)
        entries.append(ConfigDiff(cfg, "changed", fixed, before, lead, tuple(now[k] for k in now if k not in was),
                                  tuple(was[k] for k in was if k not in now), len(new_keys - old_keys),
                                  len(old_keys - new_keys)))
    entries.sort(key=lambda e: (CHANGES.index(e.change), e.config.slug))
    return Diff(old, new, tuple(entries), arms, semantics, percentile, dict(paths or {}), left_out)
