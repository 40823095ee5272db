"""Charts: valid Vega-Lite, every value drawn, deterministic specs, offline, safe text, and edge cases.

Counts are taken from the rendered SVG (vl-convert), where each layer's marks sit in a group named after
the layer (``<g class="mark-symbol role-mark points_frontier_marks">``), so they prove the folded and
filtered data really reach the screen, not only the spec.
"""

import hashlib
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pandas as pd
import pytest
from conftest import ROOT
from rows import api_row, write

import specnb
from specnb import comparison, support

alt = pytest.importorskip("altair")
vlc = pytest.importorskip("vl_convert")
from specnb import charts  # noqa: E402  (after the importorskip of its dependency)

HOSTILE = "<script>alert(1)</script>"
MTP = [(20, 1000, 64), (40, 800, 32), (60, 500, 16), (100, 200, 4), (45, 300, 8)]  # the last one is dominated
OFF = [(10, 1500, 128), (30, 900, 64), (50, 300, 8), (80, 100, 2)]


def arm_rows(spec, pts, framework="sglang", hardware="b200"):
    return [api_row(spec_method=spec, conc=int(c), framework=framework, hardware=hardware,
                    metrics={"median_intvty": float(x), "tput_per_gpu": float(y), "output_tput_per_gpu": y / 2,
                             "input_tput_per_gpu": y / 2})
            for x, y, c in pts]


def synthetic(tmp_path, rows, hardware="b200", **kw):
    ds = specnb.load(write(tmp_path / "d.json", rows))
    return comparison.compare(ds, "dsr1", hardware, "fp4", "1k/1k", **kw)


DIGESTS = ("import hashlib, json, specnb; from specnb import charts; "
           "c = specnb.compare('dsr1', 'b200', 'fp4', '1k/1k'); "
           "print(json.dumps({k: hashlib.sha256(v.to_json().encode()).hexdigest() "
           "for k, v in charts.report_charts(c).items()}))")


@pytest.fixture(scope="module", autouse=True)
def other_process():
    """The same charts built in a fresh interpreter (another hash seed), started first to overlap the tests."""
    env = {**__import__("os").environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.Popen([sys.executable, "-c", DIGESTS], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    yield proc
    proc.kill() if proc.poll() is None else None
    proc.communicate()


@pytest.fixture(scope="module")
def b200(bundled):
    return specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)


@pytest.fixture(scope="module")
def b200_charts(b200):
    return charts.report_charts(b200)


def rendered(chart) -> Counter:
    """Number of drawn items per layer name, from the SVG."""
    svg = vlc.vegalite_to_svg(chart.to_json(), allowed_base_urls=[])
    assert svg.startswith("<svg") and "<path" in svg
    counts = Counter()
    for group in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g"):
        classes = group.get("class", "").split()
        if "role-mark" in classes and classes[-1].endswith("_marks"):
            counts[classes[-1].removesuffix("_marks")] += len(list(group))
    return counts


def total(counts: Counter, prefix: str) -> int:
    return sum(n for name, n in counts.items() if name.startswith(prefix))


def curve_runs(c) -> int:
    """Lines drawn for the frontier curves: per arm, one per maximal run of knot intervals that are all thin (more
    than SPARSE_FACTOR apart in throughput) or all not."""
    out = 0
    for arm in c.arms:
        f = c.frontiers[arm]
        if f.size < 2:
            continue
        thin = [f.y[i] > support.SPARSE_FACTOR * f.y[i + 1] for i in range(f.size - 1)]
        out += 1 + sum(a != b for a, b in zip(thin, thin[1:], strict=False))
    return out


def dashed_paths(chart, layer: str) -> int:
    svg = vlc.vegalite_to_svg(chart.to_json(), allowed_base_urls=[])
    return sum(1 for group in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}g")
               if f"{layer}_marks" in group.get("class", "").split()
               for path in group if (path.get("stroke-dasharray") or "").replace(" ", ",") == "5,4")


def measured_values(c) -> int:
    return sum(1 for t in c.targets for v in t.arms.values() if v.measured)


# ---------------------------------------------------------------------------------------------- bundled data


