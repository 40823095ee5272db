"""Altair charts of a ``Comparison``: throughput, cost and MTP/Off ratio versus interactivity.

Every plotted value is read from the ``Comparison`` (``priced_points``, ``curves``, ``band``, ``targets``,
``crossovers``); nothing here interpolates, prices or picks winners. The functions return Altair charts,
that is Vega-Lite specs; drawing them (HTML, SVG for PDF, PNG) is the renderer's job.

Design choices
--------------
* x (interactivity, tok/s/user) is always **linear**: the curves are ``compare``'s monotone splines,
  sampled densely on a linear x, so the table's numbers lie on the drawn lines.
* y is **logarithmic**. Within one configuration throughput per GPU spans two orders of magnitude
  (≈ 40 to 12,500 tok/s/GPU for DeepSeek R1 on B200), and the question is "how many times more", so
  equal ratios should show as equal gaps. On a linear axis the slower arm's high-interactivity end is a
  flat line on the floor. Cost and tok/s per MW are reciprocal or proportional to throughput, so they get
  the same scale. Ticks are fixed 1-2-5 values, so every label is a round number.
* Colours are fixed per arm *name* (Okabe & Ito, colour-blind safe), the same in every chart and report.
* Target and crossover labels sit above the plot, as flags on their rules, staggered so that no label
  overlaps another label or another rule.
* A stretch of a frontier between knots too far apart in throughput to pin the curve down
  (``Comparison.sparse_segments``) is drawn dashed, so the eye sees where the curve is an estimate; so is the
  ratio curve wherever either arm's is. Each target's ratio carries a bar spanning its leave-one-out range.
* Data-derived text (model, engine, topology) reaches Vega only as data or static title strings, never
  inside a Vega expression and never as HTML.
* Params have explicit names, and inline datasets are named by content hash, so ``to_json()`` is
  byte-identical across runs and processes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math

import altair as alt
import pandas as pd
from altair.utils.schemapi import debug_mode

from . import fmt, names
from .comparison import Comparison
from .support import SPARSE_FACTOR

WIDTH = 640
HEIGHT = 320
FONT = 12
LABEL_FONT = 11
ROW_PX = 15  # height of one row of staggered labels above the plot
GAP_PX = 4  # between the plot's top edge and the first label row
CHAR_PX = 5.8  # estimated width of one character at LABEL_FONT (measured ≈ 5.0; the rest is safety margin)
METRIC_PARAM = "y_metric"
METRICS = ("throughput_per_gpu", "cost_per_mtok", "tok_s_per_mw")

# Okabe & Ito (2008) colour-blind-safe palette; its yellow is left out (unreadable on white).
ARM_COLOURS = {"mtp": "#0072B2", "none": "#D55E00", "eagle": "#009E73", "draft": "#CC79A7"}
FALLBACK_COLOURS = ("#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#999999")
BAND_COLOUR = "#9E9E9E"
TARGET_COLOUR = "#555555"
CROSSOVER_COLOUR = "#7B3294"
TEXT_COLOUR = "#333333"

TICK_MANTISSAS = ((1.5, (1, 2, 5)), (0.5, (1, 1.5, 2, 3, 5, 7)),
                  (0.0, (1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)))
TOOLTIP_FORMATS = {"throughput_per_gpu": ",.1f", "cost_per_mtok": "$,.3f", "tok_s_per_mw": ",.0f"}
COST_TICK_EXPR = "format(datum.value, '$,.3~f')"
COUNT_TICK_EXPR = "format(datum.value, ',~s')"


def metric_labels(token_type: str) -> dict:
    """Display names of the y metrics; also the values of the metric switch and the folded data's keys."""
    tokens = "" if token_type == "total" else f"{token_type} "
    power = "Tokens/s per MW" if token_type == "total" else f"{token_type.capitalize()} tokens/s per MW"
    return {"throughput_per_gpu": "Throughput per GPU (tok/s/GPU)",
            "cost_per_mtok": f"Cost per million {tokens}tokens (USD)", "tok_s_per_mw": power}


def arm_colours(arms) -> dict:
    """Arm key → colour: fixed for known arms, a stable hash of the name for others (distinct within ``arms``)."""
    out = {a: ARM_COLOURS[a] for a in arms if a in ARM_COLOURS}
    for arm in arms:
        if arm in out:
            continue
        start = int(hashlib.sha1(arm.encode()).hexdigest(), 16) % len(FALLBACK_COLOURS)
        free = [FALLBACK_COLOURS[(start + i) % len(FALLBACK_COLOURS)] for i in range(len(FALLBACK_COLOURS))]
        free = [col for col in free if col not in out.values()] or [FALLBACK_COLOURS[start]]
        out[arm] = free[0]
    return {a: out[a] for a in arms}


# ---------------------------------------------------------------------------------------------- speed
#
# A report builds these charts once per configuration, so building them must be cheap. Altair's
# convenient inputs are what cost: an encoding given as shorthand ("arm:N") to ``encode()`` is resolved
# against the whole Vega-Lite schema; its schema objects (``alt.Axis``, ``alt.MarkDef``...) carry every
# property, mostly unset, and layering deep-copies them all several times; a DataFrame is copied and
# sanitised column by column; and in debug mode every schema object validates itself on creation.
# So each layer is an ``alt.Chart`` given its mark, encoding and transforms as the Vega-Lite JSON they
# stand for (plain dicts, read as-is), its data as ready JSON records, and is built with debug mode
# off. The spec is the same; tests/test_charts.py validates every chart against the schema.


