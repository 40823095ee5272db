import json
import math

import numpy as np
import pytest
from rows import api_row, write

import specnb
from specnb import comparison, data
from specnb.errors import UsageError


def arm_rows(spec, pts, framework="sglang", hardware="b200"):
    return [api_row(spec_method=spec, conc=int(c), framework=framework, hardware=hardware,
                    metrics={"median_intvty": float(x), "tput_per_gpu": float(y), "output_tput_per_gpu": y / 2,
                             "input_tput_per_gpu": y / 2})
            for x, y, c in pts]


def dataset(tmp_path, rows):
    return specnb.load(write(tmp_path / "d.json", rows))


def run(ds, **kw):
    return comparison.compare(ds, "dsr1", kw.pop("hardware", "b200"), "fp4", "1k/1k", **kw)


MTP = [(20, 1000, 64), (40, 800, 32), (60, 500, 16), (100, 200, 4)]
OFF = [(10, 1500, 128), (30, 900, 64), (50, 300, 8), (80, 100, 2)]


def test_band_targets_and_values(tmp_path):
    c = run(dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF)))
    assert (c.band.low, c.band.high) == (20, 80)
    assert [t.interactivity for t in c.targets] == [35, 50, 65]
    for t in c.targets:
        for arm in ("mtp", "none"):
            v = t.arms[arm]
            f = c.frontiers[arm]
            assert f.x[0] <= t.interactivity <= f.x[-1] and v.in_range and not v.clamped
    # at a knot the value is the measured one
    c2 = run(dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF)), targets=[40, 50])
    assert c2.targets[0].arms["mtp"].throughput_per_gpu == 800
    assert c2.targets[1].arms["none"].throughput_per_gpu == 300


def test_cost_derived_from_interpolated_throughput(tmp_path):
    c = run(dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF)), cost_table="2026-04")
    for t in c.targets:
        for v in t.arms.values():
            assert v.cost_per_mtok == pytest.approx(1.95 * 1e6 / (v.throughput_per_gpu * 3600))
            assert v.tok_s_per_mw == pytest.approx(v.throughput_per_gpu * 1000 / 2.17)
            assert v.cost_per_mtok_by_type["output"] == pytest.approx(1.95e6 / (v.output_throughput_per_gpu * 3600))


def test_crossover_found_between_knots(tmp_path):
    # Off leads at low interactivity, MTP above: the curves cross once between 30 and 50
    c = run(dataset(tmp_path, arm_rows("mtp", [(20, 1000, 64), (40, 800, 32), (60, 500, 16)])
                    + arm_rows("none", [(20, 1400, 64), (30, 1000, 32), (50, 300, 8), (60, 200, 4)])))
    assert len(c.crossovers) == 1
    x = c.crossovers[0]
    assert 30 < x.interactivity < 40 and x.leader_above == "mtp" and x.leader_below == "none"
    mtp = comparison.MonotoneCurve.fit(c.frontiers["mtp"].x, c.frontiers["mtp"].y)
    off = comparison.MonotoneCurve.fit(c.frontiers["none"].x, c.frontiers["none"].y)
    assert float(mtp(x.interactivity)) == pytest.approx(float(off(x.interactivity)), rel=1e-9)
    assert c.to_dict()["crossovers"] == [x.interactivity]


def test_no_extrapolation_outside_an_arm(tmp_path):
    c = run(dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF)), targets=[15, 90])
    low, high = c.targets
    assert math.isnan(low.arms["mtp"].throughput_per_gpu) and not low.arms["mtp"].in_range
    assert low.arms["none"].in_range
    assert math.isnan(high.arms["none"].throughput_per_gpu) and math.isnan(high.arms["none"].cost_per_mtok)
    assert low.winner is None
    assert any("never extrapolates" in n for n in c.notes)