def test_throughput_chart_draws_every_point_curve_band_and_target(b200, b200_charts):
    chart = b200_charts["throughput"]
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    assert spec["width"] == charts.WIDTH and spec["height"] == charts.HEIGHT
    drawn = rendered(chart)
    p = b200.priced_points
    assert drawn["points_frontier"] + drawn["points_dominated"] == len(p)
    assert drawn["points_frontier"] == int(p["on_frontier"].sum())
    assert drawn["curves"] == curve_runs(b200)  # one line per run of thin or well-measured stretches
    assert drawn["band"] == 1
    assert total(drawn, "target_rules") == len(b200.targets) == 3
    assert total(drawn, "target_labels") == len(b200.targets)
    assert drawn["target_values"] == measured_values(b200)


def test_throughput_chart_has_a_named_select_switching_the_metric(b200, b200_charts):
    spec = b200_charts["throughput"].to_dict()
    (param,) = spec["params"]
    labels = charts.metric_labels("total")
    assert param["name"] == charts.METRIC_PARAM
    assert param["bind"]["input"] == "select"
    assert param["bind"]["options"] == [labels[m] for m in charts.METRICS]
    assert param["value"] == labels["throughput_per_gpu"]
    assert charts.METRIC_PARAM in spec["title"]["text"]["expr"]  # the title names the selected metric
    # each choice of the select draws every point (cost and power exist for every point of a priced GPU)
    for option in param["bind"]["options"]:
        chosen = json.loads(json.dumps(spec))
        chosen["params"][0]["value"] = option
        svg = vlc.vegalite_to_svg(json.dumps(chosen), allowed_base_urls=[])
        root = ET.fromstring(svg)
        points = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
                  if g.get("class", "").endswith(("points_frontier_marks", "points_dominated_marks"))]
        assert sum(len(list(g)) for g in points) == len(b200.priced_points), option


def test_cost_chart_plots_cost_with_band_and_targets(b200, b200_charts):
    chart = b200_charts["cost"]
    spec = chart.to_dict()
    assert spec["title"]["text"] == "Cost per million tokens vs interactivity"
    drawn = rendered(chart)
    assert drawn["points_frontier"] + drawn["points_dominated"] == len(b200.priced_points)
    assert drawn["band"] == 1 and total(drawn, "target_rules") == len(b200.targets)
    assert "$1.73" in json.dumps(spec["title"]["subtitle"], ensure_ascii=False)  # the rate it used


def test_cost_chart_names_the_token_type(bundled):
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled, token_type="output")
    assert charts.chart_cost(c).to_dict()["title"]["text"] == "Cost per million output tokens vs interactivity"


def test_ratio_chart_has_parity_targets_and_labels(b200, b200_charts):
    chart = b200_charts["ratio"]
    drawn = rendered(chart)
    # the band's only thin stretch is MTP's cliff, 74 -> 81 tok/s/user (7,111 -> 1,661 tok/s/GPU): solid, dashed, solid
    assert b200.sparse_segments == {"mtp": (pytest.approx((74.04, 80.61), abs=0.01),), "none": ()}
    assert drawn["ratio"] == 3 and dashed_paths(chart, "ratio") == 1
    assert drawn["parity"] == 1 and drawn["parity_label"] == 1
    assert total(drawn, "target_rules") == len(b200.targets)
    assert drawn["target_ratios"] == sum(t.ratio is not None for t in b200.targets)
    assert total(drawn, "crossover_rules") == len(b200.crossovers) == 0


def test_report_charts_returns_the_three(b200_charts):
    assert list(b200_charts) == ["throughput", "cost", "ratio"]
    assert isinstance(b200_charts["throughput"], alt.LayerChart)


def test_specs_are_small(b200_charts):
    for name, chart in b200_charts.items():
        assert len(chart.to_json()) < 150_000, name


def test_specs_are_offline(b200_charts):
    for chart in b200_charts.values():
        spec = chart.to_dict()
        text = json.dumps({k: v for k, v in spec.items() if k != "$schema"})
        assert "http" not in text and '"url"' not in text  # no remote data, fonts or images
        assert spec["datasets"] and all(isinstance(rows, list) for rows in spec["datasets"].values())