def _quiet(builder):
    """Run ``builder`` with Altair's debug mode off (restored afterwards), so that schema objects do not
    validate themselves one by one while the chart is assembled; the finished spec is what gets validated."""

    @functools.wraps(builder)
    def build(*args, **kwargs):
        with debug_mode(False):
            return builder(*args, **kwargs)

    return build


def _cell(value):
    """One value as Altair's DataFrame conversion writes it: NaN, ±inf and NA become null."""
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


class _Records(alt.InlineData):
    """Inline data that copies of a chart share instead of duplicating.

    Altair deep-copies every layer, data included, twice when it layers charts and twice more on each
    ``to_dict``: with a few hundred records that was most of the build time. These records are built once
    and never changed, so sharing them is safe (a DataFrame was shared the same way). ``to_dict`` still
    moves them to the top-level ``datasets``, named by a hash of their content, as it did the DataFrames.
    """

    def __deepcopy__(self, memo=None):
        return self


def _data(columns: dict[str, list]) -> _Records:
    """Inline data from equal-length columns of plain Python values (``Series.tolist()``), as records in
    column order: what Altair made of the same DataFrame, without its per-column copies and checks."""
    keys = list(columns)
    rows = zip(*columns.values(), strict=True)
    return _Records(values=[dict(zip(keys, map(_cell, row), strict=True)) for row in rows])


def _chart(data: _Records, *, mark: dict, encoding: dict, **properties) -> alt.Chart:
    """A single-view chart from Vega-Lite JSON: ``mark`` and each channel of ``encoding`` are taken as-is
    (``encoding`` is wrapped only because Altair inspects its channels when layering)."""
    return alt.Chart(data, mark=mark, encoding=alt.FacetedEncoding(**encoding), **properties)


# ---------------------------------------------------------------------------------------------- encodings


def _field(field: str, type_: str = "quantitative", **properties) -> dict:
    """A field channel definition (Vega-Lite ``FieldDef``): ``_field("arm", "nominal")`` is ``"arm:N"``."""
    return {"field": field, "type": type_, **properties}


def _tip(field: str, title: str, type_: str = "nominal", **properties) -> dict:
    return _field(field, type_, title=title, **properties)


def _colour(c: Comparison, *, legend: bool = True, arms: tuple | None = None) -> dict:
    colours = arm_colours(c.arms)
    arms = c.arms if arms is None else arms
    scale = {"domain": [names.spec_label(a) for a in arms], "range": [colours[a] for a in arms]}
    leg = {"title": "Spec decoding", "labelFontSize": FONT, "titleFontSize": FONT, "symbolOpacity": 1}
    return _field("arm", "nominal", scale=scale, legend=leg if legend else None)


def _x(domain: tuple[float, float], percentile: str, *, nice: bool = True) -> dict:
    """The interactivity axis; a tail percentile is named in its title (interactivity = 1 / p99 TPOT)."""
    scale = {"type": "linear", "domain": [float(v) for v in domain], "nice": nice, "zero": False}
    title = "Interactivity (tok/s/user)" if percentile == "median" else f"Interactivity at {percentile} (tok/s/user)"
    return _field("interactivity", title=title, scale=scale,
                  axis={"labelFontSize": FONT, "titleFontSize": FONT + 1})


def _y_log(field: str, title, label_expr: str, ticks: list) -> dict:
    axis = {"title": title, "values": ticks, "labelExpr": label_expr, "labelFontSize": FONT,
            "titleFontSize": FONT + 1, "labelOverlap": "greedy", "gridOpacity": 0.7}
    return _field(field, scale={"type": "log", "nice": False, "padding": 10}, axis=axis)


