"""Thin data in the bundled data, handled in the report rather than by crashing (RELIABILITY.md §2).

Each case is a real configuration of ``data/``. Every section the report notebook renders (header, caveat,
story, table, charts, methodology, downloads, machine output) is built in-process from the same calls the
notebook makes, and what the reader is told is checked. Synthetic variants are in test_comparison.py; the
built reports of two thin configurations are checked in test_reliability_build.py.
"""

import json
import math

import pytest

from specnb import comparison, narrative, report
from specnb.table import comparison_html, terminal_table


def render(c):
    """Every report section as text, exactly as the notebook cells produce them."""
    from specnb import charts

    parts = [report.header(c), report.caveat(c), report.story(c), report.table(c), report.methodology(c),
             report.downloads(c), report.run_metadata({})]
    html = "".join(p._repr_html_() for p in parts)
    specs = [json.dumps(make(c).to_dict(), allow_nan=False)
             for make in (charts.chart_throughput, charts.chart_cost, charts.chart_ratio)]
    bundle = report.machine_output(c)._repr_mimebundle_()
    json.dumps(json.loads(bundle[report.COMPARISON_MIME]), allow_nan=False)
    return html, specs, bundle


def cmp(bundled, slug_parts, **kw):
    model, hardware, precision, seq = slug_parts
    return comparison.compare(bundled, model, hardware, precision, seq, **kw)


def test_single_point_arm_without_overlap(bundled):
    """dsr1 GB200 FP4 1k/8k: MTP has one measured point (at ~369 tok/s/user), far above Off's range."""
    c = cmp(bundled, ("dsr1", "gb200", "fp4", "1k/8k"))
    assert c.frontiers["mtp"].size == 1 and len(c.points[c.points.spec_method == "mtp"]) == 1
    assert c.band is None and c.targets == () and not c.comparable
    assert "MTP has a single measured point, so no curve can be drawn." in c.notes
    assert any("do not overlap in interactivity" in n for n in c.notes)
    html, specs, bundle = render(c)
    assert "No matched comparison" in html and "single measured point" in html
    assert narrative.headline(c).startswith("No matched comparison: MTP has a single measured point")
    d = json.loads(bundle[report.COMPARISON_MIME])
    assert d["band"] is None and d["targets"] == [] and d["frontier_points"] == {"mtp": 1, "none": 4}
    assert bundle[report.CSV_MIME].startswith("model,hardware,precision")  # a header, no rows
    assert terminal_table(c) == "No matched comparison."


@pytest.mark.parametrize("slug", [("dsr1", "gb200", "fp8", "8k/1k"), ("dsr1", "gb300", "fp8", "8k/1k")])
def test_other_single_point_arms(bundled, slug):
    c = cmp(bundled, slug)
    assert not c.comparable and "MTP has a single measured point, so no curve can be drawn." in c.notes
    render(c)


@pytest.mark.parametrize("slug, arm", [
    (("dsr1", "gb300", "fp4", "1k/8k"), "Off"), (("dsr1", "b300", "fp4", "8k/1k"), "MTP"),
    (("dsr1", "gb200", "fp8", "1k/8k"), "MTP"), (("dsr1", "gb300", "fp4", "1k/1k"), "MTP")])
def test_two_point_arm_is_a_straight_line(bundled, slug, arm):
    c = cmp(bundled, slug)
    assert f"{arm}'s frontier has only two points; between them the curve is a straight line." in c.notes
    html, _, _ = render(c)
    assert "only two points" in html
    if c.comparable:
        assert all(v.in_range for t in c.targets for v in t.arms.values())
        # linear between the two knots
        key = {"MTP": "mtp", "Off": "none"}[arm]
        f = c.frontiers[key]
        t = c.targets[1]
        expect = f.y[0] + (f.y[1] - f.y[0]) * (t.interactivity - f.x[0]) / (f.x[1] - f.x[0])
        assert t.arms[key].throughput_per_gpu == pytest.approx(expect, rel=1e-9)