def test_charts_do_not_mutate_the_comparison(tmp_path):
    c = synthetic(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF))
    before = (c.priced_points.copy(), c.curves.copy(), c.points.copy())
    charts.report_charts(c)
    pd.testing.assert_frame_equal(c.priced_points, before[0])
    pd.testing.assert_frame_equal(c.curves, before[1])
    pd.testing.assert_frame_equal(c.points, before[2])



def _configurations():
    return [(r.model, r.hardware, r.precision, r.isl, r.osl) for r in specnb.configurations().itertuples()]


@pytest.mark.parametrize("semantics", ["specnb", "inferencex"])
@pytest.mark.parametrize("config", _configurations(), ids=lambda config: "-".join(map(str, config)))
def test_every_report_chart_is_valid_vega_lite(bundled, config, semantics):
    """Full schema validation of every chart of every bundled configuration. The charts are built without
    Altair's piecewise checks and the report serialises them with ``to_dict(validate=False)``, so this
    is where their specs are checked against the Vega-Lite schema."""
    model, hardware, precision, isl, osl = config
    c = specnb.compare(model, hardware, precision, isl=isl, osl=osl, semantics=semantics, data=bundled)
    for name, chart in charts.report_charts(c).items():
        assert chart.to_dict(validate=True)["$schema"].startswith("https://vega.github.io/schema/vega-lite/v"), name


def test_edge_case_charts_are_valid_vega_lite(tmp_path):
    """The same validation for the charts that only bundled data cannot reach: messages, crossovers, 3 arms."""
    cases = [synthetic(tmp_path, arm_rows("mtp", [(60, 500, 16), (100, 200, 4)])
                       + arm_rows("none", [(10, 1500, 128), (30, 900, 64)])),  # no overlap
             synthetic(tmp_path, arm_rows("mtp", MTP, hardware="tpu7") + arm_rows("none", OFF, hardware="tpu7"),
                       hardware="tpu7"),  # no rate
             synthetic(tmp_path, arm_rows("mtp", MTP)),  # missing arm
             synthetic(tmp_path, arm_rows("mtp", [(20, 1000, 64), (40, 800, 32), (60, 500, 16)])
                       + arm_rows("none", [(20, 1400, 64), (30, 1000, 32), (50, 300, 8), (60, 200, 4)])),
             synthetic(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF)
                       + arm_rows("eagle", [(15, 1200, 64), (35, 850, 32), (55, 450, 16), (90, 150, 4)]),
                       arms=("eagle", "mtp", "none"))]
    names = set()
    for c in cases:
        for chart in charts.report_charts(c).values():
            names.add(chart.to_dict(validate=True).get("name"))
    assert {"no_band", "no_rate"} <= names


def test_suite_heatmap_is_valid_vega_lite(bundled):
    """The summary report's heatmap is shown through the same ``report.ChartOutput``, so it is validated here too."""
    from specnb import report, suite

    comps = [specnb.compare(m, h, p, isl=i, osl=o, data=bundled) for m, h, p, i, o in _configurations()[:6]]
    entries = tuple({"status": "ok", "slug": c.config.slug, "config": c.to_dict()["config"],
                     "comparison": json.loads(report.comparison_json_text(c))} for c in comps)
    failed = tuple({**e, "status": "failed", "comparison": None} for e in entries)  # the "nothing to show" chart
    for s in (suite.Suite(ROOT, entries, {}), suite.Suite(ROOT, failed, {})):
        suite.chart_heatmap(s).to_dict(validate=True)
    # the colour scale is symmetric around 1 (log), also for a single report: white means "no difference"
    for s in (suite.Suite(ROOT, entries, {}), suite.Suite(ROOT, entries[:1], {})):
        spec = suite.chart_heatmap(s).to_dict(validate=True)
        scale = spec["layer"][0]["encoding"]["color"]["scale"]
        low, high = scale["domain"]
        assert scale["domainMid"] == 1 and abs(low * high - 1) < 1e-12 and high > 1
        recs = [r for r in suite.ratio_records(s) if r["ratio"] is not None]
        ratios = [r["ratio"] for r in recs if not r["thin"]] or [r["ratio"] for r in recs]  # thin ones are grey
        assert low <= min(ratios) and max(ratios) <= high


