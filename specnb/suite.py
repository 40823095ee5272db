"""The suite index: every configuration's status, headline and links, and the cross-configuration view.

Reads ``suite.json`` (written by ``specnb build``) and each report's ``comparison.json``; it computes
nothing new — the mid-band ratio, its leave-one-out range and its arms' support grades are the ones each
comparison recorded. A ratio resting on thin data is marked ``†`` and left off the heatmap's colour scale
(drawn grey), so a guess is never the darkest cell.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from . import fmt, names
from .report import Fragment
from .support import SPARSE_FACTOR, WIDE_RANGE_FACTOR
from .trends import WINDOW_DAYS, window_change

SUITE_FILE = "suite.json"


@dataclass(frozen=True)
class Suite:
    root: Path
    entries: tuple  # dicts from suite.json, with "comparison" (dict or None) attached
    options: dict  # the options every report was built with
    mixed: tuple = ()  # options that differ between reports (each entry's "options" has its own)
    since: dict | None = None  # the --since diff page's summary (diffpage.since_summary), when the build wrote one

    @property
    def newest_date(self) -> str | None:
        """The day the trend column's window ends: the build's as-of day, else the newest date of any report's
        history."""
        if self.options.get("as_of"):
            return self.options["as_of"]
        dates = [p["date"] for e in self.entries for p in ((e.get("trend") or {}).get("points") or []) if p["date"]]
        return max(dates, default=None)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def load_suite(reports_dir) -> Suite:
    root = Path(reports_dir)
    doc = json.loads((root / SUITE_FILE).read_text(encoding="utf-8"))
    entries = []
    for entry in doc.get("entries", []):
        comp = None
        if entry.get("status") == "ok" and "comparison.json" in entry.get("files", []):  # its own, never a stale one
            comp = json.loads((root / entry["slug"] / "comparison.json").read_text(encoding="utf-8"))
        elif entry.get("status") == "ok" and entry.get("mid") is not None:  # built without comparison.json
            comp = {"targets": [entry["mid"]], "crossovers": entry.get("crossovers", [])}
        entries.append({**entry, "comparison": comp})
    return Suite(root, tuple(entries), doc.get("options", {}), tuple(doc.get("mixed_options", ())),
                 doc.get("since"))


def mid_target(comp: dict) -> dict | None:
    targets = comp.get("targets") or []
    return targets[len(targets) // 2] if targets else None


def index_numbers(comp: dict) -> dict:
    """The numbers of a ``comparison.json`` that the index shows (kept in its suite entry): the mid-band target
    trimmed to its interactivity, ratio, ratio range and each arm's support grade, in the same shape."""
    mid = mid_target(comp)
    if mid is None:
        return {"mid": None, "crossovers": list(comp.get("crossovers", []))}
    grades = {a: {"support": {"grade": (v.get("support") or {}).get("grade")}} for a, v in mid.get("arms", {}).items()}
    return {"mid": {"interactivity": mid["interactivity"], "ratio": mid.get("ratio"),
                    "ratio_range": mid.get("ratio_range"), "arms": grades},
            "crossovers": list(comp.get("crossovers", []))}


def thin(mid: dict | None) -> bool:
    """Whether a recorded target's ratio rests on thin data (an arm's support grade is "sparse")."""
    return any((v.get("support") or {}).get("grade") == "sparse" for v in ((mid or {}).get("arms") or {}).values())


def wide_range(mid: dict | None) -> dict | None:
    """A recorded target's ratio range when its ends differ by more than ``WIDE_RANGE_FACTOR``, else None."""
    r = (mid or {}).get("ratio_range")
    return r if r and r.get("low") and r["high"] > WIDE_RANGE_FACTOR * r["low"] else None


_MARK = f'<span style="color:#a15c00" title="thin data">{fmt.THIN_MARK}</span>'
LEGEND = (f"{fmt.THIN_MARK} thin data: at mid-band one arm's value is read between measurements more than "
          f"{SPARSE_FACTOR:g}× apart in throughput (or beyond its last one), so the ratio is an estimate; the heatmap "
          "draws it grey, off the colour scale. A range under a ratio is where it moves if any single measurement "
          "is dropped.")