@pytest.mark.parametrize("slug, missing", [
    (("dsr1", "gb200", "fp8", "1k/1k"), "MTP"), (("dsr1", "h100", "fp8", "1k/8k"), "Off"),
    (("gptoss", "b200", "fp4", "1k/1k"), "MTP"), (("kimik2.5", "mi355x", "int4", "1k/1k"), "Off")])
def test_arm_missing_entirely(bundled, slug, missing):
    """Configurations with one arm only: listed by ``specnb list --all``, not built, and compare says why."""
    c = cmp(bundled, slug)
    assert f"{missing} has no measured points for this configuration." in c.notes and not c.comparable
    html, _, bundle = render(c)
    assert f"{missing} has no measured points" in html and "No matched comparison" in html
    assert json.loads(bundle[report.COMPARISON_MIME])["targets"] == []
    slugs = {comparison.Config(r.model, r.hardware, r.precision, r.isl, r.osl).slug
             for r in bundled.configurations().itertuples()}
    assert comparison.Config(*c.config.to_dict().values()).slug not in slugs


def test_no_bundled_arm_is_dominated_down_to_one_point(bundled):
    """Documented in RELIABILITY.md: no bundled arm has several points that all but one are dominated, so that
    case is covered synthetically (test_comparison.py::test_single_point_and_dominated_arms and below)."""
    from specnb.frontier import pareto_frontier

    found = []
    keys = ["model", "hardware", "precision", "isl", "osl", "spec_method"]
    for key, pts in bundled.points.groupby(keys):
        if len(pts) > 1 and pareto_frontier(pts, key[-1]).size == 1:
            found.append(key)
    assert found == []


def test_dominated_but_one_in_a_report(tmp_path):
    from rows import api_row, write

    import specnb

    rows = [api_row(spec_method="mtp", conc=c, metrics={"median_intvty": x, "tput_per_gpu": y})
            for x, y, c in [(50, 500, 16), (40, 400, 32), (30, 100, 64)]]
    rows += [api_row(spec_method="none", conc=c, metrics={"median_intvty": x, "tput_per_gpu": y})
             for x, y, c in [(10, 1500, 128), (30, 900, 64), (50, 300, 8), (80, 100, 2)]]
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=specnb.load(write(tmp_path / "d.json", rows)))
    note = "All 3 MTP points but one are dominated: its frontier is a single point, so no curve can be drawn."
    assert note in c.notes
    html, _, _ = render(c)
    assert note in html.replace("&#x27;", "'")


def test_gpu_without_cost_constants(bundled, tmp_path):
    """A GPU the cost table lacks (here: a user table without B200) reads "no rate" everywhere, never $0."""
    table = tmp_path / "mine.csv"
    table.write_text("gpu,kw_per_gpu,hyperscaler\nmi355x,2.0,1.5\n")
    c = cmp(bundled, ("dsr1", "b200", "fp4", "1k/1k"), cost_table=str(table))
    assert c.rate.usd_per_gpu_hour is None and c.rate.kw_per_gpu is None
    assert any('no cost and power for B200 (hyperscaler): shown as "no rate"' in n for n in c.notes)
    html, specs, bundle = render(c)
    assert "no rate" in comparison_html(c) and "$0.000" not in html and ">0<" not in html
    assert "no rate" in report.methodology(c)._repr_html_()
    for t in c.targets:
        for v in t.arms.values():
            assert math.isnan(v.cost_per_mtok) and math.isnan(v.tok_s_per_mw) and v.throughput_per_gpu > 0
    d = json.loads(bundle[report.COMPARISON_MIME])
    assert d["cost"]["usd_per_gpu_hour"] is None
    assert all(a["cost_per_mtok"] is None and a["tok_s_per_mw"] is None
               for t in d["targets"] for a in t["arms"].values())
    assert ",0.0," not in bundle[report.CSV_MIME]
    for para in narrative.paragraphs(c):
        assert "$" not in para  # no price is quoted without a rate


def test_unknown_hardware_from_raw_results_has_no_rate(bundled):
    """Raw client results loaded without --meta: hardware 'unknown' gets no constants (and no MTP/Off arms)."""
    c = comparison.compare(bundled, "gptoss", "unknown", "unknown", "1k/1k")
    assert c.rate.usd_per_gpu_hour is None and not c.comparable
    render(c)
