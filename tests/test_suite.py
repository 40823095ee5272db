"""specnb.suite: the index page's table reads each report's numbers as they were computed."""

import json
import re

import pytest

import specnb
from specnb import fmt, report, suite


def entry(c) -> dict:
    comp = json.loads(report.comparison_json_text(c))
    return {"status": "ok", "slug": c.config.slug, "config": comp["config"], "files": ["report.html"],
            "headline": "", "comparison": comp}


def test_index_row_numbers_and_no_claim_without_a_comparison(bundled):
    ok = specnb.compare("dsr1", "mi355x", "fp4", "8k/1k", data=bundled)  # three crossovers
    lone = specnb.compare("dsr1", "gb200", "fp4", "1k/8k", data=bundled)  # MTP has a single point
    assert ok.comparable and ok.crossovers and not lone.comparable
    html = str(suite.index_table(suite.Suite(None, (entry(ok), entry(lone)), {})))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    mid = ok.targets[len(ok.targets) // 2]
    assert cells[0][1] == f"{fmt.fmt_ratio(mid.ratio)} at {fmt.fmt_interactivity(mid.interactivity)}"
    assert cells[0][3] == ", ".join(f"~{x.interactivity:.0f}" for x in ok.crossovers)
    assert [cells[1][1], cells[1][3]] == ["—", "—"]  # not "none": no crossover was looked for
    assert cells[1][2] == "—"  # no history recorded: no trend claimed


def test_two_models_of_one_hardware_keep_their_own_cells(bundled):
    """DeepSeek R1 and GLM 5 both have B200 FP8 8k/1k: each keeps its own row in the heatmap and the table
    (they used to share one cell, one value drawn over the other)."""
    r1 = specnb.compare("dsr1", "b200", "fp8", "8k/1k", data=bundled)
    glm = specnb.compare("glm5", "b200", "fp8", "8k/1k", data=bundled)
    s = suite.Suite(None, (entry(r1), entry(glm)), {})
    rows = {r["row"]: r["ratio"] for r in suite.ratio_records(s)}
    assert rows == {"DeepSeek R1 · B200": r1.targets[1].ratio, "GLM 5 · B200": glm.targets[1].ratio}
    table = str(suite.ratio_table(s))
    assert "<th class=\"metric\">Model · hardware</th>" in table
    assert f"<td class='metric'>GLM 5 · B200</td><td>{fmt.fmt_ratio(glm.targets[1].ratio)}</td>" in table
    spec = suite.chart_heatmap(s).to_dict(validate=True)
    assert spec["layer"][0]["encoding"]["y"]["field"] == "row" and spec["height"] == 2 * 28
    single = suite.Suite(None, (entry(r1),), {})
    assert [r["row"] for r in suite.ratio_records(single)] == ["B200"]
    assert "<th class=\"metric\">Hardware</th>" in str(suite.ratio_table(single))


def summary_entry(c) -> dict:
    """The suite entry an HTML-only build keeps (no comparison.json): what ``load_suite`` falls back on."""
    comp = json.loads(report.comparison_json_text(c))
    numbers = suite.index_numbers(comp)
    return {"status": "ok", "slug": c.config.slug, "config": comp["config"], "files": ["report.html"],
            "headline": "", "comparison": {"targets": [numbers["mid"]], "crossovers": numbers["crossovers"]}}


def test_thin_ratios_are_marked_and_never_the_darkest_cell(bundled):
    """Issue 10: GB300 FP4 1k/1k's 28x and GB300 FP8 1k/1k's 21x rest on thin data. The index marks them (with and
    without comparison.json), the heatmap draws them grey, off a colour scale fitted to the supported ratios;
    B200 FP4 1k/1k's mid-band ratio is supported and coloured."""
    fp4 = specnb.compare("dsr1", "gb300", "fp4", "1k/1k", data=bundled)
    fp8 = specnb.compare("dsr1", "gb300", "fp8", "1k/1k", data=bundled)
    b200 = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    for make in (entry, summary_entry):
        s = suite.Suite(None, (make(fp4), make(fp8), make(b200)), {})
        recs = {r["slug"]: r for r in suite.ratio_records(s)}
        assert [recs[c.config.slug]["thin"] for c in (fp4, fp8, b200)] == [True, True, False]
        html = str(suite.index_table(s))
        cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[1] for row in re.findall(r"<tr>(.*?)</tr>", html,
                                                                                         re.S)[1:]]
        assert fmt.THIN_MARK in cells[0] and fmt.THIN_MARK in cells[1] and fmt.THIN_MARK not in cells[2]
        assert "between 3.8× and 27×" in cells[1]  # GB300 FP8's range is wide, so it is shown
        assert "thin data" in html
        spec = suite.chart_heatmap(s).to_dict(validate=True)
        coloured, grey, text = spec["layer"]
        assert coloured["transform"] == [{"filter": "!datum.thin"}] and grey["transform"] == [{"filter": "datum.thin"}]
        assert grey["mark"]["fill"] == "#f1f2f4" and "color" not in grey["encoding"]
        domain = coloured["encoding"]["color"]["scale"]["domain"]
        assert domain[1] == pytest.approx(b200.targets[1].ratio)  # fitted to the supported ratio, not to 28x
        labels = {row["slug"]: row["label"] for row in spec["datasets"][spec["data"]["name"]]}
        assert labels[fp4.config.slug] == f"28×{fmt.THIN_MARK}" and labels[b200.config.slug] == "2.8×"
        assert fmt.THIN_MARK in str(suite.ratio_table(s))


