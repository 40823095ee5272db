"""Which rows a comparison reads (specnb.data): tail latencies and power in every format, the as-of cut, the
percentile view, and the dating of CI rows. The as-of rule is the one issue 11's trend and diff reuse."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rows import api_row, ci_row, raw_result, write

import specnb
from specnb import data
from specnb.errors import DataError, UsageError

P99 = {"p99_tpot": 0.025, "p99_ttft": 0.9, "p99_e2el": 26.0}  # 1 / 0.025 = 40 tok/s/user at the p99


def only_point(path, **kw):
    data._CACHE.clear()
    ds = specnb.load(path, **kw)
    assert len(ds.points) == 1
    return ds.points.iloc[0]


# --- every format reads p90/p99 and power where present ----------------------------------------------------------


def test_api_rows_read_tail_latencies_and_energy(tmp_path):
    p = only_point(write(tmp_path / "a.json", [api_row(metrics={
        **P99, "p90_tpot": 0.02, "p90_intvty": 50.5, "p90_ttft": 0.5, "p90_e2el": 20.0,
        "avg_power_w": 600.0, "joules_per_total_token": 6.1, "joules_per_output_token": 12.0})]))
    assert p.interactivity == 80.0 and p.median_ttft_s == 0.2  # the median columns are untouched
    assert p.p99_interactivity == pytest.approx(40.0) and p.p99_tpot_s == 0.025  # 1 / p99 TPOT: no p99_intvty given
    assert (p.p99_ttft_s, p.p99_e2el_s) == (0.9, 26.0)
    assert p.p90_interactivity == 50.5  # the row's own p90_intvty wins, as median_intvty does
    assert (p.p90_ttft_s, p.p90_e2el_s, p.p90_tpot_s) == (0.5, 20.0, 0.02)
    assert p.joules_per_total_token == 6.1 and p.avg_power_w == 600.0 and p.joules_per_output_token == 12.0
    assert math.isnan(p.joules_per_input_token)


def test_power_without_joules_is_derived_from_throughput(tmp_path):
    p = only_point(write(tmp_path / "a.json", [api_row(metrics={"avg_power_w": 700.0, "tput_per_gpu": 200.0})]))
    assert p.joules_per_total_token == pytest.approx(3.5)  # W per GPU / tok/s per GPU
    p = only_point(write(tmp_path / "a.json", [api_row()]))
    assert math.isnan(p.joules_per_total_token) and math.isnan(p.avg_power_w) and math.isnan(p.p99_interactivity)


def test_bundled_joules_follow_the_power_formula():
    """The runner's own joules_per_total_token is avg_power_w / tput_per_gpu on every single-node row: the rule used
    where only power is given is the one the measured rows follow. A row's own value wins where given: one
    disaggregated row (4 prefill GPUs on a measured 8-GPU host) counts power over more GPUs than its throughput's."""
    h = specnb.load().history
    rows = h[h.avg_power_w.notna()]
    assert len(rows) >= 17 and set(rows.hardware) == {"mi355x"}
    single = rows[~rows.disagg]
    assert len(single) >= 20
    np.testing.assert_allclose(single.joules_per_total_token, single.avg_power_w / single.throughput_per_gpu,
                               rtol=1e-5)
    odd = rows[(rows.joules_per_total_token / (rows.avg_power_w / rows.throughput_per_gpu) - 1).abs() > 1e-3]
    assert list(odd.num_prefill_gpu) == [4.0] and odd.joules_per_total_token.iloc[0] == pytest.approx(5.112445)


def test_ci_rows_with_p99_but_no_p90(tmp_path):
    path = tmp_path / "run_42" / "agg_bmk.json"
    path.parent.mkdir()
    p = only_point(write(path, [ci_row(p99_tpot=0.05, p99_intvty=20.0, p99_ttft=1.5, p99_e2el=40.0)]))
    assert (p.p99_interactivity, p.p99_ttft_s, p.p99_e2el_s) == (20.0, 1.5, 40.0)
    assert math.isnan(p.p90_interactivity) and math.isnan(p.p90_ttft_s)


def test_raw_results_read_percentiles_in_ms(tmp_path):
    (tmp_path / "r").mkdir()
    path = write(tmp_path / "r" / "concurrency_4_req_rate_inf_gpus_16_ctx_8_gen_8.json",
                 raw_result(p99_tpot_ms=20.0, p99_ttft_ms=900.0, p99_e2el_ms=15000.0, p90_tpot_ms=16.0))
    p = only_point(path)
    assert p.interactivity == pytest.approx(80.0) and p.p99_interactivity == pytest.approx(50.0)
    assert p.p99_ttft_s == pytest.approx(0.9) and p.p99_e2el_s == pytest.approx(15.0)
    assert p.p90_interactivity == pytest.approx(62.5) and math.isnan(p.p90_ttft_s)


