"""The "what changed since the last drop" page: ``diff.json`` (``specnb.diff``) rendered by ``notebooks/diff.ipynb``.

``write_page`` writes ``diff.json`` and executes the diff notebook in this process, then exports it with specnb's
HTML exporter — the reports' path: Vega inlined once, no CDN, the page opens offline. The sections below read the
``diff.json`` document only; they compute nothing (a ratio's change is the one ``diff`` recorded).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from . import fmt, names
from .diff import left_out_note
from .report import Fragment

DIFF_FILE = "diff.json"
PAGE = "diff.html"
CHANGE_WORDS = {"changed": "changed", "added": "new configuration", "removed": "no longer in the data",
                "unchanged": "unchanged"}
CHANGE_COLOURS = {"changed": "#0072B2", "added": "#009E73", "removed": "#D55E00", "unchanged": "#6b7280"}
COLOUR_NAMES = {"changed": "blue", "added": "green", "removed": "orange", "unchanged": "grey"}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def load(path) -> dict:
    """A ``diff.json`` document."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def ratio_text(side: dict | None) -> str:
    """``2.86×`` (with † on thin data), a dash where that side has no ratio."""
    if not side or side.get("ratio") is None:
        return fmt.DASH
    return f"{side['ratio']:.2f}×" + (fmt.THIN_MARK if side.get("grade") == "sparse" else "")


def change_text(change) -> str:
    """A ratio's relative change, ``+23 %`` / ``−8 %``; a dash without both ratios."""
    if change is None:
        return fmt.DASH
    if abs(change) < 0.005:
        return "±0 %"
    return f"{'+' if change > 0 else '−'}{abs(change) * 100:.0f} %"


def band_text(side: dict | None) -> str:
    band = (side or {}).get("band")
    return fmt.fmt_band(round(band["low"], 1), round(band["high"], 1)) if band else fmt.DASH


def _sources(side: dict) -> str:
    paths = side.get("paths") or [f["path"] for f in side.get("files", [])]
    return ", ".join(paths) or "—"


def header(doc: dict) -> Fragment:
    """Title, the two data sets and the counts per kind of change."""
    counts = doc.get("counts", {})
    arms = doc.get("arms", ["mtp", "none"])
    ratio = f"{names.spec_label(arms[0])}/{names.spec_label(arms[-1])}"
    tally = ", ".join(f"{counts.get(k, 0)} {w}" for k, w in (("changed", "changed"), ("added", "added"),
                                                              ("removed", "removed"), ("unchanged", "unchanged")))
    old, new = doc["old"], doc["new"]
    dates = " · ".join(f"{label} data dated {' to '.join(side['dates'])}"
                       for label, side in (("old", old), ("new", new)) if side.get("dates"))
    return Fragment(
        f'<header class="specnb-header"><h1>What changed: {_e(ratio)} throughput ratio, old data → new data</h1>'
        f'<p class="specnb-sub">Old: {_e(_sources(old))} · New: {_e(_sources(new))}</p>'
        f'<p class="specnb-headline">{_e(tally)} configurations. Each is read at the same interactivities in both '
        f'data sets (the new comparison\'s targets), so old and new compare like for like.</p>'
        f'<p class="specnb-sub">{_e(dates)} · {_e(doc.get("semantics", "specnb"))} semantics · '
        f'{_e(doc.get("percentile", "median"))} latencies</p>'
        + (f'<p class="specnb-note">{_e(note)}</p>' if (note := left_out_note(doc)) else "") + "</header>")


def summary_table(doc: dict) -> Fragment:
    """One row per configuration at its mid-band target: change, old and new ratio, bands, frontier points."""
    rows = []
    for e in doc.get("configurations", []):
        kind = e["change"]
        frontier = e.get("frontier", {})
        moved = (f"+{len(frontier.get('added', []))} / −{len(frontier.get('dropped', []))}"
                 if kind == "changed" else fmt.DASH)
        link = f'<a href="#{_e(e["slug"])}">{_e(e["title"])}</a>' if kind == "changed" else _e(e["title"])
        rows.append(f'<tr id="row-{_e(e["slug"])}"><td>{link}</td>'
                    f'<td style="color:{CHANGE_COLOURS[kind]}">{_e(CHANGE_WORDS[kind])}</td>'
                    f"<td class='num'>{_e(fmt.fmt_interactivity(e.get('interactivity')))}</td>"
                    f"<td class='num'>{_e(ratio_text(e.get('old')))}</td><td class='num'>{_e(ratio_text(e.get('new')))}"
                    f"</td><td class='num'>{_e(change_text(e.get('ratio_change')))}</td>"
                    f"<td class='num'>{_e(band_text(e.get('old')))} → {_e(band_text(e.get('new')))}</td>"
                    f"<td class='num'>{_e(moved)}</td></tr>")
    return Fragment('<table class="specnb-table specnb-diff"><thead><tr><th>Configuration</th><th>Change</th>'
                    '<th>At tok/s/user (mid-band)</th><th>Old ratio</th><th>New ratio</th><th>Ratio change</th>'
                    '<th>Matched band, old → new</th><th>Frontier points new / gone</th></tr></thead>'
                    f'<tbody>{"".join(rows)}</tbody></table>'
                    f'<p class="specnb-note">{_e(fmt.THIN_MARK)} thin data: the ratio is read between measurements '
                    f'more than 3× apart in throughput (an estimate). {_e(fmt.DASH)}: no ratio on that side.</p>')