OPTION_WORDS = {  # how the index names each build option's value (None: the default, said only when mixed)
    "cost_table": lambda v: f"cost table {v}", "provider": str, "token_type": lambda v: f"{v} tokens",
    "semantics": lambda v: f"{v} semantics", "percentile": lambda v: f"{v} latencies",
    "as_of": lambda v: f"data as of {v}" if v else "latest data",
    "targets": lambda v: f"targets {', '.join(f'{t:g}' for t in v)}" if v else "targets at 25/50/75 % of the band",
    "gpu_cost": lambda v: f"${v:g}/GPU-h (--gpu-cost)" if v is not None else "the table's $/GPU-h",
    "gpu_kw": lambda v: f"{v:g} kW/GPU (--gpu-kw)" if v is not None else "the table's kW/GPU",
}
QUIET = {"percentile": "median", "as_of": None, "targets": None, "gpu_cost": None, "gpu_kw": None}
"""Values the header leaves unsaid when every report has them."""


def option_words(options: dict, keys) -> list[str]:
    """``options``' values for ``keys``, in words (a report built before options were recorded: "?")."""
    return [OPTION_WORDS[k](options[k]) if k in options else f"{k.replace('_', ' ')} ?" for k in keys]


def header(s: Suite) -> Fragment:
    ok = sum(e["status"] == "ok" for e in s.entries)
    failed = [e for e in s.entries if e["status"] != "ok"]
    shared = [k for k in OPTION_WORDS if k not in s.mixed and s.options.get(k, "?") != QUIET.get(k, "?")]
    desc = " · ".join([f"{ok} report{'s' if ok != 1 else ''} built" + (f", {len(failed)} failed" if failed else ""),
                       *option_words(s.options, shared)]
                      + ([f"mixed options: {', '.join(k.replace('_', ' ') for k in s.mixed)} differ between reports "
                          "(each row says its own)"] if s.mixed else []))
    return Fragment(f'<header class="specnb-header"><h1>specnb: MTP vs Off across the suite</h1>'
                    f'<p class="specnb-sub">{_e(desc)}</p>{_since_line(s.since)}</header>')


def _since_line(since: dict | None) -> str:
    """The link to the ``--since`` diff page, with its counts."""
    if not since:
        return ""
    counts = since.get("counts", {})
    tally = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("changed", "added", "removed", "unchanged"))
    return (f'<p class="specnb-headline"><a href="{_e(since["page"])}">What changed since '
            f'{_e(", ".join(since.get("old", [])))}</a>: {_e(tally)}.</p>')