def test_csv_tail_columns_and_export_round_trip(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("model,hardware,framework,precision,spec_method,isl,osl,conc,interactivity,throughput_per_gpu,"
                   "p99_tpot_s,p99_ttft_s,p90_interactivity,avg_power_w\n"
                   "dsr1,b200,sglang,fp4,mtp,1024,1024,4,80,100,0.04,0.7,,500\n")
    p = only_point(csv)
    assert p.p99_interactivity == pytest.approx(25.0) and p.p99_ttft_s == 0.7  # 1 / p99_tpot_s
    assert math.isnan(p.p90_interactivity) and p.joules_per_total_token == pytest.approx(5.0)
    from specnb.cli import main
    assert main(["export", "--data", str(csv), "--out", str(tmp_path / "out.csv")]) == 0
    back = only_point(tmp_path / "out.csv")
    for col in data.OPTIONAL_MEASURES:
        assert (math.isnan(back[col]) and math.isnan(p[col])) or back[col] == pytest.approx(p[col]), col


def test_bad_tail_value_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"field 'metrics\.p99_tpot' is -1, expected a positive number"):
        specnb.load(write(tmp_path / "a.json", [api_row(metrics={"p99_tpot": -1})]))


def test_a_point_read_twice_keeps_the_metrics_either_copy_has(tmp_path):
    """A snapshot row carries p90 latencies and power its history twin lacks: the same point, no conflict."""
    write(tmp_path / "snapshot.json", [api_row(metrics={"p90_tpot": 0.02, "avg_power_w": 500.0})])
    write(tmp_path / "history.json", [api_row()])
    p = only_point(tmp_path)
    assert p.p90_interactivity == pytest.approx(50.0) and p.joules_per_total_token == pytest.approx(5.0)
    write(tmp_path / "history.json", [api_row(metrics={"p90_tpot": 0.03})])
    data._CACHE.clear()
    with pytest.raises(DataError, match=r"field 'p90_interactivity' is 50\.0, expected 33\.33+\d* as in "
                                        r".*history\.json#0 .*conflicting"):
        specnb.load(tmp_path)


# --- the percentile view --------------------------------------------------------------------------------------------


def test_at_percentile(tmp_path):
    ds = specnb.load(write(tmp_path / "a.json", [api_row(conc=4, metrics=P99), api_row(conc=8)]))
    pd.testing.assert_frame_equal(data.at_percentile(ds.points, "median"), ds.points)  # the median: unchanged
    p99 = data.at_percentile(ds.points, "p99")
    assert list(p99.conc) == [4] and list(p99.interactivity) == [pytest.approx(40.0)]
    assert data.at_percentile(ds.points, "p90").empty
    assert list(ds.points.interactivity) == [80.0, 80.0]  # the caller's frame is untouched
    with pytest.raises(UsageError, match=r"unknown percentile 'p95'; choose one of: median, p90, p99"):
        data.at_percentile(ds.points, "p95")
    assert ds.configurations(all_configs=True, percentile="p99").points[0] == {"mtp": 1}


# --- the as-of cut ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [("2026-05-05", "2026-05-05"), (" 2026-05-05 ", "2026-05-05"),
                                            (None, None)])
def test_parse_as_of(text, expected):
    assert data.parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "05/05/2026", "20260505", "yesterday", "", "2026-5-5"])
def test_bad_as_of_is_one_line(text):
    with pytest.raises(UsageError, match=r"^--as-of '.*': not a date; give a day as YYYY-MM-DD, e.g\. 2026-05-05$"):
        data.parse_as_of(text)


def test_dateless_ci_rows_are_dated_by_the_next_dated_run(tmp_path):
    """GitHub run ids grow with time: a CI run no API row dates counts from the earliest date of a later run."""
    for run, conc in ((100, 4), (300, 8), (900, 16)):
        path = tmp_path / f"run_{run}" / "agg_bmk.json"
        path.parent.mkdir()
        write(path, [ci_row(conc=conc)])
    rows = [api_row(conc=32, date="2026-01-10", run_url="https://github.com/o/r/actions/runs/200/attempts/1"),
            api_row(conc=64, date="2026-01-05", run_url="https://github.com/o/r/actions/runs/500/attempts/1"),
            api_row(conc=128, date="2026-02-01", run_url="https://github.com/o/r/actions/runs/300/attempts/1")]
    write(tmp_path / "api.json", rows)
    h = specnb.load(tmp_path).history.set_index("conc")
    assert h.loc[4, "dated_by"] == "2026-01-05"  # runs 200 and 500 come later; 500's date is the earlier
    assert h.loc[8, "date"] == "2026-02-01"  # run 300 has an API row: its own date (impute_dates)
    assert h.loc[16, "dated_by"] == ""  # no dated run after 900
    assert h.loc[4, "date"] == ""  # the "latest" rule still sorts it as oldest
    ds = specnb.load(tmp_path)
    assert sorted(data.points_as_of(ds.history, "2026-01-05").conc) == [4, 64]
    assert sorted(data.points_as_of(ds.history, "2099-01-01").conc) == [4, 8, 32, 64, 128]  # 16: never dated
    assert len(data.points_as_of(ds.history)) == 6