def test_report_output_is_the_validated_spec(b200_charts):
    """``report.ChartOutput`` skips validation (done above); the spec it emits is the validated one."""
    from specnb import report

    for chart in b200_charts.values():
        bundle = report.chart(chart)._repr_mimebundle_()
        (spec,) = [v for k, v in bundle.items() if k.startswith("application/vnd.vegalite")]
        assert spec == chart.to_dict(validate=True)


def test_inline_records_are_what_altair_makes_of_a_dataframe():
    """``charts._data`` skips Altair's DataFrame conversion; the spec (values and dataset name) must not change.
    Missing and non-finite numbers become null, nullable integers stay integers, booleans and text stay."""
    frame = pd.DataFrame({"arm": ["MTP", "Off", "MTP"], "date": ["2026-06-01", "", "2026-06-11"],
                          "conc": pd.array([4, None, 16], dtype="Int64"), "on": [True, False, True],
                          "x": [1.5, float("nan"), float("inf")], "y": [1.0, 2.0, -float("inf")]})
    mine = charts._data({k: frame[k].tolist() for k in frame.columns})
    expected = alt.Chart(frame).mark_point().to_dict()
    assert alt.Chart(mine).mark_point().to_dict() == expected
    assert json.dumps(expected["datasets"]) == json.dumps({expected["data"]["name"]: mine.values})


def test_building_charts_restores_altairs_debug_mode(b200):
    from altair.utils import schemapi

    with schemapi.debug_mode(True):
        charts.report_charts(b200)
        assert schemapi.DEBUG_MODE is True


# ---------------------------------------------------------------------------------------------- determinism


def test_specs_are_identical_in_process_and_across_processes(b200, b200_charts, other_process):
    here = {k: hashlib.sha256(v.to_json().encode()).hexdigest() for k, v in b200_charts.items()}
    assert here == {k: hashlib.sha256(v.to_json().encode()).hexdigest() for k, v in b200_charts.items()}
    alt.param()  # advance altair's counter for unnamed params: a spec relying on it would now differ
    again = {k: hashlib.sha256(v.to_json().encode()).hexdigest() for k, v in charts.report_charts(b200).items()}
    out, err = other_process.communicate(timeout=60)
    assert other_process.returncode == 0, err
    assert here == again == json.loads(out)


def test_every_param_is_named(b200_charts):
    for chart in b200_charts.values():
        text = chart.to_json()
        assert "param_" not in text and "selector0" not in text


# ---------------------------------------------------------------------------------------------- edge cases


def test_no_overlap_draws_both_arms_without_band_or_targets(tmp_path):
    c = synthetic(tmp_path, arm_rows("mtp", [(60, 500, 16), (100, 200, 4)])
                  + arm_rows("none", [(10, 1500, 128), (30, 900, 64)]))
    assert c.band is None
    drawn = rendered(charts.chart_throughput(c))
    assert drawn["points_frontier"] == 4 and drawn["curves"] == 2
    assert "band" not in drawn and total(drawn, "target_rules") == 0
    ratio = charts.chart_ratio(c)
    assert "do not overlap" in ratio.to_json()
    rendered(ratio)
    rendered(charts.chart_cost(c))


def test_no_rate_is_said_not_drawn_as_zero(tmp_path):
    c = synthetic(tmp_path, arm_rows("mtp", MTP, hardware="tpu7") + arm_rows("none", OFF, hardware="tpu7"),
                  hardware="tpu7")
    assert c.rate.usd_per_gpu_hour is None
    cost = charts.chart_cost(c)
    assert "no rate for TPU7 in table 2026-07" in cost.to_json()
    assert "points_frontier" not in rendered(cost)
    spec = charts.chart_throughput(c).to_dict()
    assert spec["params"][0]["bind"]["options"] == [charts.metric_labels("total")["throughput_per_gpu"]]
    drawn = rendered(charts.chart_throughput(c))
    assert drawn["points_frontier"] + drawn["points_dominated"] == len(MTP) + len(OFF)
    assert drawn["points_dominated"] == 1
    assert total(rendered(charts.chart_ratio(c)), "target_rules") == len(c.targets)