def log_ticks(values, exponents: range) -> list[float]:
    """Round tick values for a log axis: 1-2-5 per decade when ``values`` span more than 1.5 decades,
    denser when they span less, so a narrow range still gets several labelled ticks."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    span = math.log10(max(finite) / min(finite)) if finite else 2.0
    mantissas = next(m for threshold, m in TICK_MANTISSAS if span > threshold or threshold == 0.0)
    return [float(f"{m * 10.0 ** e:.12g}") for e in exponents for m in mantissas]


def _title(text, subtitle: list[str]) -> dict:
    return {"text": text, "subtitle": subtitle, "anchor": "start", "fontSize": 15, "subtitleFontSize": FONT,
            "subtitleColor": "#444444", "offset": 10}


# ---------------------------------------------------------------------------------------------- data


def _x_extent(c: Comparison) -> tuple[float, float]:
    """x from 0 to 3 % past the fastest measured point (then rounded up by ``nice``), so edge points show whole."""
    xs = c.priced_points["interactivity"]
    return 0.0, (float(xs.max()) * 1.03 if len(xs) else 1.0)


def _metric_ticks(c: Comparison) -> list[float]:
    """Ticks for every metric's range (from $0.001 to 10⁹ tok/s/MW); their density follows the throughput
    span, which cost and tok/s per MW share because they are reciprocal or proportional to it."""
    return log_ticks(c.priced_points["throughput_per_gpu"], range(-3, 10))


def _available_metrics(c: Comparison) -> list[str]:
    """The y metrics that have values: cost needs a $/GPU·h rate, tok/s per MW a kW figure, and both the
    throughput of the token type they are per (input and output throughput may be absent from the data)."""
    out = ["throughput_per_gpu"]
    if c.rate.usd_per_gpu_hour is not None and c.token_throughput_measured:
        out.append("cost_per_mtok")
    if c.rate.kw_per_gpu is not None and c.token_throughput_measured:
        out.append("tok_s_per_mw")
    return out


def _unpriced_text(c: Comparison) -> str:
    """Why cost and/or power are left out of a chart."""
    if not c.token_throughput_measured:
        return f"{c.token_type} throughput {fmt.NOT_MEASURED} in the data"
    return f"{_no_rate_text(c)} ({c.rate.provider})"


def _floats(series) -> list:
    return series.astype(float).tolist()


def _points_columns(c: Comparison, metrics: list[str], labels: dict) -> dict[str, list]:
    """Every measured point with its tooltip fields; metric columns are keyed by their display name."""
    p = c.priced_points
    columns = {
        "arm": [names.spec_label(a) for a in p["spec_method"]],
        "engine": p["framework"].fillna("").astype(str).tolist(),
        "concurrency": pd.to_numeric(p["conc"]).round().astype("Int64").tolist(),
        "parallelism": p["topology"].fillna("").astype(str).tolist(),
        "date": p["date"].fillna("").astype(str).tolist(),
        "on_frontier": p["on_frontier"].astype(bool).tolist(),
        "interactivity": _floats(p["interactivity"]),
    }
    return columns | {labels[m]: _floats(p[m]) for m in metrics}


THIN_STRETCH = "thin data (estimate)"
SOLID_STRETCH = "measured nearby"


def thin_runs(xs: list[float], spans) -> list[tuple[list[int], bool]]:
    """Consecutive samples (indexes into ``xs``, sorted) split into runs inside and outside the thin ``spans``
    ((left, right) pairs); a sample where a run ends also starts the next, so the drawn line stays unbroken."""
    runs: list[tuple[list[int], bool]] = []
    for i in range(len(xs) - 1):
        mid = (xs[i] + xs[i + 1]) / 2
        thin = any(left < mid < right for left, right in spans)
        if runs and runs[-1][1] == thin:
            runs[-1][0].append(i + 1)
        else:
            runs.append(([i, i + 1], thin))
    return runs or ([([0], False)] if xs else [])


def _stretch_columns(frame: pd.DataFrame, spans_of: dict) -> dict[str, list]:
    """``frame``'s rows repeated per run (see ``thin_runs``) with ``run`` and ``stretch`` columns, arm by arm."""
    rows, run, stretch = [], [], []
    for arm in dict.fromkeys(frame["arm"]):
        part = frame[frame["arm"] == arm]
        for k, (idx, thin) in enumerate(thin_runs(_floats(part["interactivity"]), spans_of(arm))):
            rows += [part.index[i] for i in idx]
            run += [f"{arm}#{k}"] * len(idx)
            stretch += [THIN_STRETCH if thin else SOLID_STRETCH] * len(idx)
    return {"rows": rows, "run": run, "stretch": stretch}


def _thin(c: Comparison) -> bool:
    return any(c.sparse_segments[a] for a in c.arms)


def _curves_columns(c: Comparison, metrics: list[str], labels: dict) -> dict[str, list]:
    """The frontier curves' samples; with thin stretches, each arm's curve split into runs (``run``, ``stretch``)."""
    arm = c.curves[c.curves.series == "arm"]
    extra = {}
    if _thin(c):
        split = _stretch_columns(arm, lambda a: c.sparse_segments[a])
        arm = arm.loc[split["rows"]]
        extra = {"run": split["run"], "stretch": split["stretch"]}
    columns = {"arm": [names.spec_label(a) for a in arm["arm"]], "interactivity": _floats(arm["interactivity"])}
    return columns | {labels[m]: _floats(arm[m]) for m in metrics} | extra


def _dash() -> dict:
    """Solid where the curve runs between close measurements, dashed across thin stretches (legend: thin only)."""
    return _field("stretch", "nominal", scale={"domain": [SOLID_STRETCH, THIN_STRETCH], "range": [[1, 0], [5, 4]]},
                  legend={"title": None, "values": [THIN_STRETCH], "labelFontSize": FONT, "symbolStrokeWidth": 2,
                          "symbolType": "stroke"})


def _thin_text(c: Comparison) -> str | None:
    if not _thin(c):
        return None
    return (f"Dashed: thin data, where neighbouring measurements differ more than {SPARSE_FACTOR:g}× in throughput "
            "and the curve between them is an estimate.")


def _target_values_columns(c: Comparison, metrics: list[str], labels: dict) -> dict[str, list]:
    """Each arm's values at each target where it was measured: the table's numbers, placed on the curves."""
    rows = []
    for t in c.targets:
        for arm, v in t.arms.items():
            if not v.measured or not math.isfinite(v.throughput_per_gpu):
                continue
            target = f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user"
            if v.clamped:
                target += f" (clamped to {fmt.fmt_interactivity(v.evaluated_at)})"
            row = {"arm": names.spec_label(arm), "target": target, "interactivity": float(v.evaluated_at),
                   "support": _support_tip(t, arm)}
            rows.append(row | {labels[m]: float(getattr(v, m)) for m in metrics})
    return {key: [row[key] for row in rows] for key in (rows[0] if rows else ())}