def test_strict_targets_outside_band_is_an_error(tmp_path):
    ds = dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF))
    with pytest.raises(UsageError, match=r"--targets 90 is outside the matched band 20.0–80.0"):
        run(ds, targets=[50, 90], strict_targets=True)
    with pytest.raises(UsageError, match=r"--targets: 'fast' is not a number"):
        run(ds, targets="30,fast")


def test_inferencex_clamps_and_flags(tmp_path):
    ds = dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF))
    c = run(ds, semantics="inferencex")
    assert c.band.kind == "raw overlap" and (c.band.shown_low, c.band.shown_high) == (20, 80)
    assert [t.interactivity for t in c.targets] == [35, 50, 65]
    c2 = run(ds, semantics="inferencex", targets=[90])
    v = c2.targets[0].arms["none"]
    assert v.clamped and v.evaluated_at == 80 and v.throughput_per_gpu == 100


def test_inferencex_union_when_disjoint(tmp_path):
    ds = dataset(tmp_path, arm_rows("mtp", [(60, 500, 16), (100, 200, 4)]) + arm_rows("none", [(10, 900, 9), (30, 300, 4)]))
    c = run(ds, semantics="inferencex")
    assert c.band.kind == "raw union" and (c.band.low, c.band.high) == (10, 100)
    assert all(t.arms["none"].clamped or t.arms["mtp"].clamped for t in c.targets)


def test_no_overlap_gives_no_table(tmp_path):
    ds = dataset(tmp_path, arm_rows("mtp", [(60, 500, 16), (100, 200, 4)]) + arm_rows("none", [(10, 900, 9), (30, 300, 4)]))
    c = run(ds)
    assert c.band is None and c.targets == () and not c.comparable
    assert any("do not overlap" in n for n in c.notes)
    assert c.to_dict()["band"] is None and c.to_dict()["targets"] == []


def test_single_point_and_dominated_arms(tmp_path):
    ds = dataset(tmp_path, arm_rows("mtp", [(50, 500, 16)]) + arm_rows("none", OFF))
    c = run(ds)
    assert c.band is None and any("single measured point" in n for n in c.notes)
    ds = dataset(tmp_path, arm_rows("mtp", [(50, 500, 16), (40, 400, 32), (30, 100, 64)]) + arm_rows("none", OFF))
    c = run(ds)
    assert c.frontiers["mtp"].size == 1 and any("dominated" in n for n in c.notes)


def test_missing_arm_is_reported_not_crashed(tmp_path):
    c = run(dataset(tmp_path, arm_rows("none", OFF)))
    assert not c.comparable and any("MTP has no measured points" in n for n in c.notes)


def test_two_point_arm_is_a_straight_line(tmp_path):
    c = run(dataset(tmp_path, arm_rows("mtp", [(20, 1000, 64), (100, 200, 4)]) + arm_rows("none", OFF)), targets=[60])
    assert c.targets[0].arms["mtp"].throughput_per_gpu == pytest.approx(600)
    assert any("only two points" in n for n in c.notes)


def test_gpu_without_rate_shows_no_rate(tmp_path):
    c = run(dataset(tmp_path, arm_rows("mtp", MTP, hardware="tpu9") + arm_rows("none", OFF, hardware="tpu9")),
            hardware="tpu9")
    v = c.targets[0].arms["mtp"]
    assert math.isnan(v.cost_per_mtok) and math.isnan(v.tok_s_per_mw) and v.throughput_per_gpu > 0
    assert c.to_dict()["targets"][0]["arms"]["mtp"]["cost_per_mtok"] is None
    assert any("no cost and power" in n for n in c.notes)
    from specnb.table import comparison_html
    assert "no rate" in comparison_html(c) and "$0.000" not in comparison_html(c)


def test_more_than_two_arms(tmp_path):
    eagle = [(25, 900, 64), (70, 300, 8)]
    c = run(dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("eagle", eagle) + arm_rows("none", OFF)),
            arms=("mtp", "eagle", "none"))
    assert c.arms == ("mtp", "eagle", "none") and (c.band.low, c.band.high) == (25, 70)
    assert set(c.targets[0].arms) == {"mtp", "eagle", "none"}