def test_token_throughput_not_measured_is_said_not_drawn(tmp_path):
    """Input throughput absent from the data: with --token-type input there is no cost or power to plot."""
    rows = arm_rows("mtp", MTP) + arm_rows("none", OFF)
    for r in rows:
        del r["metrics"]["input_tput_per_gpu"]
    c = synthetic(tmp_path, rows, token_type="input")
    cost = charts.chart_cost(c)
    assert "input throughput not measured in the data: cost per input token is not shown." in cost.to_json()
    assert "points_frontier" not in rendered(cost)
    spec = charts.chart_throughput(c).to_dict()
    assert spec["params"][0]["bind"]["options"] == [charts.metric_labels("input")["throughput_per_gpu"]]
    assert "input throughput not measured in the data: cost and/or power left out." in json.dumps(spec)
    drawn = rendered(charts.chart_throughput(c))
    assert drawn["points_frontier"] + drawn["points_dominated"] == len(MTP) + len(OFF)


def test_partly_measured_output_throughput_plots_only_what_exists(tmp_path):
    """Output throughput on some points only: cost per output token is drawn for those points and along the
    curve where the knots carrying it allow, never as zero or NaN."""
    rows = arm_rows("mtp", MTP) + arm_rows("none", OFF)
    for r in rows[::2]:
        r["metrics"]["output_tput_per_gpu"] = None
    c = synthetic(tmp_path, rows, token_type="output")
    spec = json.dumps(charts.chart_cost(c).to_dict(), allow_nan=False)
    drawn = rendered(charts.chart_cost(c))
    priced = int(c.priced_points.cost_per_mtok.notna().sum())
    assert 0 < priced < len(rows) and drawn["points_frontier"] + drawn["points_dominated"] == priced
    assert drawn["curves"] >= 1 and "Cost per million output tokens" in spec


def test_missing_arm_does_not_crash(tmp_path):
    c = synthetic(tmp_path, arm_rows("mtp", MTP))
    drawn = rendered(charts.chart_throughput(c))
    assert drawn["points_frontier"] + drawn["points_dominated"] == len(MTP)
    assert "no measured points" in charts.chart_ratio(c).to_json()
    rendered(charts.chart_ratio(c))
    rendered(charts.chart_cost(c))


def test_crossovers_are_ruled_and_labelled(tmp_path):
    c = synthetic(tmp_path, arm_rows("mtp", [(20, 1000, 64), (40, 800, 32), (60, 500, 16)])
                  + arm_rows("none", [(20, 1400, 64), (30, 1000, 32), (50, 300, 8), (60, 200, 4)]))
    assert len(c.crossovers) == 1
    chart = charts.chart_ratio(c)
    drawn = rendered(chart)
    assert total(drawn, "crossover_rules") == 1 and total(drawn, "crossover_labels") == 1
    assert f"crossover ~{c.crossovers[0].interactivity:.0f} tok/s/user" in chart.to_json()


def test_three_arms_get_their_own_colours_and_ratio_lines(tmp_path):
    eagle = [(15, 1200, 64), (35, 850, 32), (55, 450, 16), (90, 150, 4)]
    c = synthetic(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF) + arm_rows("eagle", eagle),
                  arms=("eagle", "mtp", "none"))
    drawn = rendered(charts.chart_throughput(c))
    assert drawn["curves"] == 3 and drawn["points_frontier"] + drawn["points_dominated"] == len(c.priced_points)
    ratio = charts.chart_ratio(c)
    assert rendered(ratio)["ratio"] == 2  # one line per treatment arm against the baseline
    scale = ratio.to_dict()["layer"][0]["encoding"]["color"]["scale"]
    assert scale == {"domain": ["EAGLE", "MTP"], "range": ["#009E73", "#0072B2"]}


def test_close_crossovers_share_one_label():
    c = type("C", (), {"crossovers": [comparison.Crossover(53.4, "none", "mtp"),
                                      comparison.Crossover(54.6, "mtp", "none")]})()
    items = charts._crossover_items(c, 27.0, 151.0)
    assert items == [(53.4, "crossovers ~53, ~55 tok/s/user"), (54.6, None)]