def chart_changes(doc: dict):
    """Old → new ratio at mid-band for every configuration that changed, was added or removed (log x; a hollow
    circle is the old ratio, a filled one the new)."""
    import altair as alt
    import pandas as pd

    records = []
    for e in doc.get("configurations", []):
        if e["change"] == "unchanged":
            continue
        for side in ("old", "new"):
            r = (e.get(side) or {}).get("ratio")
            if r is not None:
                records.append({"configuration": e["title"], "side": side, "ratio": r, "change": e["change"],
                                "at": fmt.fmt_interactivity(e.get("interactivity")),
                                "grade": (e.get(side) or {}).get("grade") or ""})
    if not records:
        return alt.Chart(pd.DataFrame({"t": ["no configuration changed"]})).mark_text(align="left").encode(
            text="t:N").properties(width=600, height=30)
    from .charts import log_ticks

    frame = pd.DataFrame(records)
    order = list(dict.fromkeys(frame["configuration"]))
    kinds = [k for k in CHANGE_COLOURS if k in set(frame["change"])]
    colours = alt.Scale(domain=kinds, range=[CHANGE_COLOURS[k] for k in kinds])
    arms = doc.get("arms", ["mtp", "none"])
    treat, base_arm = names.spec_label(arms[0]), names.spec_label(arms[-1])
    low, high = min(*frame["ratio"], 1.0), max(*frame["ratio"], 1.0)
    y = alt.Y("configuration:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    x = alt.X("ratio:Q", scale=alt.Scale(type="log", domain=[low / 1.15, high * 1.15], nice=False),
              title=f"{treat} ÷ {base_arm} throughput per GPU at mid-band",
              axis=alt.Axis(labelExpr="format(datum.value, '.2~f') + '×'",
                            values=log_ticks([*frame["ratio"], 1.0], range(-2, 3))))
    tips = [alt.Tooltip("configuration:N"), alt.Tooltip("side:N", title="data"),
            alt.Tooltip("ratio:Q", format=".2f"), alt.Tooltip("at:N", title="at tok/s/user"),
            alt.Tooltip("grade:N", title="support")]
    base = alt.Chart(frame)
    lines = base.mark_line(color="#9ca3af", strokeWidth=2).encode(x=x, y=y, detail="configuration:N")
    dots = base.mark_point(size=80, strokeWidth=2).encode(
        x=x, y=y, tooltip=tips,
        color=alt.Color("change:N", scale=colours, legend=None),  # colours named in the subtitle
        fill=alt.condition("datum.side == 'new'", alt.Color("change:N", scale=colours, legend=None),
                           alt.value("white")),
        shape=alt.Shape("side:N", scale=alt.Scale(domain=["old", "new"], range=["circle", "circle"]), legend=None))
    parity = alt.Chart(pd.DataFrame({"ratio": [1.0]})).mark_rule(color="#222222", strokeDash=[2, 2]).encode(x="ratio:Q")
    title = alt.TitleParams(f"{treat}/{base_arm} throughput ratio at mid-band: old data (hollow) → new data (filled)",
                            subtitle=" · ".join(f"{COLOUR_NAMES[k]}: {k}" for k in kinds), anchor="start")
    return (parity + lines + dots).properties(width=560, height=22 * len(order), title=title)


def _frontier_table(points: list[dict], what: str) -> str:
    if not points:
        return f"<p class='specnb-note'>No frontier point {what}.</p>"
    rows = "".join(f"<tr><td>{_e(names.spec_label(p['arm']))}</td><td>{_e(p['engine'])}</td>"
                   f"<td>{_e(p['parallelism'])}</td><td class='num'>{_e(fmt.DASH if p['conc'] is None else p['conc'])}"
                   f"</td><td class='num'>{p['interactivity']:.2f}</td>"
                   f"<td class='num'>{p['throughput_per_gpu']:.1f}</td>"
                   f"<td>{_e(p.get('date') or fmt.DASH)}</td></tr>" for p in points)
    return (f"<p><strong>Frontier points {what}:</strong></p><table class='specnb-table specnb-frontier'><thead><tr>"
            "<th>Arm</th><th>Engine</th><th>Parallelism</th><th>Conc.</th><th>tok/s/user</th><th>tok/s/GPU</th>"
            f"<th>Date</th></tr></thead><tbody>{rows}</tbody></table>")