def test_engine_caveat(tmp_path):
    c = run(dataset(tmp_path, arm_rows("mtp", MTP, framework="trt") + arm_rows("none", OFF, framework="sglang")))
    assert c.engines == {"mtp": ("trt",), "none": ("sglang",)} and c.engines_differ
    c = run(dataset(tmp_path, arm_rows("mtp", MTP) + arm_rows("none", OFF)))
    assert not c.engines_differ


def test_json_shape_keys_exact(bundled):
    c = comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k")
    d = json.loads(json.dumps(c.to_dict()))
    assert d["schema"] == "specnb.comparison/1"
    assert d["config"] == {"model": "dsr1", "hardware": "b200", "precision": "fp4", "isl": 1024, "osl": 1024}
    assert d["arms"] == ["mtp", "none"] and d["semantics"] == "specnb"
    assert set(d["cost"]) == {"table", "provider", "token_type", "usd_per_gpu_hour", "kw_per_gpu"}
    assert set(d["band"]) >= {"low", "high"} and isinstance(d["crossovers"], list)
    for t in d["targets"]:
        assert set(t) >= {"interactivity", "arms"}
        for arm in ("mtp", "none"):
            assert set(t["arms"][arm]) >= {"throughput_per_gpu", "cost_per_mtok", "tok_s_per_mw", "concurrency",
                                           "clamped", "in_range"}


def test_every_bundled_target_inside_both_frontiers(bundled):
    for cfg in bundled.configurations().itertuples():
        c = comparison.compare(bundled, cfg.model, cfg.hardware, cfg.precision, isl=cfg.isl, osl=cfg.osl)
        for t in c.targets:
            for arm in c.arms:
                lo, hi = c.frontiers[arm].x_range
                assert lo <= t.interactivity <= hi
                assert np.isfinite(t.arms[arm].throughput_per_gpu)


def test_does_not_mutate_dataset(bundled):
    before = bundled.points.copy()
    comparison.compare(bundled, "dsr1", "mi355x", "fp8", "1k/1k")
    import pandas as pd
    pd.testing.assert_frame_equal(bundled.points, before)


def test_unknown_configuration_lists_choices(bundled):
    with pytest.raises(UsageError, match=r"unknown configuration 'dsr1/b200/int8/1k/1k'; choose one of: .*dsr1/b200/fp4/1k/1k"):
        comparison.compare(bundled, "dsr1", "b200", "int8", "1k/1k")
    with pytest.raises(UsageError, match=r"--sequence '1k' is not like 1k/1k"):
        comparison.compare(bundled, "dsr1", "b200", "fp4", "1k")


def test_wide_table_also_comes_in_print_sized_parts(bundled):
    """More targets than fit a printed page: the wide table for screens, plus balanced narrower ones for print
    that hold every value exactly once."""
    import re

    from specnb.table import PRINT_COLUMNS, comparison_html

    narrow = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    assert comparison_html(narrow, include_css=False).startswith('<div class="specnb-comparison"><table')
    assert comparison_html(narrow).count("<table") == 1
    wide = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled, targets=[40, 60, 80, 100, 120, 140, 160])
    out = comparison_html(wide, include_css=False)
    parts_re = r'<div class="specnb-table-screen">(.*)</div><div class="specnb-table-print">(.*)</div>'
    screen, printed = re.fullmatch(parts_re, out, re.S).groups()
    assert screen.count("<table") == 1
    parts = re.findall(r"<table.*?</table>", printed, re.S)
    heads = [re.findall(r"([0-9.,]+) tok/s/user", part) for part in parts]
    assert [len(h) for h in heads] == [3, 2, 2] and all(len(h) * 2 <= PRINT_COLUMNS for h in heads)
    assert sum(heads, []) == re.findall(r"([0-9.,]+) tok/s/user", screen)
    cells = lambda html: re.findall(r'<td class="(?:best|missing|)">([^<]*)</td>', html)  # noqa: E731 - values only
    assert sorted(sum((cells(part) for part in parts), [])) == sorted(cells(screen))
    assert printed.count("<caption>") == 1 and parts[-1].count("<caption>") == 1