def index_table(s: Suite) -> Fragment:
    rows = []
    end = s.newest_date
    for e in s.entries:
        cfg = e["config"]
        name = _e(f"{names.hardware_label(cfg['hardware'])} {cfg['precision'].upper()} · "
                  f"{names.model_label(cfg['model'])} · {names.sequence_label(cfg['isl'], cfg['osl'])}")
        if s.mixed:  # a partial rebuild with other options: this report's own
            name += (f'<br><span class="specnb-options" style="color:#5f6670;font-size:.85em">'
                     f'{_e(" · ".join(option_words(e.get("options", {}), s.mixed)))}</span>')
        if e["status"] != "ok":
            rows.append(f'<tr class="failed"><td>{name}</td><td colspan="{4 + bool(s.since)}" class="err">failed: '
                        f'{_e(e.get("error", "unknown error"))}</td><td>'
                        + (f'<a href="{_e(e["slug"])}/failed.ipynb">notebook</a>' if e.get("failed_notebook") else "")
                        + "</td></tr>")
            continue
        comp = e["comparison"] or {}
        mid = mid_target(comp)
        ratio = f"{fmt.fmt_ratio(mid['ratio'])}" if mid and mid.get("ratio") else "—"
        at = f" at {fmt.fmt_interactivity(mid['interactivity'])}" if mid else ""
        mark = _MARK if mid and mid.get("ratio") and thin(mid) else ""
        r = wide_range(mid) if mid and mid.get("ratio") else None
        spread = (f'<br><span style="color:#5f6670;font-size:.85em">{_e(fmt.fmt_ratio_range(r["low"], r["high"]))}'
                  "</span>" if r else "")
        # no matched comparison: no crossovers were looked for, so "none" would claim too much
        cross = (", ".join(f"~{x:.0f}" for x in comp.get("crossovers", [])) or "none") if mid else "—"
        links = " · ".join(f'<a href="{_e(e["slug"])}/{_e(f)}">{_e(f.split(".")[-1].upper())}</a>'
                           for f in e.get("files", []))
        rows.append(f"<tr><td>{name}</td><td class='num'>{_e(ratio)}{mark}{_e(at)}{spread}</td>"
                    f"<td>{trend_cell(e.get('trend'), end)}</td>"
                    + (f"<td>{since_cell(s.since, e['slug'])}</td>" if s.since else "")
                    + f"<td class='num'>{_e(cross)}</td>"
                    f"<td>{_e(e.get('headline', ''))}</td><td>{links}</td></tr>")
    legend = (f'<p class="specnb-note">{_e(LEGEND)}</p>'
              if any(e["status"] == "ok" and thin(mid_target(e["comparison"] or {})) for e in s.entries) else "")
    since_head = (f"<th>Since {_e(', '.join(s.since.get('old', [])))}</th>" if s.since else "")
    trend_note = ('<p class="specnb-note">Trend: the mid-band ratio on every day the data changed (hollow: thin '
                  f"data); the arrow compares it as of {_e(end)} with the value {WINDOW_DAYS} days earlier.</p>"
                  if end else "")
    return Fragment('<table class="specnb-table specnb-index"><thead><tr><th>Configuration</th>'
                    f'<th>MTP/Off throughput (mid-band, tok/s/user)</th><th>Trend, last {WINDOW_DAYS} days</th>'
                    f'{since_head}<th>Crossover (tok/s/user)</th>'
                    f'<th>Headline</th><th>Report</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
                    f"{legend}{trend_note}")


SPARK_WIDTH, SPARK_HEIGHT = 96, 24


def sparkline(points: list[dict]) -> str:
    """A ratio series (``[{"date", "ratio", "grade"}]``) as a small inline SVG: x by date, y on a log scale,
    a step line (each value holds until the next date), a dot per date, hollow on thin data."""
    import datetime as dt
    import math

    known = [p for p in points if p.get("ratio") and p.get("date")]
    if len(known) < 2:
        return ""
    days = [dt.date.fromisoformat(p["date"]).toordinal() for p in known]
    logs = [math.log(p["ratio"]) for p in known]
    span_x, low = max(days[-1] - days[0], 1), min(logs)
    span_y = max(max(logs) - low, 1e-9)
    pad = 3

    def xy(i):
        return (pad + (days[i] - days[0]) / span_x * (SPARK_WIDTH - 2 * pad),
                SPARK_HEIGHT - pad - (logs[i] - low) / span_y * (SPARK_HEIGHT - 2 * pad))

    steps = []
    for i in range(len(known)):
        x, y = xy(i)
        if i:
            steps.append(f"{x:.1f},{xy(i - 1)[1]:.1f}")
        steps.append(f"{x:.1f},{y:.1f}")
    dots = "".join(f'<circle cx="{xy(i)[0]:.1f}" cy="{xy(i)[1]:.1f}" r="1.9" stroke="#0072B2" stroke-width="1" '
                   f'fill="{"white" if p.get("grade") == "sparse" else "#0072B2"}"><title>{_e(p["date"])}: '
                   f'{_e(fmt.fmt_ratio(p["ratio"]))}{" (thin data)" if p.get("grade") == "sparse" else ""}</title>'
                   "</circle>" for i, p in enumerate(known))
    return (f'<svg class="specnb-spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" '
            f'aria-label="mid-band ratio from {_e(known[0]["date"])} to {_e(known[-1]["date"])}" '
            f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" style="vertical-align:middle;max-width:none">'  # own size
            f'<polyline points="{" ".join(steps)}" fill="none" stroke="#0072B2" stroke-width="1.2" opacity="0.7"/>'
            f"{dots}</svg>")


