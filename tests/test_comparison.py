import json
import math

import numpy as np
import pytest
from rows import api_row, write

import specnb
from specnb import comparison
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
    assert comparison_html(narrow, include_css=False).startswith("<table")
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