def _support_tip(t, arm: str) -> str:
    """``thin data: between 70 and 308 tok/s/user``, ``interpolated: between 91 and 112 …``, ``measured: at 94 …``."""
    s = t.support.get(arm)
    if s is None or s.grade is None:
        return fmt.NOT_MEASURED
    where = fmt.fmt_support(t.interactivity, s.grade, s.left.interactivity if s.left else None,
                            s.right.interactivity if s.right else None)
    grade = "thin data" if s.sparse else s.grade
    return f"{grade}: {where if where.startswith('at ') else 'between ' + where} tok/s/user"


# ---------------------------------------------------------------------------------------------- labels


def place_labels(items: list[tuple[float, str]], low: float, high: float) -> list[int]:
    """Row (0 = nearest the plot) for flag labels on vertical rules at ``x``.

    Each label starts just right of its rule, above the plot, and the rule rises to the top of its label.
    A label must overlap no other label and be crossed by no other rule. Placing labels right to left,
    each in the lowest row above every rule that its text spans, satisfies both: rules to its left stop
    below it, and its own rule passes left of every label already placed. Pixel positions are estimated
    on the linear x domain [low, high]; a label may run past the plot's right edge (Vega pads for it).
    """
    px = WIDTH / (high - low) if high > low else 1.0
    placed: list[tuple[float, float, int]] = []  # (rule x, label right end, row)
    rows: dict[int, int] = {}
    for i in sorted(range(len(items)), key=lambda i: (-items[i][0], i)):
        x = (items[i][0] - low) * px
        right = x + len(items[i][1]) * CHAR_PX + 8
        row = 1 + max((r for rx, _, r in placed if x <= rx <= right), default=-1)
        placed.append((x, right, row))
        rows[i] = row
    return [rows[i] for i in range(len(items))]


def _flag_layers(flags: dict[str, list], name: str, colour: str, dash: list | None) -> list:
    """Rules at ``interactivity`` rising to a label (``label``) in row ``row`` above the plot.

    ``flags`` holds the columns ``interactivity``, ``label``, ``tip`` and ``row``. Rows with ``row`` < 0
    get a rule inside the plot only (no label). One layer per row, since Vega-Lite positions by value per
    layer; a row's rule and label layers share one dataset.
    """
    rule = {"type": "rule", "color": colour, "strokeWidth": 1.3} | ({"strokeDash": dash} if dash else {})
    text = {"type": "text", "align": "left", "baseline": "bottom", "dx": 4, "fontSize": LABEL_FONT,
            "color": colour if colour != TARGET_COLOUR else TEXT_COLOUR}
    tip = [_tip("tip", name.split("_")[0].capitalize())]
    layers = []
    for row in sorted(set(flags["row"])):
        keep = [i for i, r in enumerate(flags["row"]) if r == row]
        part = _data({key: [values[i] for i in keep] for key, values in flags.items()})
        suffix = row if row >= 0 else "plot"
        top = 0 if row < 0 else -GAP_PX - ROW_PX * row - (LABEL_FONT - 1)
        layers.append(_chart(part, name=f"{name}_rules_{suffix}", mark=rule, encoding={
            "x": _field("interactivity"), "y": {"value": top}, "y2": {"value": HEIGHT}, "tooltip": tip}))
        if row >= 0:
            layers.append(_chart(part, name=f"{name}_labels_{row}", mark=text, encoding={
                "x": _field("interactivity"), "y": {"value": -GAP_PX - ROW_PX * row},
                "text": _field("label", "nominal")}))
    return layers