def trend_cell(trend: dict | None, end: str | None) -> str:
    """A report's history in the index: the sparkline and the change over the last ``WINDOW_DAYS`` days up to
    ``end`` (``trends.window_change``), as an arrow and a percentage; one date only says so."""
    if not trend:  # a report built without its history (a notebook of one's own)
        return fmt.DASH
    points = trend.get("points") or []
    dated = [p for p in points if p.get("date")]
    if len({p["date"] for p in dated}) < 2:
        return f'<span class="specnb-note">one date{" (" + _e(dated[0]["date"]) + ")" if dated else ""}</span>'
    move = window_change(points, end)
    if move is None:
        return sparkline(points) or fmt.DASH
    if move["same_point"] or abs(move["change"]) < 0.01:
        arrow, words = "→", ("no new data" if move["same_point"] else "no change")
    else:
        arrow = "↑" if move["change"] > 0 else "↓"
        words = f"{'+' if move['change'] > 0 else '−'}{abs(move['change']) * 100:.0f} %"
    since = f" since {move['from']['date']}" if move["since_start"] else ""
    detail = f"{fmt.fmt_ratio(move['from']['ratio'])} → {fmt.fmt_ratio(move['to']['ratio'])}"
    return (f"{sparkline(points)}<br><span style=\"white-space:nowrap\" title=\"{_e(detail)}: as of "
            f"{_e(move['from']['date'])} and of {_e(move['to']['date'])}\">{_e(arrow)} {_e(words)}{_e(since)}</span>"
            f'<br><span style="color:#5f6670;font-size:.85em;white-space:nowrap">{_e(detail)}</span>')


def since_cell(since: dict, slug: str) -> str:
    """A configuration's change since the previous data set, linked to its section of the diff page."""
    item = (since.get("changes") or {}).get(slug)
    if item is None:
        return fmt.DASH
    kind = item["change"]
    ratios = (f"{fmt.fmt_ratio(item['old'])} → {fmt.fmt_ratio(item['new'])}"
              if item.get("old") and item.get("new") else "")
    target = f"{since['page']}#{slug}" if kind == "changed" else f"{since['page']}#row-{slug}"
    return f'<a href="{_e(target)}">{_e(kind)}</a>' + (f"<br><span style='font-size:.85em'>{_e(ratios)}</span>"
                                                       if kind == "changed" and ratios else "")


def ratio_records(s: Suite) -> list[dict]:
    """One record per built configuration: hardware, precision, sequence and its recorded mid-band ratio.

    ``row`` names the configuration's row in the cross-configuration views: its hardware, led by the model when
    the suite holds more than one (so two models' B200 FP8 8k/1k never share a cell)."""
    models = {e["config"]["model"] for e in s.entries}
    out = []
    for e in s.entries:
        comp = e.get("comparison")
        mid = mid_target(comp) if comp else None
        cfg = e["config"]
        out.append({"hardware": names.hardware_label(cfg["hardware"]), "precision": cfg["precision"].upper(),
                    "sequence": names.sequence_label(cfg["isl"], cfg["osl"]), "model": names.model_label(cfg["model"]),
                    "row": names.hardware_label(cfg["hardware"]) if len(models) < 2 else
                    f"{names.model_label(cfg['model'])} · {names.hardware_label(cfg['hardware'])}",
                    "ratio": mid.get("ratio") if mid else None,
                    "interactivity": mid.get("interactivity") if mid else None, "slug": e["slug"],
                    "thin": thin(mid), "range": fmt.fmt_ratio_range(r["low"], r["high"])
                    if (r := (mid or {}).get("ratio_range")) else fmt.DASH})
    return out