def details(doc: dict) -> Fragment:
    """Per changed configuration: the ratio at every target on both sides, the bands, the points added and
    dropped, and the frontier points that are new or gone."""
    parts = []
    for e in doc.get("configurations", []):
        if e["change"] != "changed":
            continue
        targets = "".join(f"<tr><td class='num'>{_e(fmt.fmt_interactivity(t['interactivity']))}</td>"
                          f"<td class='num'>{_e(ratio_text(t.get('old')))}</td>"
                          f"<td class='num'>{_e(ratio_text(t.get('new')))}</td>"
                          f"<td class='num'>{_e(change_text(t.get('ratio_change')))}</td></tr>"
                          for t in e.get("targets", []))
        counts = e.get("points", {})
        parts.append(
            f'<section class="specnb-diff-config" id="{_e(e["slug"])}"><h3>{_e(e["title"])}</h3>'
            f"<p>Matched band {_e(band_text(e.get('old')))} → {_e(band_text(e.get('new')))} tok/s/user; "
            f"{counts.get('added', 0)} points new, {counts.get('dropped', 0)} gone (of the points a comparison reads: "
            "the newest per line and concurrency).</p>"
            "<table class='specnb-table'><thead><tr><th>At tok/s/user</th><th>Old ratio</th><th>New ratio</th>"
            f"<th>Ratio change</th></tr></thead><tbody>{targets}</tbody></table>"
            f"{_frontier_table(e.get('frontier', {}).get('added', []), 'new in this data')}"
            f"{_frontier_table(e.get('frontier', {}).get('dropped', []), 'gone from it')}</section>")
    if not parts:
        return Fragment("<p>No configuration's points changed.</p>")
    return Fragment("".join(parts))


def run_metadata(meta: dict) -> Fragment:
    from .report import run_metadata as _rm

    return _rm(meta)


def write_page(doc: dict, out, run_metadata: dict | None = None, *, force: bool = False) -> Path:
    """Write ``diff.json`` and ``diff.html`` (the diff notebook, executed here and exported offline) into the
    folder ``out``; an unchanged ``diff.json`` with its page in place is left as it is (unless ``force``)."""
    from .atomic import write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    page = out / PAGE
    if not force and page.exists() and (out / DIFF_FILE).exists() and \
            (out / DIFF_FILE).read_text(encoding="utf-8") == text:
        return page
    write_text(out / DIFF_FILE, text)
    from . import export, inprocess, resources, workers

    meta = run_metadata
    if not meta:
        from .build import run_metadata as build_metadata

        meta = build_metadata()
    nb = inprocess.execute(resources.notebook("diff"), {"diff_file": str((out / DIFF_FILE).resolve()),
                                                        "run_metadata": meta})
    write_text(page, export.export_html(workers.stable_cell_ids(nb)))
    return page


def write_since(opts, dataset, run_metadata: dict | None = None) -> Path:
    """``specnb build --since PATH``: the diff page of the build's data (as of its ``--as-of``) against the previous
    data set, written into the build's output folder, at the build's targets, semantics and percentile."""
    from dataclasses import replace

    from .data import load, points_as_of, rows_as_of
    from .diff import diff

    old = load(list(opts.since), meta=opts.meta, model_aliases=opts.model_aliases)
    new = dataset if opts.as_of is None else replace(dataset, points=points_as_of(dataset.history, opts.as_of),
                                                     history=rows_as_of(dataset.history, opts.as_of))
    result = diff(old, new, targets=list(opts.targets) if opts.targets else None, semantics=opts.semantics,
                  cost_table=opts.cost_table, provider=opts.provider, token_type=opts.token_type,
                  percentile=opts.percentile, paths={"old": list(opts.since), "new": list(opts.data) or ["data/"]})
    return write_page(result.to_dict(), opts.out, run_metadata, force=opts.force)


def since_summary(out) -> dict | None:
    """What the suite index shows of the diff page in ``out``: its link, the old data's paths, the counts and each
    configuration's change (by slug) with its old and new mid-band ratio. None when there is no page."""
    out = Path(out)
    if not (out / DIFF_FILE).exists() or not (out / PAGE).exists():
        return None
    doc = load(out / DIFF_FILE)
    return {"page": PAGE, "old": doc["old"]["paths"], "counts": doc["counts"],
            "changes": {e["slug"]: {"change": e["change"], "old": (e.get("old") or {}).get("ratio"),
                                    "new": (e.get("new") or {}).get("ratio")} for e in doc["configurations"]}}