# --- partial metrics ----------------------------------------------------------------------------------------------


def partial_rows(spec, pts, drop=(), blank_at=()):
    """Rows whose ``drop`` metrics are absent everywhere and which have no ``median_ttft`` at the points
    ``blank_at`` (indexes into ``pts``); TTFT and E2E are known functions of interactivity."""
    rows = []
    for i, (x, y, c) in enumerate(pts):
        metrics = {"median_intvty": float(x), "tput_per_gpu": float(y), "output_tput_per_gpu": y / 2,
                   "input_tput_per_gpu": y / 2, "median_ttft": 10.0 / x, "median_e2el": 100.0 / x}
        for name in drop:
            metrics.pop(name)
        if i in blank_at:
            metrics["median_ttft"] = None
        row = api_row(spec_method=spec, conc=int(c), metrics={})
        row["metrics"] = metrics
        rows.append(row)
    return rows


def test_absent_metric_is_not_measured_everywhere(tmp_path):
    ds = dataset(tmp_path, partial_rows("mtp", MTP, drop=("median_ttft", "median_e2el"))
                 + partial_rows("none", OFF, drop=("median_ttft", "median_e2el", "input_tput_per_gpu")))
    c = run(ds, token_type="input")
    d = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    for t in d["targets"]:
        for arm in ("mtp", "none"):
            assert t["arms"][arm]["median_ttft_s"] is None and t["arms"][arm]["median_e2el_s"] is None
            assert t["arms"][arm]["throughput_per_gpu"] > 0
        assert t["arms"]["none"]["cost_per_mtok"] is None and t["arms"]["none"]["tok_s_per_mw"] is None
        assert t["arms"]["mtp"]["cost_per_mtok"] > 0  # MTP has input throughput: its cost is there
    assert d["metric_knots"]["none"]["median_ttft_s"] == 0 and d["metric_knots"]["mtp"]["throughput_per_gpu"] == 4
    from specnb.table import terminal_table
    text = terminal_table(c)
    assert "no rate" not in text
    ttft = next(line for line in text.splitlines() if line.startswith("Median TTFT"))
    assert ttft.count("not measured") == 6
    cost = next(line for line in text.splitlines() if line.startswith("Cost"))
    assert cost.split(")", 1)[1].split() == ["$1.120", "not", "measured", "$1.479", "not", "measured", "$2.174", "not",
                                           "measured"]
    assert any("Not in the data: input throughput (Off), median TTFT and median E2E latency" in n for n in c.notes)
    frame = c.to_frame()
    assert frame.median_ttft_s.isna().all()
    from specnb.report import comparison_csv_text
    header, first = comparison_csv_text(c).splitlines()[:2]
    assert first.split(",")[header.split(",").index("median_ttft_s")] == ""


def test_metric_is_interpolated_over_the_knots_that_carry_it(tmp_path):
    # MTP's TTFT is missing at its first knot (x=20): it exists from 40 to 100 only
    ds = dataset(tmp_path, partial_rows("mtp", MTP, blank_at=(0,)) + partial_rows("none", OFF))
    c = run(ds, targets=[30, 40, 50, 65])
    mc = c.metric_curves["mtp"]["median_ttft_s"]
    assert mc.knots == (1, 2, 3) and list(mc.curve.x) == [40, 60, 100]
    by_x = {t.interactivity: t.arms["mtp"] for t in c.targets}
    assert math.isnan(by_x[30].ttft_s) and by_x[30].throughput_per_gpu > 0  # throughput still measured
    assert by_x[40].ttft_s == pytest.approx(10.0 / 40)  # a knot: the measured value
    from specnb.spline import MonotoneCurve
    expected = MonotoneCurve.fit([40, 60, 100], [10 / 40, 10 / 60, 10 / 100])
    assert by_x[65].ttft_s == pytest.approx(float(expected(65)))
    assert any("median TTFT at 3 of MTP's 4 frontier points" in n for n in c.notes)