LINES = st.sampled_from(["sglang", "trt", "vllm"])
DATES = st.sampled_from(["", "2025-12-01", "2026-01-15", "2026-03-01", "2026-05-05", "2026-06-14"])


@st.composite
def histories(draw):
    """A history table of any shape: 1–40 rows over up to 3 lines and 4 concurrencies, dated or not, with or
    without run ids, some rows without a concurrency (sweeps that record none)."""
    n = draw(st.integers(1, 40))
    rows = []
    for i in range(n):
        conc = draw(st.sampled_from([4, 8, 16, 64, None]))
        rows.append({"model": "dsr1", "hardware": "b200", "framework": draw(LINES), "precision": "fp4",
                     "spec_method": draw(st.sampled_from(["mtp", "none"])), "topology": "tp8", "isl": 1024,
                     "osl": 1024, "conc": conc, "interactivity": float(draw(st.integers(1, 200))) + i / 1000,
                     "throughput_per_gpu": 100.0, "date": draw(DATES),
                     "run_id": draw(st.one_of(st.none(), st.integers(1, 50))), "source": f"f.json#{i}"})
    frame = pd.DataFrame(rows)
    frame["conc"] = frame["conc"].astype("Int64")
    frame["run_id"] = frame["run_id"].astype("Int64")
    return frame.assign(dated_by=data.dated_by(frame))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from(["2025-11-30", "2025-12-01", "2026-02-01", "2026-05-05", "2099-12-31"]))
def test_as_of_property(history, as_of):
    """A point dated after the as-of day never counts; the newest row per line and concurrency as of that day
    does (without a day it is the plain "latest" rule: ``test_no_as_of_is_todays_points``)."""
    before = history.copy()
    got = data.points_as_of(history, as_of)
    pd.testing.assert_frame_equal(history, before)  # no mutation
    assert ((got.dated_by != "") & (got.dated_by <= as_of)).all()
    eligible = history[(history.dated_by != "") & (history.dated_by <= as_of)]
    pd.testing.assert_frame_equal(got, data.latest(eligible))
    key = list(data.LINE_KEY) + ["conc"]
    with_conc = eligible[eligible.conc.notna()]
    newest = with_conc.assign(_r=with_conc.run_id.fillna(-1)).sort_values(["date", "_r", "source"]).drop_duplicates(
        key, keep="last")
    kept = got[got.conc.notna()]
    assert sorted(kept.source) == sorted(newest.source)  # per line and conc, exactly the newest as of that day


@pytest.mark.parametrize("as_of", ["2025-12-15", "2026-01-10", "2026-03-01", "2026-05-05", "2026-06-01"])
def test_bundled_as_of(bundled, as_of):
    """On the real data: nothing after the day; every kept point is the newest of its line and concurrency then."""
    got = data.points_as_of(bundled.history, as_of)
    assert len(got) and (got.dated_by <= as_of).all() and (got.dated_by != "").all()
    later = bundled.history[bundled.history.dated_by > as_of]
    assert not got.source.isin(later.source).any()
    eligible = bundled.history[(bundled.history.dated_by != "") & (bundled.history.dated_by <= as_of)]
    key = list(data.LINE_KEY) + ["conc"]
    newest = eligible[eligible.conc.notna()].assign(_r=eligible.run_id.fillna(-1)).sort_values(
        ["date", "_r", "source"]).drop_duplicates(key, keep="last")
    assert set(newest.source) <= set(got.source)


def test_no_as_of_is_todays_points(bundled):
    pd.testing.assert_frame_equal(data.points_as_of(bundled.history), bundled.points)
    pd.testing.assert_frame_equal(bundled.usable_points(), bundled.points)
    newest = max(d for d in bundled.history.date if d)
    dated = bundled.points[bundled.points.dated_by != ""].reset_index(drop=True)
    pd.testing.assert_frame_equal(data.points_as_of(bundled.history, newest), dated)


def test_as_of_before_every_row(bundled):
    assert data.points_as_of(bundled.history, "2020-01-01").empty
    assert bundled.configurations(as_of="2020-01-01").empty


def test_load_is_neither_dated_nor_percentile_bound():
    import inspect
    assert not {"as_of", "percentile"} & set(inspect.signature(specnb.load).parameters)


def test_json_rows_need_no_new_fields(tmp_path):
    """A file with none of the new fields loads as before (all optional)."""
    ds = specnb.load(write(tmp_path / "a.json", [api_row()]))
    assert ds.points[list(data.OPTIONAL_MEASURES)].isna().all().all()
    assert json.loads(json.dumps(ds.points.iloc[0].to_dict(), default=str))["interactivity"] == 80.0
