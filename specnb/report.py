"""Report sections as displayable HTML fragments, one function per section of the report notebook.

Every function reads a ``Comparison`` and returns an object Jupyter displays (``_repr_html_``), so a
notebook cell is one call. Every data-derived string goes through ``html.escape``; trusted markup is
only ever built here. ``comparison_output`` carries the machine-readable result out of the kernel
for the build (``comparison.json`` and ``comparison.csv`` come from it, so they are what the report shows).
"""

from __future__ import annotations

import base64
import html
import json
import re

import pandas as pd

from . import fmt, names, narrative, support
from .comparison import Comparison
from .table import comparison_html

# Text, not a +json mimetype: nbformat re-orders JSON outputs' keys when a notebook is written, and
# comparison.json must be the same bytes whether the notebook went through a file or not.
COMPARISON_MIME = "text/x.specnb.comparison-json"
CSV_MIME = "text/csv"
SUMMARY_MIME = "application/vnd.specnb.summary+json"


class Fragment:
    """Trusted HTML built by this module (data strings inside are already escaped)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        """The section as plain text: a notebook's text/plain fallback, the same in every run."""
        text = html.unescape(re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", self.markup, flags=re.S))
        return " ".join(text.split())


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def header(c: Comparison) -> Fragment:
    """Title, subtitle and the headline numbers at mid-band."""
    cfg = c.config
    family = names.GPU_FAMILY.get(cfg.hardware, "")
    sub = (f"{_e(names.model_label(cfg.model))} · {_e(names.hardware_label(cfg.hardware))}"
           f"{' (' + _e(family) + ')' if family else ''} · {_e(cfg.precision.upper())} · "
           f"ISL/OSL {_e(cfg.sequence)}"
           + (f" · {_e(c.percentile)} latencies" if c.percentile != "median" else "")
           + (f" · data as of {_e(c.as_of)}" if c.as_of else ""))
    cards = []
    if c.comparable:
        mid = c.targets[len(c.targets) // 2]
        t, b = c.treatment, c.baseline
        vt, vb = mid.arms[t], mid.arms[b]
        if vt.measured and vb.measured:
            cards.append(("Throughput per GPU", (f"{fmt.fmt_ratio(mid.ratio)}" if mid.ratio else fmt.NOT_MEASURED)
                          + (_THIN if mid.sparse_arms else ""),
                          f"{_e(names.spec_label(t))} {_e(fmt.fmt_throughput(vt.throughput_per_gpu, decimals=0))} vs "
                          f"{_e(names.spec_label(b))} {_e(fmt.fmt_throughput(vb.throughput_per_gpu, decimals=0))} "
                          f"tok/s/GPU{_trust_lines(mid)}"))
            usd, kw = c.rate.usd_per_gpu_hour is not None, c.rate.kw_per_gpu is not None
            cards.append((f"Cost per million {c.token_type} tokens",
                          f"{_e(fmt.fmt_cost(vt.cost_per_mtok, rated=usd))} vs "
                          f"{_e(fmt.fmt_cost(vb.cost_per_mtok, rated=usd))}",
                          f"{_e(names.spec_label(t))} vs {_e(names.spec_label(b))}"))
            cards.append((f"{_e(names.spec_label(t))} tokens per second per MW (provisioned)",
                          _e(fmt.fmt_power(vt.tok_s_per_mw, rated=kw)),
                          f"vs {_e(names.spec_label(b))} {_e(fmt.fmt_power(vb.tok_s_per_mw, rated=kw))}"))
        cross = ", ".join(f"~{x.interactivity:.0f}" for x in c.crossovers) or "none"
        cards.append(("Matched band", f"{_e(fmt.fmt_band(round(c.band.shown_low, 1), round(c.band.shown_high, 1)))}",
                      f"tok/s/user · crossover: {_e(cross)}"))
    card_html = "".join(f'<div class="specnb-card"><div class="k">{k}</div><div class="v">{v}</div>'
                        f'<div class="s">{s}</div></div>' for k, v, s in cards)
    return Fragment(
        f'<header class="specnb-header"><h1>{_e(c.title)}</h1><p class="specnb-sub">{sub}</p>'
        f'<p class="specnb-headline">{_e(narrative.headline(c))}</p>'
        f'<div class="specnb-cards">{card_html}</div></header>')


_THIN = f' <span style="color:#a15c00;font-weight:400" title="thin data">{fmt.THIN_MARK}</span>'


def _trust_lines(mid) -> str:
    """Under the headline ratio: its leave-one-out range where wide, and a thin-data note where it applies."""
    out = ""
    r = mid.ratio_range
    if r is not None and r.wide:
        out += f"<br>{_e(fmt.fmt_ratio_range(r.low, r.high))} if any one measurement is dropped"
    if mid.sparse_arms:
        out += f"<br>{fmt.THIN_MARK} thin data: an estimate (see Findings)"
    return out


def caveat(c: Comparison) -> Fragment:
    """The cross-engine caveat box (empty when the arms' frontier engines agree)."""
    text = narrative.caveat(c)
    if not text:
        return Fragment('<div class="specnb-nocaveat"></div>')
    return Fragment(f'<aside class="specnb-caveat"><strong>Different engines.</strong> {_e(text)}</aside>')


def story(c: Comparison) -> Fragment:
    """The narrative paragraphs, then thin-data notes."""
    paras = "".join(f"<p>{_e(p)}</p>" for p in narrative.paragraphs(c))
    notes = "" if not c.comparable else "".join(f'<p class="specnb-note">Note: {_e(n)}</p>' for n in c.notes)
    return Fragment(f'<section class="specnb-narrative">{paras}{notes}</section>')


def table(c: Comparison) -> Fragment:
    return Fragment(comparison_html(c, include_css=True))


def methodology(c: Comparison) -> Fragment:
    """How the numbers were made and from what: semantics, constants, files, runs, frontier points."""
    rate = c.rate
    usd = f"${rate.usd_per_gpu_hour:g}/GPU-hour" if rate.usd_per_gpu_hour is not None else fmt.NO_RATE
    kw = f"{rate.kw_per_gpu:g} kW/GPU" if rate.kw_per_gpu is not None else fmt.NO_RATE
    if c.semantics == "specnb":
        sem = ("specnb semantics: the band is the overlap of the two frontiers' interactivity ranges; targets sit "
               "at 25/50/75 % of it; values come from a d3-identical monotone (Steffen) spline through each "
               "frontier and are never extrapolated.")
    else:
        sem = ("inferencex semantics (reproducing the public dashboard): band from the raw points' ranges, targets "
               "clamped to the frontier ends and flagged, values clamped to the knots' range, two-knot end slopes "
               "1.5·s and 0.75·s.")
    prov = c.provenance
    files = "".join(f"<li><code>{_e(f['path'])}</code> <span class='h'>sha256 {_e(f['sha256'][:12])}</span></li>"
                    for f in prov.get("files", []))
    runs = ", ".join(str(r) for r in prov.get("runs", [])) or "—"
    dates = " to ".join(prov.get("dates", [])) or "—"
    rows = []
    for arm in c.arms:
        f = c.frontiers[arm]
        for r in f.points.itertuples():
            rows.append(f"<tr><td>{_e(names.spec_label(arm))}</td><td>{_e(r.framework)}</td><td>{_e(r.topology)}</td>"
                        f"<td>{_e(fmt.DASH if pd.isna(r.conc) else r.conc)}</td><td>{r.interactivity:.2f}</td>"
                        f"<td>{r.throughput_per_gpu:.1f}</td>"
                        f"<td>{_e(r.date or '—')}</td><td><code>{_e(r.source)}</code></td></tr>")
    frontier_table = ('<table class="specnb-table specnb-frontier"><thead><tr><th>Arm</th><th>Engine</th>'
                      '<th>Parallelism</th><th>Conc.</th><th>tok/s/user</th><th>tok/s/GPU</th><th>Date</th>'
                      f'<th>Source</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return Fragment(
        '<section class="specnb-methodology">'
        f"<p>{_e(sem)} Cost per million tokens = $/GPU-hour × 10⁶ / (throughput × 3600), from the interpolated "
        "throughput; tok/s per MW = throughput × 1000 / kW per GPU. All frameworks of an arm are pooled into one "
        f"Pareto frontier of throughput per GPU against interactivity (1 / {_e(c.percentile)} TPOT).</p>"
        f"{_rows_paragraph(c)}{_energy_paragraph(c)}"
        f"<p><strong>Constants:</strong> table {_e(rate.table)}, provider {_e(rate.provider)}: {_e(usd)}, {_e(kw)} "
        f"({_e(names.hardware_label(rate.gpu))}); token type {_e(c.token_type)}.</p>"
        f"<p><strong>Data:</strong> {prov.get('points', 0)} points (latest per line and concurrency"
        f"{', as of ' + _e(c.as_of) if c.as_of else ''}), dated {_e(dates)}; "
        f"GitHub runs {_e(runs)}. Model ids read as {_e(names.model_label(c.config.model))}: "
        f"{_e(', '.join(prov.get('model_ids', [])) or '—')}.</p><ul class='specnb-files'>{files}</ul>"
        f"{_support_method(c)}"
        f"<p><strong>Frontier points</strong> (the knots every number above is interpolated between):</p>"
        f"{frontier_table}</section>")


def _support_method(c: Comparison) -> str:
    """How grades and ratio ranges are made, the thin stretches of these frontiers, and each target's range."""
    factor = f"{support.SPARSE_FACTOR:g}×"
    rule = (f"<p><strong>Support and ranges.</strong> Each value is read off its arm's frontier between the "
            "nearest measured points on either side (the table's last row). Within "
            f"{support.MEASURED_TOLERANCE * 100:g} % of a measured point's interactivity it is <em>measured</em>; "
            f"between points whose throughputs differ by more than {factor} it is <em>thin data</em> "
            f"({fmt.THIN_MARK}), as is a value clamped to a frontier end (nothing measured on one side); otherwise it "
            "is <em>interpolated</em>. "
            "A frontier falls monotonically, so two measurements say only that the throughput between them lies "
            f"between theirs: within {factor} that pins a value down whatever the curve's shape, beyond it the curve "
            "there is an estimate (the width of the gap alone says less: a wide gap over a flat stretch is still "
            "pinned down). The ratio's range drops each frontier point of either arm in turn, recomputes that arm's "
            "frontier from its remaining points (a point the dropped one dominated may then join it), refits the "
            "curve and reads the ratio again at the same interactivity; variants that no longer reach it are "
            f"skipped. The range is stated with the ratio when its ends differ by more than "
            f"{support.WIDE_RANGE_FACTOR:g}×.</p>")
    stretches = []
    for arm in c.arms:
        f = c.frontiers[arm]
        for left, right in c.sparse_segments[arm]:
            i = int((f.x == left).argmax())
            stretches.append(f"{_e(names.spec_label(arm))} {_e(fmt.fmt_knot_interactivity(left))}–"
                             f"{_e(fmt.fmt_knot_interactivity(right))} tok/s/user "
                             f"({_e(fmt.fmt_throughput(f.y[i], decimals=0))} → "
                             f"{_e(fmt.fmt_throughput(f.y[i + 1], decimals=0))} tok/s/GPU)")
    thin = ("<p><strong>Thin stretches</strong> (drawn dashed in the charts): " + "; ".join(stretches) + ".</p>"
            if stretches else f"<p>No thin stretches: every pair of neighbouring frontier points is within {factor} "
            "in throughput.</p>")
    ranges = [f"{_e(fmt.fmt_interactivity(t.interactivity))} tok/s/user: {_e(fmt.fmt_ratio(t.ratio))}, "
              f"{_e(fmt.fmt_ratio_range(t.ratio_range.low, t.ratio_range.high))} ({t.ratio_range.refits} refits"
              + (f", {t.ratio_range.skipped} no longer reaching it" if t.ratio_range.skipped else "") + ")"
              for t in c.targets if t.ratio_range is not None]
    label = f"{_e(names.spec_label(c.treatment))}/{_e(names.spec_label(c.baseline))}"
    return rule + thin + (f"<p><strong>{label} ratio without any one measurement:</strong> "
                          + "; ".join(ranges) + ".</p>" if ranges else "")


def _rows_paragraph(c: Comparison) -> str:
    """Which rows the numbers read: the latency percentile and the as-of day."""
    p = _e(c.percentile)
    if c.percentile == "median":
        pct = ("<strong>Percentile:</strong> median. Interactivity is the benchmark's median interactivity, 1 / median "
               "TPOT (time per output token after the first, per request); TTFT and E2E latency are medians too. "
               "<code>--percentile p90</code> or <code>p99</code> reads every latency at that percentile instead.")
    else:
        pct = (f"<strong>Percentile:</strong> {p}. Interactivity is 1 / {p} TPOT — the speed {p[1:]} % of requests "
               f"meet or beat, not the typical one — and TTFT and E2E latency are the {p} too, so the comparison is at "
               f"matched tail latency. Points that do not record the {p} TPOT are left out (the notes say how many); "
               "they are never mixed with median points on one curve.")
    if c.as_of:
        when = (f"<strong>As of {_e(c.as_of)}:</strong> rows dated after that day are left out, then the newest row "
                "per line and concurrency is used, so the numbers are those the data gave on that day. A CI aggregate "
                "row without a date counts from the date of the first dated run after its own (GitHub run ids grow "
                "with time); a row that cannot be dated counts only without an as-of date.")
    else:
        when = ("<strong>As of:</strong> the latest data: every row loaded, the newest row per line and concurrency "
                "used (<code>--as-of YYYY-MM-DD</code> reproduces the report as the data stood on a past day).")
    return f"<p>{pct}</p><p>{when}</p>"


def _energy_paragraph(c: Comparison) -> str:
    """Provisioned power (the cost table) against measured energy (the benchmark's power readings)."""
    text = ("<strong>Power:</strong> tok/s per MW is <em>provisioned</em>: the cost table's all-in kW per GPU (a "
            "datacenter model's figure), not a measurement. ")
    if c.energy_measured:
        text += ("Where a run recorded the GPUs' average power, the table also shows <em>measured</em> energy per "
                 "token: the run's <code>joules_per_total_token</code>, or, where only <code>avg_power_w</code> is "
                 "given, avg_power_w / throughput per GPU (W per GPU ÷ tok/s per GPU = J per token); it is "
                 "interpolated over the frontier points that carry it, like every other metric, and reads \"not "
                 "measured\" outside them. It counts the GPUs' own power only, so it is lower than the provisioned "
                 "kW implies.")
    else:
        text += "No frontier point of this configuration records measured power, so no measured energy is shown."
    return f"<p>{text}</p>"


def _data_uri(text: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(text.encode('utf-8')).decode('ascii')}"


def comparison_json_text(c: Comparison) -> str:
    """The canonical ``comparison.json`` text (sorted keys are not used: SPEC key order is kept)."""
    return json.dumps(c.to_dict(), indent=1, ensure_ascii=False) + "\n"


def comparison_csv_text(c: Comparison) -> str:
    from .csvfiles import frame_to_csv

    return frame_to_csv(c.to_frame())


def downloads(c: Comparison) -> Fragment:
    """Links that download the table as CSV and the comparison as JSON, embedded (no server needed)."""
    slug = _e(c.config.slug)
    csv_uri = _data_uri(comparison_csv_text(c), "text/csv")
    json_uri = _data_uri(comparison_json_text(c), "application/json")
    return Fragment(f'<p class="specnb-downloads">Download: <a download="{slug}-comparison.csv" href="{csv_uri}">'
                    f'table as CSV</a> · <a download="{slug}-comparison.json" href="{json_uri}">comparison as JSON</a>'
                    "</p>")


def history(h) -> Fragment:
    """The history section (``h``: the comparison's ``trends.Trend``): one sentence on how the mid-band ratio moved
    over the data's dates, the dates it rests on, and any note on undated rows."""
    dates = [d for d in h.dates if d]
    when = (f"<p class=\"specnb-note\">{len(dates)} dates on which this configuration's data changed, "
            f"{_e(dates[0])} to {_e(dates[-1])}; at each, the comparison as the data stood that day (rows dated after "
            "it left out, then the newest row per line and concurrency), read at this report's targets.</p>"
            if len(dates) > 1 else "")
    notes = "".join(f'<p class="specnb-note">Note: {_e(n)}</p>' for n in h.notes)
    return Fragment(f'<section class="specnb-history"><p>{_e(narrative.trend_sentence(h))}</p>{when}{notes}'
                    "</section>")


def history_chart(h):
    """The ratio at the report's targets over time (``charts.chart_trend``); nothing with fewer than two dates
    (``history`` says so in words)."""
    if len([d for d in h.dates if d]) < 2 or all(p.ratio is None for p in h.points):
        return Fragment('<div class="specnb-nohistory"></div>')
    from .charts import chart_trend

    return chart(chart_trend(h))


class MachineOutput:
    """A cell output that carries ``comparison.json`` and the CSV out of the kernel, invisible in the report;
    with the report's history (a ``trends.Trend``), the index's trend column too."""

    def __init__(self, c: Comparison, history=None):
        self.c = c
        self.history = history

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .suite import index_numbers

        text = comparison_json_text(self.c)
        # what the suite's index shows, kept in suite.json too: a build without JSON files still has it
        summary = {"headline": narrative.headline(self.c), "engines_differ": self.c.engines_differ,
                   **index_numbers(json.loads(text)),
                   "trend": self.history.index_entry() if self.history is not None else None}
        return {COMPARISON_MIME: text, CSV_MIME: comparison_csv_text(self.c),
                SUMMARY_MIME: summary, "text/plain": f"<specnb comparison {self.c.config.slug}>"}


def machine_output(c: Comparison, history=None) -> MachineOutput:
    return MachineOutput(c, history)


def run_metadata(meta: dict) -> Fragment:
    """The single non-deterministic block of a report: when and with what it was built."""
    items = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in sorted((meta or {}).items()))
    return Fragment(f'<footer class="specnb-run-metadata" data-specnb-run-metadata="1">{items or "—"}</footer>')


class ChartOutput:
    """An Altair chart displayed as a plain Vega-Lite mime bundle: deterministic (no random element ids,
    unlike Altair's default HTML renderer) and picked up by specnb's exporters (interactive in HTML, SVG in PDF)."""

    def __init__(self, chart):
        self.chart = chart

    def _repr_mimebundle_(self, include=None, exclude=None):
        import altair as alt

        major = alt.SCHEMA_VERSION.lstrip("v").split(".")[0]
        spec = self.chart.to_dict(validate=False)  # tests/test_charts.py validates every report chart
        return {f"application/vnd.vegalite.v{major}+json": spec,
                "text/plain": f"<chart: {spec.get('description', 'chart')}>"}


def chart(c_chart) -> ChartOutput:
    """Wrap an Altair chart for the report notebook (see ``ChartOutput``)."""
    return ChartOutput(c_chart)