def test_inferencex_semantics_without_ratio_curve_says_so(bundled):
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled, semantics="inferencex")
    chart = charts.chart_ratio(c)
    chart.to_dict()
    if c.curves[c.curves.series == "ratio"].empty:  # compare() samples no ratio curve for a raw-overlap band
        text = chart.to_json()
        assert "No ratio curve" in text
        assert all(f"{t.interactivity:g} tok/s/user: {charts.fmt.fmt_ratio(t.ratio)}" in text for t in c.targets)


def test_data_strings_stay_text(tmp_path):
    c = synthetic(tmp_path, arm_rows("mtp", MTP, framework=HOSTILE) + arm_rows("none", OFF))
    chart = charts.chart_throughput(c)
    spec = chart.to_dict()
    assert HOSTILE in json.dumps(spec["datasets"])  # it is data...
    exprs = json.dumps([spec["title"], [layer.get("transform") for layer in spec["layer"]]])
    assert "script" not in exprs  # ...never part of an expression
    svg = vlc.vegalite_to_svg(chart.to_json(), allowed_base_urls=[])
    assert "<script" not in svg


# ---------------------------------------------------------------------------------------------- helpers


def test_arm_colours_are_fixed_distinct_and_stable():
    assert charts.arm_colours(("mtp", "none")) == {"mtp": "#0072B2", "none": "#D55E00"}
    several = charts.arm_colours(("eagle", "medusa", "lookahead", "mtp", "none"))
    assert len(set(several.values())) == 5
    assert several["mtp"] == "#0072B2" and several["eagle"] == "#009E73"
    assert charts.arm_colours(("medusa", "none"))["medusa"] == charts.arm_colours(("medusa", "mtp"))["medusa"]


@pytest.mark.parametrize("xs", [[67, 101, 136], [30, 31, 32, 33], [10, 50, 90], [5, 140, 141, 148], [100], [50, 50]])
def test_labels_never_overlap_each_other_or_a_rule(xs):
    items = [(float(x), f"{x} tok/s/user") for x in xs]
    rows = charts.place_labels(items, 0.0, 150.0)
    px = charts.WIDTH / 150.0
    boxes = [(x * px, x * px + len(text) * charts.CHAR_PX + 8, row) for (x, text), row in zip(items, rows, strict=True)]
    for i, (xi, ri_end, ri) in enumerate(boxes):
        for j, (xj, rj_end, rj) in enumerate(boxes):
            if i != j:
                assert not (ri == rj and xi < rj_end and xj < ri_end), (xs, rows)  # labels overlap
                assert not (xi < xj <= ri_end and ri <= rj), (xs, rows)  # rule j rises through label i


def test_labels_far_apart_share_the_first_row():
    assert charts.place_labels([(10.0, "10 tok/s/user"), (50.0, "50 tok/s/user"), (90.0, "90 tok/s/user")],
                               0.0, 150.0) == [0, 0, 0]


