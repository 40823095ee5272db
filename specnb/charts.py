"""Altair charts of a ``Comparison``: throughput, cost and MTP/Off ratio versus interactivity.

Every plotted value is read from the ``Comparison`` (``priced_points``, ``curves``, ``band``, ``targets``,
``crossovers``); nothing here interpolates, prices or picks winners. Functions return Altair charts, i.e.
Vega-Lite specs; rendering (HTML, SVG for PDF, PNG) is somebody else's job.

Design choices
--------------
* x (interactivity, tok/s/user) is always **linear**: the curves are the monotone splines of ``compare``
  sampled densely on a linear x, so the table's numbers lie on the drawn lines.
* y is **logarithmic**. Throughput per GPU spans two orders of magnitude within one configuration
  (≈ 50 to 12,000 tok/s/GPU) and "how many times more" is the question, so equal ratios should look like
  equal gaps; on a linear axis the slower arm's high-interactivity end is a flat line on the floor.
  Cost and tok/s/MW are proportional (or reciprocal) to throughput, so they get the same treatment.
* Colours are fixed per arm *name* (Okabe–Ito, colour-blind safe), identical in every chart and report.
* Data-derived text (model, engine, topology) only ever reaches Vega as data or static title strings,
  never inside a Vega expression and never as HTML.
* Params have explicit names, so ``to_json()`` is byte-identical across runs and processes.
"""

from __future__ import annotations

import hashlib
import math

import altair as alt
import pandas as pd

from . import fmt, names
from .comparison import Comparison

WIDTH = 640
HEIGHT = 320
FONT = 12
LABEL_FONT = 11
ROW_PX = 15  # vertical spacing of staggered labels
CHAR_PX = 6.3  # estimated width of one label character at LABEL_FONT, for staggering
METRIC_PARAM = "y_metric"

# Okabe & Ito (2008) colour-blind-safe palette; yellow left out (unreadable on white).
ARM_COLOURS = {"mtp": "#0072B2", "none": "#D55E00", "eagle": "#009E73", "draft": "#CC79A7"}
FALLBACK_COLOURS = ("#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#999999")
BAND_COLOUR = "#9E9E9E"
RULE_COLOUR = "#555555"
CROSSOVER_COLOUR = "#7B3294"

TOOLTIP_FORMATS = {"throughput_per_gpu": ",.1f", "cost_per_mtok": "$,.3f", "tok_s_per_mw": ",.0f"}
AXIS_TICKS = {"throughput_per_gpu": ",~s", "cost_per_mtok": "$,.2~f", "tok_s_per_mw": ",~s"}


def metric_labels(token_type: str) -> dict:
    """Human names of the plottable metrics (also the values of the metric switch and the fold)."""
    if token_type == "total":
        return {"throughput_per_gpu": "Throughput per GPU (tok/s/GPU)",
                "cost_per_mtok": "Cost per million tokens (USD)", "tok_s_per_mw": "Tokens/s per MW"}
    return {"throughput_per_gpu": "Throughput per GPU (tok/s/GPU)",
            "cost_per_mtok": f"Cost per million {token_type} tokens (USD)",
            "tok_s_per_mw": f"{token_type.capitalize()} tokens/s per MW"}


def arm_colours(arms) -> dict:
    """Arm key → colour: fixed for known arms, a stable hash of the name for others (no clash in one chart)."""
    out = {a: ARM_COLOURS[a] for a in arms if a in ARM_COLOURS}
    for arm in arms:
        if arm in out:
            continue
        start = int(hashlib.sha1(arm.encode()).hexdigest(), 16) % len(FALLBACK_COLOURS)
        for i in range(len(FALLBACK_COLOURS)):
            colour = FALLBACK_COLOURS[(start + i) % len(FALLBACK_COLOURS)]
            if colour not in out.values():
                break
        out[arm] = colour
    return {a: out[a] for a in arms}