def chart_heatmap(s: Suite):
    import altair as alt
    import pandas as pd

    frame = pd.DataFrame(ratio_records(s), columns=["hardware", "precision", "sequence", "model", "row", "ratio",
                                                    "interactivity", "slug", "thin", "range"])
    frame = frame[frame.ratio.notna()]
    if frame.empty:
        return alt.Chart(pd.DataFrame({"t": ["no comparable configurations"]})).mark_text().encode(text="t:N")
    frame["column"] = frame["precision"] + " · " + frame["sequence"]
    frame["label"] = [fmt.fmt_ratio(r) + (fmt.THIN_MARK if t else "") for r, t in zip(frame.ratio, frame.thin,
                                                                                      strict=True)]
    frame["data"] = ["thin data (estimate)" if t else "supported" for t in frame.thin]
    base = alt.Chart(frame).encode(
        x=alt.X("column:N", title="precision · ISL/OSL", sort="ascending", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("row:N", title=None, sort="ascending", axis=alt.Axis(labelLimit=260)))
    # Symmetric around 1 on the log scale, so 1 is white, MTP ahead is blue and behind is red, whatever the
    # data's own extent (a suite of one report, or all above 1, must not paint a 2.8x lead white or red).
    # The scale spans the well-supported ratios only: a ratio on thin data is drawn grey, so an estimate (a
    # 28x read off a straight line across a 170-fold drop) neither becomes the darkest cell nor washes out the rest.
    scaled = frame[~frame.thin] if (~frame.thin).any() else frame
    reach = max(float(scaled.ratio.max()), 1 / float(scaled.ratio.min()), 1.1)
    scale = alt.Scale(type="log", scheme="redblue", domain=[1 / reach, reach], domainMid=1, clamp=True)
    tooltip = [alt.Tooltip("model:N"), alt.Tooltip("hardware:N"), alt.Tooltip("column:N", title="config"),
               alt.Tooltip("ratio:Q", format=".2f", title="MTP/Off throughput"),
               alt.Tooltip("interactivity:Q", title="at tok/s/user"),
               alt.Tooltip("range:N", title="if any one measurement is dropped"), alt.Tooltip("data:N", title="data")]
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("ratio:Q", title="MTP/Off", scale=scale, legend=alt.Legend(format=".2~f")),
        tooltip=tooltip).transform_filter("!datum.thin")
    thin_cells = base.mark_rect(stroke="#b9bec5", strokeDash=[3, 2], fill="#f1f2f4").encode(
        tooltip=tooltip).transform_filter("datum.thin")
    text = base.mark_text(fontSize=12).encode(
        text="label:N", color=alt.condition("datum.thin", alt.value("#6b7280"), alt.value("#111111")))
    title = alt.TitleParams("MTP/Off throughput per GPU at mid-band (above 1: MTP ahead)",
                            subtitle=[f"Grey, {fmt.THIN_MARK}: thin data (an estimate), off the colour scale."]
                            if frame.thin.any() else [], anchor="start")
    return (cells + thin_cells + text).properties(width=520, height=28 * frame.row.nunique(), title=title)


def ratio_table(s: Suite) -> Fragment:
    recs = [r for r in ratio_records(s) if r["ratio"] is not None]
    cols = sorted({(r["precision"], r["sequence"]) for r in recs})
    rows = sorted({r["row"] for r in recs})
    lookup = {(r["row"], r["precision"], r["sequence"]): r for r in recs}
    head = "".join(f"<th>{_e(p)} · {_e(q)}</th>" for p, q in cols)
    body = "".join("<tr><td class='metric'>" + _e(h) + "</td>" + "".join(
        f"<td>{_e(fmt.fmt_ratio(lookup[(h, p, q)]['ratio']))}{_MARK if lookup[(h, p, q)]['thin'] else ''}</td>"
        if (h, p, q) in lookup else "<td>—</td>" for p, q in cols)
        + "</tr>" for h in rows)
    first = "Hardware" if all(r["row"] == r["hardware"] for r in recs) else "Model · hardware"
    return Fragment(f'<table class="specnb-table"><thead><tr><th class="metric">{first}</th>{head}</tr></thead>'
                    f"<tbody>{body}</tbody></table>")


def run_metadata(meta: dict) -> Fragment:
    from .report import run_metadata as _rm

    return _rm(meta)