def _target_items(c: Comparison) -> list[tuple[float, str]]:
    return [(float(t.interactivity), f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user") for t in c.targets]


def _crossover_items(c: Comparison, low: float, high: float) -> list[tuple[float, str | None]]:
    """One label per cluster of crossovers too close to label apart ("crossovers ~53, ~55 tok/s/user");
    the other members of a cluster keep their rule but get no label (``None``)."""
    px = WIDTH / (high - low) if high > low else 1.0
    clusters: list[list[float]] = []
    for x in (float(x.interactivity) for x in c.crossovers):
        if clusters and (x - clusters[-1][-1]) * px < 40:
            clusters[-1].append(x)
        else:
            clusters.append([x])
    items: list[tuple[float, str | None]] = []
    for cluster in clusters:
        values = ", ".join(f"~{x:.0f}" for x in cluster)
        word = "crossover" if len(cluster) == 1 else "crossovers"
        items.append((cluster[0], f"{word} {values} tok/s/user"))
        items.extend((x, None) for x in cluster[1:])
    return items


# ---------------------------------------------------------------------------------------------- layers


def _band_layer(c: Comparison) -> list:
    if c.band is None:
        return []
    band = _data({"low": [float(c.band.low)], "high": [float(c.band.high)],
                  "label": [f"{fmt.fmt_band(c.band.shown_low, c.band.shown_high)} tok/s/user ({c.band.kind})"]})
    return [_chart(band, name="band", mark={"type": "rect", "color": BAND_COLOUR, "opacity": 0.14}, encoding={
        "x": _field("low"), "x2": {"field": "high"}, "tooltip": [_tip("label", "Matched band")]})]


def _band_text(c: Comparison) -> str:
    if c.band is None:
        return "No matched band: the arms' frontiers do not overlap in interactivity."
    return f"Shaded: matched band {fmt.fmt_band(c.band.shown_low, c.band.shown_high)} tok/s/user; dashed: targets."


def _target_layers(c: Comparison, rows: list[int], items: list | None = None) -> list:
    if not c.targets:
        return []
    items = items or _target_items(c)
    flags = {"interactivity": [x for x, _ in items], "label": [s for _, s in items],
             "tip": [s for _, s in items], "row": rows}
    return _flag_layers(flags, "target", TARGET_COLOUR, [5, 4])


def _metric_layers(c: Comparison, metrics: list[str], metric_test: str, y: dict) -> list:
    """Frontier curves, raw points and the targets' values, folded to (metric, value), filtered by ``metric_test``."""
    labels = metric_labels(c.token_type)
    fold = [{"fold": [labels[m] for m in metrics], "as": ["metric", "value"]}, {"filter": metric_test},
            {"filter": "isValid(datum.value) && datum.value > 0"}]
    x, colour = _x(_x_extent(c), c.percentile), _colour(c)

    def folded(data: _Records, name: str, mark: dict, encoding: dict, extra_filter: str | None = None) -> alt.Chart:
        transform = fold + ([{"filter": extra_filter}] if extra_filter else [])
        return _chart(data, name=name, mark=mark, encoding={"x": x, "y": y, **encoding}, transform=transform)

    def tooltips(extra: list) -> list:
        return [*extra, _tip("interactivity", "Interactivity (tok/s/user)", "quantitative", format=",.1f"),
                *(_tip(labels[m], labels[m], "quantitative", format=TOOLTIP_FORMATS[m]) for m in metrics)]

    layers = []
    curves = _curves_columns(c, metrics, labels)
    if curves["arm"]:
        split = {"detail": _field("run", "nominal"), "strokeDash": _dash()} if "run" in curves else \
            {"detail": _field("arm", "nominal")}
        layers.append(folded(_data(curves), "curves",
                             {"type": "line", "interpolate": "linear", "strokeWidth": 2.2, "clip": True},
                             {"color": colour, **split}))
    point_tips = tooltips([_tip("arm", "Spec decoding"), _tip("engine", "Engine"),
                           _tip("concurrency", "Concurrency", "quantitative", format=","),
                           _tip("parallelism", "Parallelism"), _tip("date", "Date"),
                           _tip("on_frontier", "On frontier")])
    points = _data(_points_columns(c, metrics, labels))  # one dataset for both point layers
    layers.append(folded(points, "points_dominated", {"type": "point", "filled": False, "size": 40, "opacity": 0.6,
                                                      "strokeWidth": 1.2, "clip": True},
                         {"color": colour, "tooltip": point_tips}, "!datum.on_frontier"))
    layers.append(folded(points, "points_frontier",
                         {"type": "point", "filled": True, "size": 48, "opacity": 0.95, "clip": True},
                         {"color": colour, "tooltip": point_tips}, "datum.on_frontier"))
    values = _target_values_columns(c, metrics, labels)
    if values:
        layers.append(folded(_data(values), "target_values",
                             {"type": "point", "shape": "diamond", "filled": True, "size": 120, "stroke": "white",
                              "strokeWidth": 1.2, "opacity": 1, "clip": True},
                             {"color": _colour(c, legend=False),
                              "tooltip": tooltips([_tip("arm", "Spec decoding"), _tip("target", "Target"),
                                                   _tip("support", "Read between")])}))
    return layers


def _message(title: str, lines: list[str], name: str) -> alt.Chart:
    """A chart that only says something, instead of an empty or misleading plot."""
    data = _data({"line": lines, "row": list(range(len(lines)))})
    mark = {"type": "text", "align": "left", "baseline": "middle", "fontSize": FONT + 1, "color": TEXT_COLOUR}
    encoding = {"x": {"value": 4}, "y": _field("row", "ordinal", axis=None), "text": _field("line", "nominal")}
    return _chart(data, mark=mark, encoding=encoding, width=WIDTH, height=26 * len(lines), name=name,
                  description=f"{title}: {' '.join(lines)}", title=_title(title, []), view={"stroke": None})


def _no_rate_text(c: Comparison) -> str:
    return f"{fmt.NO_RATE} for {names.hardware_label(c.rate.gpu)} in table {c.rate.table}"


# ---------------------------------------------------------------------------------------------- charts


@_quiet
def chart_throughput(c: Comparison) -> alt.LayerChart:
    """Throughput per GPU vs interactivity, with a "Y metric" select for cost and tok/s per MW.

    Layers: band shading, frontier curves, raw points (filled on the frontier, hollow when dominated),
    the table's values at each target (diamonds), and dashed target rules with flag labels.
    The select is the Vega-Lite param ``y_metric``, whose value is the metric's display name; the data
    are folded to (metric, value) and filtered on it. Vega-Lite 6 axis titles cannot be expressions, so
    the chart title (an expression of the param) names the metric and the y axis has no title.
    Metrics without a rate (no $/GPU·h or kW for the GPU) are left out of the select.
    """
    metrics = _available_metrics(c)
    labels = metric_labels(c.token_type)
    param = alt.VariableParameter(name=METRIC_PARAM, value=labels["throughput_per_gpu"],
                                  bind=alt.binding_select(options=[labels[m] for m in metrics], name="Y metric "))
    tick_expr = f"{METRIC_PARAM} == {json.dumps(labels['cost_per_mtok'])} ? {COST_TICK_EXPR} : {COUNT_TICK_EXPR}"
    rows = place_labels(_target_items(c), 0.0, _x_extent(c)[1] * 1.06)
    layers = [*_band_layer(c), *_metric_layers(c, metrics, f"datum.metric == {METRIC_PARAM}",
                                                _y_log("value", None, tick_expr, _metric_ticks(c))),
              *_target_layers(c, rows)]
    notes = [_band_text(c) + " Filled: frontier points; hollow: dominated; diamonds: the table's values."]
    notes += [n for n in (_thin_text(c),) if n]
    if len(metrics) < len(METRICS):
        notes.append(f"{_unpriced_text(c)}: cost and/or power left out.")
    title = _title({"expr": f"{METRIC_PARAM} + ' vs interactivity'"}, [c.title, *notes])
    return alt.LayerChart(layer=layers, params=[param], width=WIDTH, height=HEIGHT, title=title,
                     description=f"Throughput per GPU vs interactivity (log y), {c.title}")


@_quiet
def chart_cost(c: Comparison) -> alt.LayerChart | alt.Chart:
    """Cost per million tokens (of ``c.token_type``) vs interactivity: curves, raw points, band and targets.

    Without a $/GPU·h rate for the GPU the chart is a message saying so, never an empty or zero plot.
    """
    label = metric_labels(c.token_type)["cost_per_mtok"]
    title = f"{label.removesuffix(' (USD)')} vs interactivity"
    if c.rate.usd_per_gpu_hour is None:
        return _message(title, [f"{_no_rate_text(c)} ({c.rate.provider}): cost is not shown.", c.title,
                                "Pass another cost table or a per-GPU rate override to price this configuration."],
                        name="no_rate")
    if not c.token_throughput_measured:
        return _message(title, [f"{_unpriced_text(c)}: cost per {c.token_type} token is not shown.", c.title,
                                "Choose another token type (total throughput is always measured)."],
                        name="not_measured")
    rows = place_labels(_target_items(c), 0.0, _x_extent(c)[1] * 1.06)
    layers = [*_band_layer(c), *_metric_layers(c, ["throughput_per_gpu", "cost_per_mtok"],
                                                f"datum.metric == {json.dumps(label)}",
                                                _y_log("value", label, COST_TICK_EXPR, _metric_ticks(c))),
              *_target_layers(c, rows)]
    rate = (f"{names.hardware_label(c.rate.gpu)} at ${c.rate.usd_per_gpu_hour:,.2f}/GPU-hour ({c.rate.table} table, "
            f"{c.rate.provider}). Lower is better. {_band_text(c)}")
    sub = [c.title, rate, *(n for n in (_thin_text(c),) if n)]
    return alt.LayerChart(layer=layers, width=WIDTH, height=HEIGHT, title=_title(title, sub),
                     description=f"{title} (log y), {c.title}")


def _ratio_message(c: Comparison, title: str, treat: str, base: str) -> alt.Chart:
    """Why there is no ratio curve: no matched band, or (inferencex semantics) no sampled ratio curve."""
    why = [n for n in c.notes if "overlap" in n or "no measured points" in n or "no curve" in n]
    if c.band is None:
        lines = [f"{treat} and {base} do not overlap in interactivity: no matched band, so no ratio.", *why]
    else:  # compare() samples the ratio curve only over a frontier-overlap band
        lines = [f"No ratio curve for a {c.band.kind} band ({c.semantics} semantics); the ratio at each target:",
                 *(f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user: "
                   f"{fmt.fmt_ratio(t.ratio) if t.ratio is not None else fmt.NOT_MEASURED}" for t in c.targets)]
    return _message(title, [*lines, c.title], name="no_band" if c.band is None else "no_ratio_curve")


def _parity_layers() -> list:
    """The 1× rule and its label, sharing one dataset."""
    parity = _data({"ratio": [1.0], "label": ["parity (1×)"]})
    text = {"type": "text", "align": "right", "baseline": "bottom", "dx": -4, "dy": -3, "fontSize": LABEL_FONT,
            "color": "#222222"}
    return [_chart(parity, name="parity", mark={"type": "rule", "color": "#222222", "strokeWidth": 1.2},
                      encoding={"y": _field("ratio")}),
            _chart(parity, name="parity_label", mark=text, encoding={
                "y": _field("ratio"), "x": {"value": WIDTH}, "text": _field("label", "nominal")})]


def _crossover_layers(c: Comparison, crossings: list, rows) -> list:
    """Crossover rules; the first of each cluster also gets a flag label, in the next row of ``rows``."""
    if not c.crossovers:
        return []
    flags = {"interactivity": [x for x, _ in crossings], "label": [s or "" for _, s in crossings],
             "tip": [f"~{x.interactivity:.1f} tok/s/user: {names.spec_label(x.leader_above)} leads above, "
                     f"{names.spec_label(x.leader_below)} below" for x in c.crossovers],
             "row": [next(rows) if s is not None else -1 for _, s in crossings]}
    return _flag_layers(flags, "crossover", CROSSOVER_COLOUR, None)


def _range_text(t) -> str:
    r = t.ratio_range
    return f"{fmt.fmt_ratio_range(r.low, r.high)}" if r is not None else fmt.DASH


def _target_range_layer(c: Comparison, y_title: str) -> list:
    """At each target, a bar from the smallest to the largest ratio when any one measurement is dropped."""
    ts = [t for t in c.targets if t.ratio_range is not None]
    if not ts:
        return []
    data = _data({"interactivity": [float(t.interactivity) for t in ts], "low": [t.ratio_range.low for t in ts],
                  "high": [t.ratio_range.high for t in ts], "range": [_range_text(t) for t in ts]})
    mark = {"type": "rule", "strokeWidth": 8, "opacity": 0.3, "strokeCap": "round",
            "color": arm_colours(c.arms)[c.treatment]}
    return [_chart(data, name="target_ranges", mark=mark, encoding={
        "x": _field("interactivity"), "y": _field("low", title=y_title), "y2": {"field": "high"},
        "tooltip": [_tip("interactivity", "Target (tok/s/user)", "quantitative", format=",.1f"),
                    _tip("range", "Ratio if any one measurement is dropped")]})]


def _target_ratio_layer(c: Comparison, base: str) -> list:
    """A diamond at each target's ratio (targets without a ratio get none)."""
    ts = [t for t in c.targets if t.ratio is not None]
    marks = [(float(t.interactivity), float(t.ratio)) for t in ts]
    if not marks:
        return []
    data = _data({"interactivity": [x for x, _ in marks], "ratio": [r for _, r in marks],
                  "range": [_range_text(t) for t in ts],
                  "support": ["thin data (estimate)" if t.sparse_arms else "supported" for t in ts]})
    tips = [_tip("interactivity", "Target (tok/s/user)", "quantitative", format=",.1f"),
            _tip("ratio", f"Ratio to {base}", "quantitative", format=".2f"),
            _tip("range", "If any one measurement is dropped"), _tip("support", "Data")]
    mark = {"type": "point", "shape": "diamond", "filled": True, "size": 100, "opacity": 1, "stroke": "white",
            "strokeWidth": 1, "color": arm_colours(c.arms)[c.treatment]}
    return [_chart(data, name="target_ratios", mark=mark,
                      encoding={"x": _field("interactivity"), "y": _field("ratio"), "tooltip": tips})]


@_quiet
def chart_ratio(c: Comparison) -> alt.LayerChart | alt.Chart:
    """Treatment/baseline throughput per GPU across the band, with parity (1×), crossovers and targets."""
    base = names.spec_label(c.baseline)
    treat = " / ".join(names.spec_label(a) for a in c.arms[:-1])
    title = f"{treat} vs {base}: throughput per GPU ratio across the matched band"
    ratio = c.curves[c.curves.series == "ratio"]
    if c.band is None or ratio.empty:
        return _ratio_message(c, title, treat, base)
    low, high = float(c.band.low), float(c.band.high)
    ratios = _floats(ratio["ratio"])
    ends = [v for t in c.targets if t.ratio_range is not None for v in (t.ratio_range.low, t.ratio_range.high)]
    extra: dict = {}
    split = {"detail": _field("arm", "nominal")}
    if _thin(c):  # dashed wherever either arm's curve is an estimate
        runs = _stretch_columns(ratio, lambda a: c.sparse_segments[a] + c.sparse_segments[c.baseline])
        ratio = ratio.loc[runs["rows"]]
        extra = {"run": runs["run"], "stretch": runs["stretch"]}
        split = {"detail": _field("run", "nominal"), "strokeDash": _dash()}
    data = _data({"arm": [names.spec_label(a) for a in ratio["arm"]], "interactivity": _floats(ratio["interactivity"]),
                  "ratio": _floats(ratio["ratio"])} | extra)
    y_title = f"{treat} ÷ {base} throughput per GPU"
    y = _y_log("ratio", y_title, "format(datum.value, '.2~f') + '×'", log_ticks([*ratios, *ends, 1.0], range(-3, 4)))
    line = _chart(data, name="ratio", mark={"type": "line", "interpolate": "linear", "strokeWidth": 2.4,
                                                "clip": True}, encoding={
        "x": _x((low, high), c.percentile, nice=False), "y": y,
        "color": _colour(c, legend=len(c.arms) > 2, arms=c.arms[:-1]),
        **split,
        "tooltip": [_tip("arm", "Spec decoding"),
                    _tip("interactivity", "Interactivity (tok/s/user)", "quantitative", format=",.1f"),
                    _tip("ratio", f"Ratio to {base}", "quantitative", format=".2f")]})

    first = f" {names.spec_label(c.treatment)}" if len(c.arms) > 2 else ""  # Target.ratio is the first arm's
    targets = [(x, f"{s}: {fmt.fmt_ratio(t.ratio)}{first}" if t.ratio is not None else s)
               for (x, s), t in zip(_target_items(c), c.targets, strict=True)]
    crossings = _crossover_items(c, low, high)
    rows = place_labels(targets + [(x, s) for x, s in crossings if s is not None], low, high)
    layers = [line, *_parity_layers(), *_target_layers(c, rows[:len(targets)], targets),
              *_crossover_layers(c, crossings, iter(rows[len(targets):])), *_target_range_layer(c, y_title),
              *_target_ratio_layer(c, base)]
    sub = (f"Above 1×, {treat} delivers more throughput per GPU than {base} at the same interactivity; "
           "dashed: targets" + (", purple: crossovers" if c.crossovers else "")
           + "; bars: the ratio's range if any one measurement is dropped.")
    sub = [c.title, sub, *(n for n in (_thin_text(c),) if n)]
    return alt.LayerChart(layer=layers, width=WIDTH, height=HEIGHT, title=_title(title, sub),
                     description=f"{title} (log y), {c.title}")


def report_charts(c: Comparison) -> dict:
    """The report's three charts by name: ``throughput``, ``cost``, ``ratio``."""
    return {"throughput": chart_throughput(c), "cost": chart_cost(c), "ratio": chart_ratio(c)}


# ---------------------------------------------------------------------------------------------- history

TARGET_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
GRADE_LABELS = {"measured": "measured", "interpolated": "interpolated", "sparse": THIN_STRETCH}
GRADE_SHAPES = {"measured": "circle", "interpolated": "square", THIN_STRETCH: "triangle-up"}
TREND_HEIGHT = 200


@_quiet
def chart_trend(trend) -> alt.LayerChart | alt.Chart:
    """The treatment/baseline throughput ratio at fixed interactivities over time: one line per target, one
    point per date on which the data changed (the comparison as the data stood that day), shaped by its support
    grade — hollow triangles are thin data, so a jump caused by one sparse new measurement shows as such.

    ``trend`` is a ``specnb.trends.Trend`` or its ``to_frame()`` (what ``specnb.trend(...)`` returns). With fewer
    than two dates the chart says so instead of drawing an empty plot.
    """
    frame = trend.to_frame() if hasattr(trend, "to_frame") else trend
    title = "Throughput ratio over time, at fixed interactivity"
    if frame.empty:
        return _message(title, ["No matched band in the newest data: no interactivity to follow over time."],
                        name="no_trend")
    first = frame.iloc[0]
    treat, base = names.spec_label(first["arm"]), names.spec_label(first["baseline"])
    title = f"{treat}/{base} throughput ratio over time, at fixed interactivity"
    subject = (f"{names.model_label(first['model'])} · {names.hardware_label(first['hardware'])} "
               f"{str(first['precision']).upper()} · {names.sequence_label(first['isl'], first['osl'])}")
    dates = [d for d in dict.fromkeys(frame["date"]) if isinstance(d, str) and d]
    known = frame[frame["ratio"].notna() & frame["date"].isin(dates)]
    if len(dates) < 2 or known.empty:
        why = (f"Only one date in the data ({dates[0]}): no history to draw." if len(dates) == 1 else
               "No dated data: no history to draw." if not dates else
               f"No {treat}/{base} ratio at these interactivities on any of the {len(dates)} dates.")
        return _message(title, [why, subject], name="no_history")
    targets = list(dict.fromkeys(f"{fmt.fmt_interactivity(x)} tok/s/user" for x in frame["interactivity"]))
    grades = [GRADE_LABELS[g] for g in known["grade"]]
    ranges = [fmt.fmt_ratio_range(lo, hi) if pd.notna(lo) else fmt.DASH
              for lo, hi in zip(known["ratio_low"], known["ratio_high"], strict=True)]
    data = _data({"date": known["date"].tolist(), "ratio": _floats(known["ratio"]),
                  "target": [f"{fmt.fmt_interactivity(x)} tok/s/user" for x in known["interactivity"]],
                  "grade": grades, "range": ranges})
    x = _field("date", "temporal", title=None, axis={"format": "%b %Y", "labelFontSize": FONT, "tickCount": 6,
                                                      "labelOverlap": "greedy"})
    ticks = log_ticks([*_floats(known["ratio"]), 1.0], range(-3, 4))
    y = _y_log("ratio", f"{treat} ÷ {base} throughput per GPU", "format(datum.value, '.2~f') + '×'", ticks)
    colour = _field("target", "nominal", title="At", scale={"domain": targets,
                                                            "range": list(TARGET_COLOURS[:len(targets)])},
                    legend={"labelFontSize": FONT, "titleFontSize": FONT, "orient": "right"})
    tips = [_tip("date", "As of", "temporal", format="%Y-%m-%d"), _tip("target", "At"),
            _tip("ratio", f"Ratio to {base}", "quantitative", format=".2f"), _tip("grade", "Support"),
            _tip("range", "If any one measurement is dropped")]
    shown = [g for g in GRADE_SHAPES if g in set(grades)]
    shape = _field("grade", "nominal", title="Support", scale={"domain": shown,
                                                               "range": [GRADE_SHAPES[g] for g in shown]},
                   legend={"labelFontSize": FONT, "titleFontSize": FONT, "orient": "right"})
    fill = {"condition": {"test": f"datum.grade == {json.dumps(THIN_STRETCH)}", "value": 0}, "value": 1}
    line = _chart(data, name="trend_lines", mark={"type": "line", "strokeWidth": 1.8, "opacity": 0.8,
                                                  "interpolate": "step-after"},
                  encoding={"x": x, "y": y, "color": colour, "detail": _field("target", "nominal")})
    dots = _chart(data, name="trend_points", mark={"type": "point", "filled": True, "size": 70, "strokeWidth": 1.6},
                  encoding={"x": x, "y": y, "color": colour, "stroke": {**colour, "legend": None}, "shape": shape,
                            "fillOpacity": fill, "tooltip": tips})
    parity = _data({"ratio": [1.0]})
    rule = _chart(parity, name="trend_parity", mark={"type": "rule", "color": "#222222", "strokeWidth": 1,
                                                     "strokeDash": [2, 2]}, encoding={"y": _field("ratio")})
    sub = [subject, "Each point: the comparison as the data stood that day (rows dated after it left out), held until "
           "the next; hollow triangles: thin data, an estimate; dotted: parity (1×)."]
    return alt.LayerChart(layer=[rule, line, dots], width=WIDTH, height=TREND_HEIGHT, title=_title(title, sub),
                          description=f"{title}, {subject}")