def _colour(c: Comparison, *, legend: bool = True) -> alt.Color:
    colours = arm_colours(c.arms)
    scale = alt.Scale(domain=[names.spec_label(a) for a in c.arms], range=list(colours.values()))
    leg = alt.Legend(title="Spec decoding", labelFontSize=FONT, titleFontSize=FONT, orient="right") if legend else None
    return alt.Color("arm:N", scale=scale, legend=leg)


def _x() -> alt.X:
    return alt.X("interactivity:Q", title="Interactivity (tok/s/user)", scale=alt.Scale(type="linear", zero=True),
                 axis=alt.Axis(labelFontSize=FONT, titleFontSize=FONT + 1, grid=True))


def _title(text, subtitle: list[str]) -> alt.Title:
    return alt.Title(text=text, subtitle=subtitle, anchor="start", fontSize=15, subtitleFontSize=FONT,
                     subtitleColor="#444444", offset=10)


# ---------------------------------------------------------------------------------------------- data frames


def _available_metrics(c: Comparison) -> list[str]:
    """The y metrics that have values: cost needs a $/GPU·h rate, tok/s/MW a kW figure."""
    out = ["throughput_per_gpu"]
    if c.rate.usd_per_gpu_hour is not None:
        out.append("cost_per_mtok")
    if c.rate.kw_per_gpu is not None:
        out.append("tok_s_per_mw")
    return out


def _points_frame(c: Comparison, metrics: list[str]) -> pd.DataFrame:
    p = c.priced_points
    frame = pd.DataFrame({
        "arm": [names.spec_label(a) for a in p["spec_method"]],
        "engine": p["framework"].astype(str),
        "concurrency": p["conc"].astype(int),
        "parallelism": p["topology"].astype(str),
        "date": p["date"].astype(str),
        "on_frontier": p["on_frontier"].astype(bool),
        "interactivity": p["interactivity"].astype(float),
    })
    for m in metrics:
        frame[m] = p[m].astype(float)
    return frame


def _curves_frame(c: Comparison, metrics: list[str]) -> pd.DataFrame:
    arm = c.curves[c.curves.series == "arm"]
    frame = pd.DataFrame({"arm": [names.spec_label(a) for a in arm["arm"]],
                          "interactivity": arm["interactivity"].astype(float)})
    for m in metrics:
        frame[m] = arm[m].astype(float).to_numpy()
    return frame


def _target_values_frame(c: Comparison, metrics: list[str]) -> pd.DataFrame:
    """Each arm's value at each target where it was measured (the table's numbers, placed on the curves)."""
    rows = []
    for t in c.targets:
        for arm, v in t.arms.items():
            if not v.measured or not math.isfinite(v.throughput_per_gpu):
                continue
            row = {"arm": names.spec_label(arm), "target": f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user",
                   "interactivity": float(v.evaluated_at)}
            if v.clamped:
                row["target"] += f" (clamped to {fmt.fmt_interactivity(v.evaluated_at)})"
            for m in metrics:
                row[m] = float(getattr(v, m))
            rows.append(row)
    return pd.DataFrame(rows)


def _stagger(labels: list[tuple[float, str, str]], x_max: float) -> list[int]:
    """Row (0 = top) for each label so that no two overlap; ``(x, text, align)`` with align left/center.

    Pixel positions are estimated on the linear x domain [0, x_max]; a label never shares a row with
    one it would touch.
    """
    rows: list[list[tuple[float, float]]] = []
    out = []
    scale = WIDTH / x_max if x_max > 0 else 1.0
    for x, text, align in labels:
        w = len(text) * CHAR_PX + 8
        left = x * scale - (w / 2 if align == "center" else 0)
        span = (left, left + w)
        for i, row in enumerate(rows):
            if all(span[1] < a or span[0] > b for a, b in row):
                row.append(span)
                out.append(i)
                break
        else:
            rows.append([span])
            out.append(len(rows) - 1)
    return out


def _x_max(c: Comparison) -> float:
    xs = [float(c.priced_points["interactivity"].max())] if len(c.priced_points) else [1.0]
    return max(xs)