def test_index_numbers_keep_grades_and_range(bundled):
    c = specnb.compare("dsr1", "gb300", "fp8", "1k/1k", data=bundled)
    mid = suite.index_numbers(json.loads(report.comparison_json_text(c)))["mid"]
    assert mid["arms"] == {"mtp": {"support": {"grade": "sparse"}}, "none": {"support": {"grade": "sparse"}}}
    assert mid["ratio_range"]["low"] == pytest.approx(c.targets[1].ratio_range.low)
    assert suite.thin(mid) and suite.wide_range(mid)
    assert not suite.thin({"interactivity": 5, "ratio": 2.0})  # a suite.json written before issue 10


def trend_entry(c, data) -> dict:
    from specnb import trends

    return {**entry(c), "trend": trends.of_comparison(c, data).index_entry()}


def test_trend_column_draws_the_history_and_the_change_over_90_days(bundled):
    from specnb import trends

    b200 = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    glm = specnb.compare("glm5", "b200", "fp8", "8k/1k", data=bundled)
    s = suite.Suite(None, (trend_entry(b200, bundled), trend_entry(glm, bundled)), {})
    series = s.entries[0]["trend"]["points"]
    assert s.newest_date == max(p["date"] for p in series) == "2026-06-11"
    move = trends.window_change(series, s.newest_date)
    assert move["window_start"] == "2026-03-13" and move["from"]["date"] == "2026-02-11"  # as the data stood then
    assert move["to"]["ratio"] == b200.targets[1].ratio
    html = str(suite.index_table(s))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    trend_cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[2] for row in rows]
    assert trend_cells[0].startswith("<svg") and trend_cells[0].count("<circle") == len(series)
    # the stylesheet's `svg {max-width: 100%}` would squeeze it into a narrow column and cut its right end off
    assert 'viewBox="0 0 96 24"' in trend_cells[0] and "max-width:none" in trend_cells[0]
    assert f"↑ +{move['change'] * 100:.0f} %" in trend_cells[0]
    assert f"{fmt.fmt_ratio(move['from']['ratio'])} → {fmt.fmt_ratio(move['to']['ratio'])}" in trend_cells[0]
    assert trend_cells[1] == '<span class="specnb-note">one date (2026-05-20)</span>'
    assert "as of 2026-06-11 with the value 90 days earlier" in html
    thin = [p for p in series if p["grade"] == "sparse"]
    assert thin and trend_cells[0].count('fill="white"') == len(thin)  # thin data drawn hollow
    assert suite.Suite(None, s.entries, {"as_of": "2026-05-01"}).newest_date == "2026-05-01"


def test_trend_cell_words():
    pts = [{"date": d, "ratio": r, "grade": "interpolated"} for d, r in
           (("2026-01-01", 2.0), ("2026-05-01", 2.0), ("2026-06-01", 1.5))]
    assert "↓ −25 %" in suite.trend_cell({"points": pts}, "2026-06-01")
    assert "→ no new data" in suite.trend_cell({"points": pts[:1] + [{**pts[1], "date": "2026-01-02"}]},
                                               "2026-06-01")
    assert "since 2026-05-01" in suite.trend_cell({"points": pts[1:]}, "2026-06-01")
    assert "<script" not in suite.trend_cell({"points": [{**p, "date": p["date"]} for p in pts]}, "2026-06-01")


def test_since_link_and_column(bundled):
    b200 = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    since = {"page": "diff.html", "old": ["data/inferencex-api/2026-05-05"],
             "counts": {"changed": 1, "added": 0, "removed": 0, "unchanged": 0},
             "changes": {b200.config.slug: {"change": "changed", "old": 2.3, "new": 2.9}}}
    s = suite.Suite(None, (entry(b200),), {}, since)
    head = str(suite.header(s))
    assert '<a href="diff.html">What changed since data/inferencex-api/2026-05-05</a>: 1 changed' in head
    html = str(suite.index_table(s))
    assert "<th>Since data/inferencex-api/2026-05-05</th>" in html
    assert f'<a href="diff.html#{b200.config.slug}">changed</a>' in html and "2.3× → 2.9×" in html
    failed = {"status": "error", "slug": "x", "config": entry(b200)["config"], "error": "boom"}
    assert 'colspan="5"' in str(suite.index_table(suite.Suite(None, (failed,), {}, since)))