def test_metric_on_fewer_than_two_knots_is_not_measured(tmp_path):
    ds = dataset(tmp_path, partial_rows("mtp", MTP, blank_at=(0, 1, 2)) + partial_rows("none", OFF))
    c = run(ds, targets=[100, 50])
    ttft = c.metric_curves["mtp"]["median_ttft_s"]
    assert ttft.knots == (3,) and not ttft.measured
    assert all(math.isnan(t.arms["mtp"].ttft_s) for t in c.targets)  # even at the knot itself (x=100)


def test_concurrency_not_recorded(tmp_path):
    rows = arm_rows("mtp", MTP) + arm_rows("none", OFF)
    for r in rows:
        del r["conc"]
    c = run(dataset(tmp_path, rows))
    assert all(v.concurrency is None for t in c.targets for v in t.arms.values())
    d = c.to_dict()
    assert d["metric_knots"]["mtp"]["conc"] == 0 and d["targets"][0]["arms"]["mtp"]["concurrency"] is None


def test_inferencex_single_point_overlap_is_no_overlap(tmp_path):
    """MTP's one point lies inside Off's range: the raw ranges overlap in a single point, which the dashboard
    treats as no overlap: the band is the union, and MTP's values are clamped to its point and flagged."""
    ds = dataset(tmp_path, arm_rows("mtp", [(40, 900, 64)]) + arm_rows("none", OFF))
    c = run(ds, semantics="inferencex")
    assert c.band.kind == "raw union" and (c.band.low, c.band.high) == (10, 80)
    assert [t.interactivity for t in c.targets] == [round(10 + 70 * q) for q in (0.25, 0.5, 0.75)]
    for t in c.targets:
        v = t.arms["mtp"]
        assert v.evaluated_at == 40 and v.throughput_per_gpu == 900 and v.clamped == (t.interactivity != 40)
    # touching ends (MTP's lowest point is Off's highest) are a single point of overlap too
    ds2 = dataset(tmp_path, arm_rows("mtp", [(80, 300, 8), (120, 100, 2)]) + arm_rows("none", OFF))
    assert run(ds2, semantics="inferencex").band.kind == "raw union"


@pytest.mark.parametrize(("hardware", "sequence"), [("b300", "1k/1k"), ("gb200", "8k/1k")])
def test_inferencex_bundled_single_point_cases(hardware, sequence):
    """The two bundled cases of the dashboard snapshot where MTP has one point (within Off's range)."""
    snap = specnb.load(data.BUNDLED_DATA / "inferencex-api" / "2026-06-14" / "benchmarks.json")
    c = comparison.compare(snap, "dsr1", hardware, "fp8", sequence, semantics="inferencex")
    pts = c.points
    mtp, off = pts[pts.spec_method == "mtp"].interactivity, pts[pts.spec_method == "none"].interactivity
    assert len(mtp) == 1 and off.min() < mtp.iloc[0] < off.max()
    low, high = off.min(), off.max()
    assert c.band.kind == "raw union" and (c.band.low, c.band.high) == (low, high)
    assert (c.band.shown_low, c.band.shown_high) == (math.ceil(low), math.floor(high))
    assert [t.interactivity for t in c.targets] == [round(low + (high - low) * q) for q in (0.25, 0.5, 0.75)]
    for t in c.targets:
        v = t.arms["mtp"]
        assert v.clamped and v.evaluated_at == mtp.iloc[0]
        assert v.throughput_per_gpu == pts[pts.spec_method == "mtp"].throughput_per_gpu.iloc[0]
        assert t.arms["none"].in_range and not t.arms["none"].clamped