def test_log_ticks_density_follows_the_span():
    assert charts.log_ticks([40, 12500], range(1, 4)) == [10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
    narrow = charts.log_ticks([0.9, 1.3], range(0, 1))
    assert 1.1 in narrow and 1.2 in narrow


def test_thin_stretches_are_dashed_exactly_where_support_is_sparse(bundled):
    """GB300 FP4 1k/1k (issue 10): MTP's only stretch, 70 → 308 tok/s/user (11,997 → 71 tok/s/GPU), is dashed,
    and so are Off's thin stretches; every dashed sample lies inside a sparse segment, every solid one outside."""
    c = specnb.compare("dsr1", "gb300", "fp4", "1k/1k", data=bundled)
    chart = charts.chart_throughput(c)
    spec = chart.to_dict()
    curves = next(layer for layer in spec["layer"] if layer.get("name") == "curves")
    assert curves["encoding"]["strokeDash"]["legend"]["values"] == [charts.THIN_STRETCH]
    rows = spec["datasets"][curves["data"]["name"]]
    label = {"MTP": "mtp", "Off": "none"}
    for row in rows:
        x, spans = row["interactivity"], c.sparse_segments[label[row["arm"]]]
        inside = any(lo <= x <= hi for lo, hi in spans)
        strictly = any(lo < x < hi for lo, hi in spans)
        assert (row["stretch"] == charts.THIN_STRETCH and inside) or (row["stretch"] != charts.THIN_STRETCH
                                                                       and not strictly)
    thin_runs = sum(len(c.sparse_segments[a]) for a in c.arms) - 1  # Off's 15-60 and 60-73 join into one run
    assert dashed_paths(chart, "curves") == thin_runs == 3
    assert "thin data" in json.dumps(spec["title"])
    assert dashed_paths(charts.chart_cost(c), "curves") == thin_runs


def test_ratio_chart_dashes_thin_stretches_and_bars_each_range(bundled):
    c = specnb.compare("dsr1", "h100", "fp8", "1k/1k", data=bundled)
    chart = charts.chart_ratio(c)
    drawn = rendered(chart)
    assert drawn["target_ranges"] == sum(t.ratio_range is not None for t in c.targets) == 3
    spec = chart.to_dict()
    bars = next(layer for layer in spec["layer"] if layer.get("name") == "target_ranges")
    values = spec["datasets"][bars["data"]["name"]]
    assert [(v["low"], v["high"]) for v in values] == [(t.ratio_range.low, t.ratio_range.high) for t in c.targets]
    assert dashed_paths(chart, "ratio") >= 1


def test_no_thin_stretch_draws_the_curves_as_before(tmp_path):
    """Every neighbouring pair within 3x: one solid line per arm, no dash channel, no thin-data note."""
    c = synthetic(tmp_path, arm_rows("mtp", [(20, 1000, 64), (40, 800, 32), (60, 500, 16)])
                  + arm_rows("none", [(10, 1500, 128), (30, 900, 64), (50, 400, 8)]))
    spec = charts.chart_throughput(c).to_dict()
    curves = next(layer for layer in spec["layer"] if layer.get("name") == "curves")
    assert "strokeDash" not in curves["encoding"] and "thin data" not in json.dumps(spec["title"])
    assert rendered(charts.chart_throughput(c))["curves"] == 2


@pytest.mark.parametrize("xs, spans, runs", [
    ([1, 2, 3, 4], (), [([0, 1, 2, 3], False)]),
    ([1, 2, 3, 4], ((2, 3),), [([0, 1], False), ([1, 2], True), ([2, 3], False)]),
    ([1, 2, 3, 4], ((1, 2), (2, 4)), [([0, 1, 2, 3], True)]),
    ([1, 1.5, 2, 3], ((1, 2),), [([0, 1, 2], True), ([2, 3], False)]),
    ([5], (), [([0], False)]),
    ([], (), []),
])
def test_thin_runs_share_their_boundary_sample(xs, spans, runs):
    assert charts.thin_runs(xs, spans) == runs


def test_trend_chart_draws_a_point_per_date_and_target_shaped_by_grade(bundled):
    from specnb import trends

    t = trends.compute(bundled, "dsr1", "b200", "fp4", "1k/1k")
    chart = charts.chart_trend(t)
    spec = chart.to_dict(validate=True)
    frame = t.to_frame()
    known = frame[frame.ratio.notna()]
    counts = rendered(chart)
    assert counts["trend_points"] == len(known) and counts["trend_lines"] == len(t.targets)
    points = next(layer for layer in spec["layer"] if layer.get("name") == "trend_points")
    assert points["encoding"]["shape"]["field"] == "grade" and "fillOpacity" in points["encoding"]
    assert (known.grade == "sparse").any()  # the bundled history has thin points: drawn hollow
    assert charts.chart_trend(frame).to_dict(validate=True) == spec  # the frame specnb.trend returns draws the same
    one = charts.chart_trend(trends.compute(bundled, "glm5", "b200", "fp8", "8k/1k")).to_dict(validate=True)
    assert one["name"] == "no_history" and "Only one date in the data (2026-05-20)" in one["description"]


def test_interactivity_axis_names_a_tail_percentile():
    """At p99 the x axis is 1 / p99 TPOT: its title says so; the median's stays plain."""
    p99 = specnb.compare("dsr1", "b200", "fp4", "1k/1k", percentile="p99")
    median = specnb.compare("dsr1", "b200", "fp4", "1k/1k")
    for chart in (charts.chart_throughput, charts.chart_ratio):
        assert "Interactivity at p99 (tok/s/user)" in json.dumps(chart(p99).to_dict())
        assert "Interactivity at p99" not in json.dumps(chart(median).to_dict())