# ---------------------------------------------------------------------------------------------- layers


def _band_layers(c: Comparison, rows: int) -> list:
    if c.band is None:
        return []
    band = pd.DataFrame([{"low": float(c.band.low), "high": float(c.band.high),
                          "label": f"matched band {fmt.fmt_band(c.band.shown_low, c.band.shown_high)} tok/s/user"}])
    rect = alt.Chart(band).mark_rect(color=BAND_COLOUR, opacity=0.13).encode(
        x="low:Q", x2="high:Q",
        tooltip=[alt.Tooltip("label:N", title="Band")]).properties(name="band")
    label = alt.Chart(band).mark_text(align="left", baseline="top", dx=4, fontSize=LABEL_FONT, color="#555555",
                                      fontStyle="italic").encode(
        x="low:Q", y=alt.value(4 + ROW_PX * rows), text="label:N").properties(name="band_label")
    return [rect, label]


def _target_rule_layers(c: Comparison, rows: list[int]) -> list:
    if not c.targets:
        return []
    frame = pd.DataFrame({"interactivity": [float(t.interactivity) for t in c.targets],
                          "label": [f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user" for t in c.targets],
                          "row": rows})
    rule = alt.Chart(frame).mark_rule(color=RULE_COLOUR, strokeDash=[5, 4], strokeWidth=1.2).encode(
        x="interactivity:Q", tooltip=[alt.Tooltip("label:N", title="Target")]).properties(name="target_rules")
    return [rule, *_row_labels(frame, "target_labels", "#333333")]


def _row_labels(frame: pd.DataFrame, name: str, colour: str) -> list:
    """Labels centred on their x at the top of the plot, one text layer per stagger row."""
    return [alt.Chart(frame[frame["row"] == r]).mark_text(baseline="top", fontSize=LABEL_FONT, color=colour).encode(
        x="interactivity:Q", y=alt.value(4 + ROW_PX * int(r)), text="label:N").properties(name=f"{name}_{r}")
        for r in sorted(frame["row"].unique())]


def _labels_and_rows(c: Comparison) -> tuple[list[int], int]:
    """Stagger target labels (centred on their rule) and the band label (left-aligned at its start)."""
    labels = [(float(t.interactivity), f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user", "center")
              for t in c.targets]
    if c.band is not None:
        text = f"matched band {fmt.fmt_band(c.band.shown_low, c.band.shown_high)} tok/s/user"
        labels.append((float(c.band.low), text, "left"))
    rows = _stagger(labels, _x_max(c))
    if c.band is not None:
        return rows[:-1], rows[-1]
    return rows, 0


def _metric_layers(c: Comparison, metrics: list[str], labels: dict, metric_test: str, y_axis: alt.Axis) -> list:
    """Raw points, frontier curves and target markers, folded to (metric, value) and filtered by ``metric_test``."""
    fold = [labels[m] for m in metrics]
    y = alt.Y("value:Q", scale=alt.Scale(type="log"), axis=y_axis)
    colour = _colour(c)

    def folded(frame: pd.DataFrame) -> alt.Chart:
        frame = frame.rename(columns={m: labels[m] for m in metrics})
        return (alt.Chart(frame).transform_fold(fold, as_=["metric", "value"])
                .transform_filter(metric_test).transform_filter("isValid(datum.value) && datum.value > 0"))

    def tooltips(extra: list) -> list:
        return extra + [alt.Tooltip("interactivity:Q", title="Interactivity (tok/s/user)", format=",.1f")] + [
            alt.Tooltip(field=labels[m], type="quantitative", title=labels[m], format=TOOLTIP_FORMATS[m])
            for m in metrics]

    layers = []
    curves = _curves_frame(c, metrics)
    if len(curves):
        layers.append(folded(curves).mark_line(interpolate="linear", strokeWidth=2.2, clip=True).encode(
            x=_x(), y=y, color=colour, detail="arm:N").properties(name="curves"))
    points = _points_frame(c, metrics)
    point_tips = tooltips([alt.Tooltip("arm:N", title="Spec decoding"), alt.Tooltip("engine:N", title="Engine"),
                           alt.Tooltip("concurrency:Q", title="Concurrency", format=","),
                           alt.Tooltip("parallelism:N", title="Parallelism"), alt.Tooltip("date:N", title="Date"),
                           alt.Tooltip("on_frontier:N", title="On frontier")])
    base = folded(points)
    layers.append(base.transform_filter("!datum.on_frontier").mark_point(
        filled=False, size=42, opacity=0.55, strokeWidth=1.2, clip=True).encode(
        x=_x(), y=y, color=colour, tooltip=point_tips).properties(name="points_dominated"))
    layers.append(base.transform_filter("datum.on_frontier").mark_point(
        filled=True, size=50, opacity=0.95, clip=True).encode(
        x=_x(), y=y, color=colour, tooltip=point_tips).properties(name="points_frontier"))
    values = _target_values_frame(c, metrics)
    if len(values):
        layers.append(folded(values).mark_point(shape="diamond", filled=True, size=110, stroke="white",
                                                 strokeWidth=1.2, opacity=1).encode(
            x=_x(), y=y, color=_colour(c, legend=False),
            tooltip=tooltips([alt.Tooltip("arm:N", title="Spec decoding"), alt.Tooltip("target:N", title="Target")]),
        ).properties(name="target_values"))
    return layers


def _y_axis(metrics_ticks: str, title) -> alt.Axis:
    return alt.Axis(title=title, labelExpr=metrics_ticks, labelFontSize=FONT, titleFontSize=FONT + 1,
                    grid=True, gridOpacity=0.6, tickCount=6, labelOverlap="greedy")


def _subtitle(c: Comparison, extra: str) -> list[str]:
    lines = [c.config.title]
    if extra:
        lines.append(extra)
    return lines


def _message(title: str, lines: list[str], name: str) -> alt.Chart:
    """A chart that only says something (instead of an empty or misleading plot)."""
    frame = pd.DataFrame({"line": lines, "row": list(range(len(lines)))})
    return alt.Chart(frame).mark_text(align="left", baseline="top", fontSize=FONT + 1, color="#333333").encode(
        x=alt.value(8), y=alt.Y("row:O", axis=None, scale=alt.Scale(paddingOuter=0.2)), text="line:N",
    ).properties(width=WIDTH, height=max(60, 24 * len(lines)), name=name, description=f"{title}: {' '.join(lines)}",
                 title=_title(title, []), view=alt.ViewBackground(stroke=None))


def _label_expr(metric_key_expr: str, labels: dict) -> str:
    """Axis labels per metric: dollars for cost, SI-abbreviated counts otherwise (only constants inside)."""
    cost = labels["cost_per_mtok"]
    return (f"{metric_key_expr} == '{cost}' ? format(datum.value, '{AXIS_TICKS['cost_per_mtok']}') "
            f": format(datum.value, '{AXIS_TICKS['throughput_per_gpu']}')")


# ---------------------------------------------------------------------------------------------- charts


def chart_throughput(c: Comparison) -> alt.LayerChart:
    """Throughput per GPU (or cost, or tok/s per MW, via the "Y metric" select) vs interactivity.

    Layers: band shading, frontier curves, raw points (filled on the frontier, hollow when dominated),
    the table's values at each target (diamonds), and dashed target rules with staggered labels.
    The select is a Vega-Lite param ``y_metric`` whose value is the metric's display name; the data are
    folded to (metric, value) and filtered on it. Vega-Lite 6 axis titles cannot be expressions, so the
    metric name is the chart title (an expression of the param) and the y axis has no title.
    """
    metrics = _available_metrics(c)
    labels = metric_labels(c.token_type)
    param = alt.param(name=METRIC_PARAM, value=labels["throughput_per_gpu"],
                      bind=alt.binding_select(options=[labels[m] for m in metrics], name="Y metric: "))
    target_rows, band_row = _labels_and_rows(c)
    layers = _band_layers(c, band_row) + _metric_layers(
        c, metrics, labels, f"datum.metric == {METRIC_PARAM}",
        _y_axis(_label_expr(METRIC_PARAM, labels), None)) + _target_rule_layers(c, target_rows)
    extra = "Filled: frontier points; hollow: dominated points; diamonds: the table's values at each target."
    if len(metrics) < 3:
        extra += f" {_no_rate_text(c)}: cost and/or power not shown."
    title = _title({"expr": f"{METRIC_PARAM} + ' vs interactivity'"}, _subtitle(c, extra))
    return alt.layer(*layers).add_params(param).properties(
        width=WIDTH, height=HEIGHT, title=title,
        description=f"Throughput per GPU vs interactivity (log y), {c.config.title}")


def _no_rate_text(c: Comparison) -> str:
    return f"{fmt.NO_RATE} for {names.hardware_label(c.rate.gpu)} in table {c.rate.table}"


def chart_cost(c: Comparison) -> alt.LayerChart | alt.Chart:
    """Cost per million tokens (of ``c.token_type``) vs interactivity: curves, raw points, band and targets.

    Without a $/GPU·h rate for the GPU the chart is a message saying so, never an empty or zero plot.
    """
    labels = metric_labels(c.token_type)
    title = f"Cost per million {'' if c.token_type == 'total' else c.token_type + ' '}tokens vs interactivity"
    if c.rate.usd_per_gpu_hour is None:
        return _message(title, [f"{_no_rate_text(c)} ({c.rate.provider}).", c.config.title,
                                "Pass a cost table or a per-GPU override to price this configuration."],
                        name="no_rate")
    metrics = ["throughput_per_gpu", "cost_per_mtok"]
    target_rows, band_row = _labels_and_rows(c)
    cost = labels["cost_per_mtok"]
    axis = _y_axis(f"format(datum.value, '{AXIS_TICKS['cost_per_mtok']}')", cost)
    layers = _band_layers(c, band_row) + _metric_layers(c, metrics, labels, f"datum.metric == '{cost}'", axis) \
        + _target_rule_layers(c, target_rows)
    rate = (f"{c.rate.table} table, {c.rate.provider}: ${c.rate.usd_per_gpu_hour:,.2f} per "
            f"{names.hardware_label(c.rate.gpu)}-hour; lower is better.")
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=_title(title, _subtitle(c, rate)),
                                         description=f"{title} (log y), {c.config.title}")


def chart_ratio(c: Comparison) -> alt.LayerChart | alt.Chart:
    """Treatment/baseline throughput per GPU across the band, with parity (1.0), crossovers and targets."""
    base = names.spec_label(c.baseline)
    treat = " / ".join(names.spec_label(a) for a in c.arms[:-1])
    title = f"{treat} / {base} throughput per GPU across the matched band"
    ratio = c.curves[c.curves.series == "ratio"]
    if c.band is None or ratio.empty:
        why = [n for n in c.notes if "overlap" in n or "no measured points" in n or "curve" in n]
        head = (f"{treat} and {base} do not overlap in interactivity: no matched band, no ratio."
                if c.band is None else "No ratio curve for this comparison's semantics.")
        return _message(title, [head, *why, c.config.title], name="no_band")
    frame = pd.DataFrame({"arm": [names.spec_label(a) for a in ratio["arm"]],
                          "interactivity": ratio["interactivity"].astype(float),
                          "ratio": ratio["ratio"].astype(float)})
    y = alt.Y("ratio:Q", scale=alt.Scale(type="log"), title=f"{treat} ÷ {base} throughput per GPU (×)",
              axis=_y_axis("format(datum.value, '.2~f') + '×'", f"{treat} ÷ {base} throughput/GPU (×)"))
    x = alt.X("interactivity:Q", title="Interactivity (tok/s/user)",
              axis=alt.Axis(labelFontSize=FONT, titleFontSize=FONT + 1))
    colour = _colour(c, legend=len(c.arms) > 2)
    line = alt.Chart(frame).mark_line(interpolate="linear", strokeWidth=2.4).encode(
        x=x, y=y, color=colour, detail="arm:N",
        tooltip=[alt.Tooltip("arm:N", title="Arm"),
                 alt.Tooltip("interactivity:Q", title="Interactivity (tok/s/user)", format=",.1f"),
                 alt.Tooltip("ratio:Q", title=f"Ratio to {base}", format=".2f")]).properties(name="ratio")
    parity = pd.DataFrame({"ratio": [1.0], "label": ["parity (1×)"]})
    parity_rule = alt.Chart(parity).mark_rule(color="#222222", strokeWidth=1.2).encode(y="ratio:Q").properties(
        name="parity")
    parity_text = alt.Chart(parity).mark_text(align="right", baseline="bottom", dx=-4, dy=-3, fontSize=LABEL_FONT,
                                              color="#222222").encode(
        y="ratio:Q", x=alt.value(WIDTH), text="label:N").properties(name="parity_label")
    layers = [line, parity_rule, parity_text]

    labels = [(float(t.interactivity), f"{fmt.fmt_interactivity(t.interactivity)} tok/s/user", "center")
              for t in c.targets]
    labels += [(float(x.interactivity), f"crossover ~{x.interactivity:.0f} tok/s/user", "center")
               for x in c.crossovers]
    rows = _stagger(labels, float(frame["interactivity"].max()) * 1.0)
    n_targets = len(c.targets)
    layers += _target_rule_layers(c, rows[:n_targets])
    if c.targets:
        tv = pd.DataFrame([{"interactivity": float(t.interactivity), "ratio": float(t.ratio),
                            "label": fmt.fmt_ratio(t.ratio)} for t in c.targets if t.ratio is not None])
        if len(tv):
            layers.append(alt.Chart(tv).mark_point(shape="diamond", filled=True, size=90,
                                                   color=arm_colours(c.arms)[c.treatment]).encode(
                x="interactivity:Q", y="ratio:Q",
                tooltip=[alt.Tooltip("interactivity:Q", title="Target (tok/s/user)", format=",.1f"),
                         alt.Tooltip("ratio:Q", title=f"Ratio to {base}", format=".2f")]).properties(
                name="target_ratios"))
            layers.append(alt.Chart(tv).mark_text(align="left", dx=7, dy=-9, fontSize=LABEL_FONT,
                                                  fontWeight="bold", color="#222222").encode(
                x="interactivity:Q", y="ratio:Q", text="label:N").properties(name="target_ratio_labels"))
    if c.crossovers:
        cross = pd.DataFrame({"interactivity": [float(x.interactivity) for x in c.crossovers],
                              "label": [f"crossover ~{x.interactivity:.0f} tok/s/user" for x in c.crossovers],
                              "leader": [f"{names.spec_label(x.leader_above)} leads above" for x in c.crossovers],
                              "row": rows[n_targets:]})
        layers.append(alt.Chart(cross).mark_rule(color=CROSSOVER_COLOUR, strokeWidth=1.6).encode(
            x="interactivity:Q", tooltip=[alt.Tooltip("label:N", title="Crossover"),
                                          alt.Tooltip("leader:N", title="Winner")]).properties(name="crossovers"))
        layers += _row_labels(cross, "crossover_labels", CROSSOVER_COLOUR)
    sub = f"Above 1×: {treat} delivers more throughput per GPU than {base} at the same interactivity."
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=_title(title, _subtitle(c, sub)),
                                         description=f"{title} (log y), {c.config.title}")


def report_charts(c: Comparison) -> dict:
    """The report's three charts, by name."""
    return {"throughput": chart_throughput(c), "cost": chart_cost(c), "ratio": chart_ratio(c)}
