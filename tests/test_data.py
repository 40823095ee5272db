import json
import math

import pandas as pd
import pytest
from rows import api_row, ci_row, raw_result, write

import specnb
from specnb import data
from specnb.errors import DataError, FormatError, UsageError


def test_bundled_loads_and_has_34_comparable_configs(bundled):
    configs = bundled.configurations()
    assert len(configs) >= 34
    assert {f.format for f in bundled.files} == {"api", "ci-aggregate", "raw-client"}
    assert len(bundled.points) < len(bundled.history)
    # every point is valid
    p = bundled.points
    assert (p.interactivity > 0).all() and (p.throughput_per_gpu > 0).all()
    assert set(p.hardware) >= {"b200", "mi355x", "gb200", "h100"}


def test_snapshot_alone_gives_34_configs(bundled):
    snap = specnb.load(data.BUNDLED_DATA / "inferencex-api" / "2026-06-14" / "benchmarks.json")
    assert len(snap.configurations()) == 34
    assert len(snap.points) == 435  # the API's own "latest" rows load unchanged


def test_name_normalisation_of_ci_rows(tmp_path):
    ds = specnb.load(write(tmp_path / "run_7" / "agg_bmk.json" if (tmp_path / "run_7").mkdir() is None else "",
                           [ci_row()]))
    row = ds.points.iloc[0]
    assert (row.model, row.hardware, row.framework, row.precision, row.spec_method) == \
        ("dsr1", "b200", "trt", "fp4", "mtp")
    assert row.run_id == 7 and row.date == ""


@pytest.mark.parametrize("raw, key", [
    ("mi355x-amd_0", "mi355x"), ("b200-trt", "b200"), ("gb200_nv", "gb200")])
def test_hardware_keys(raw, key):
    from specnb.names import hardware_key
    assert hardware_key(raw) == key


def test_latest_rule_by_date_then_run(tmp_path):
    rows = [api_row(date="2026-05-01", run_url="x/runs/5/", metrics={"tput_per_gpu": 1.0}),
            api_row(date="2026-06-01", run_url="x/runs/3/", metrics={"tput_per_gpu": 2.0}),
            api_row(date="2026-06-01", run_url="x/runs/4/", metrics={"tput_per_gpu": 3.0}),
            api_row(conc=8, date="2026-01-01", metrics={"tput_per_gpu": 4.0})]
    ds = specnb.load(write(tmp_path / "b.json", rows))
    assert sorted(ds.points.throughput_per_gpu) == [3.0, 4.0]
    assert len(ds.history) == 4


def test_ci_rows_take_dates_of_their_run(tmp_path):
    (tmp_path / "run_123").mkdir()
    write(tmp_path / "run_123" / "agg_bmk.json", [ci_row(conc=16)])
    write(tmp_path / "api.json", [api_row(conc=4)])
    ds = specnb.load(tmp_path)
    assert set(ds.points.date) == {"2026-06-01"}


def test_identical_duplicates_collapse(tmp_path):
    write(tmp_path / "a.json", [api_row()])
    write(tmp_path / "b.json", [api_row()])
    assert len(specnb.load(tmp_path).history) == 1


def test_raw_client_result(tmp_path):
    d = tmp_path / "dsr1"
    d.mkdir()
    write(d / "concurrency_4_req_rate_inf_gpus_16_ctx_8_gen_8.json", raw_result())
    ds = specnb.load(d, meta={"hardware": "h200", "precision": "fp8", "spec_method": "mtp"})
    r = ds.points.iloc[0]
    assert r.interactivity == pytest.approx(80.0)
    assert r.throughput_per_gpu == pytest.approx(800 / 16)
    assert r.output_throughput_per_gpu == pytest.approx(400 / 8)  # decode GPUs
    assert r.input_throughput_per_gpu == pytest.approx(400 / 8)  # prefill GPUs
    assert r.median_ttft_s == pytest.approx(0.12) and r.isl == 1024 and r.conc == 4
    assert (r.hardware, r.precision, r.model, r.date) == ("h200", "fp8", "dsr1", "2026-04-28")


def test_raw_client_without_meta_records_unknown(tmp_path):
    write(tmp_path / "concurrency_4_req_rate_inf_gpus_16_ctx_8_gen_8.json", raw_result())
    r = specnb.load(tmp_path).points.iloc[0]
    assert r.hardware == "unknown" and r.spec_method == "unknown"


def test_csv_roundtrip(tmp_path, bundled):
    from specnb.csvfiles import write_points_csv

    sub = bundled.points[bundled.points.hardware == "b200"]
    write_points_csv(sub, tmp_path / "p.csv")
    again = specnb.load(tmp_path / "p.csv")
    assert len(again.points) == len(sub)
    a = again.points.sort_values(["spec_method", "framework", "topology", "conc"]).reset_index(drop=True)
    b = sub.sort_values(["spec_method", "framework", "topology", "conc"]).reset_index(drop=True)
    assert (a.throughput_per_gpu == b.throughput_per_gpu).all()


def test_load_is_cached():
    assert specnb.load() is specnb.load()


# --- bad input: every message names the file and the field; nothing loads partially -----------------

API_BAD = [
    (dict(metrics={"tput_per_gpu": "abc"}), r"field 'metrics.tput_per_gpu' is 'abc', expected a positive number"),
    (dict(metrics={"tput_per_gpu": float("nan")}), r"field 'metrics.tput_per_gpu' is nan, expected a finite number"),
    (dict(metrics={"tput_per_gpu": float("inf")}), r"field 'metrics.tput_per_gpu' is inf, expected a finite"),
    (dict(metrics={"tput_per_gpu": 0}), r"field 'metrics.tput_per_gpu' is 0, expected a positive number"),
    (dict(metrics={"median_intvty": -3.0}), r"field 'metrics.median_intvty' is -3.0, expected a positive"),
    (dict(metrics={"median_ttft": -0.1}), r"field 'metrics.median_ttft' is -0.1"),
    (dict(metrics={"median_e2el": 0}), r"field 'metrics.median_e2el' is 0"),
    (dict(conc="many"), r"field 'conc' is 'many', expected a positive whole number"),
    (dict(isl=None), r"field 'isl' is 'missing'"),
    (dict(hardware=None), r"field 'hardware' is 'missing', expected a name"),
]


@pytest.mark.parametrize("over, match", API_BAD)
def test_bad_api_rows(tmp_path, over, match):
    path = write(tmp_path / "bench.json", [api_row(conc=8), api_row(**over)])
    conc = over.get("conc", 4)
    with pytest.raises(DataError, match=rf"bench\.json row 1 \(conc {conc}\): " + match) as info:
        specnb.load(path)
    assert info.value.path.endswith("bench.json")


def test_missing_required_metric(tmp_path):
    row = api_row()
    del row["metrics"]["tput_per_gpu"]
    with pytest.raises(DataError, match=r"bench\.json row 0 \(conc 4\): field 'metrics.tput_per_gpu' is 'missing'"):
        specnb.load(write(tmp_path / "bench.json", [row]))


@pytest.mark.parametrize("field, value, match", [
    ("tput_per_gpu", "12x", r"field 'tput_per_gpu' is '12x'"),
    ("median_intvty", float("nan"), r"field 'median_intvty' is nan, expected a finite"),
    ("tput_per_gpu", -1, r"field 'tput_per_gpu' is -1, expected a positive"),
])
def test_bad_ci_rows(tmp_path, field, value, match):
    (tmp_path / "run_9").mkdir()
    path = write(tmp_path / "run_9" / "agg_bmk.json", [ci_row(**{field: value})])
    with pytest.raises(DataError, match=r"agg_bmk\.json row 0 \(conc 4\): " + match):
        specnb.load(path)


def test_bad_raw_result(tmp_path):
    path = write(tmp_path / "concurrency_4_req_rate_inf_gpus_16_ctx_8_gen_8.json", raw_result(median_tpot_ms=0))
    with pytest.raises(DataError, match=r"gen_8\.json \(conc 4\): field 'median_tpot_ms' is 0"):
        specnb.load(path)


def test_many_problems_are_counted(tmp_path):
    rows = [api_row(conc=c, metrics={"tput_per_gpu": -1}) for c in (1, 2, 3)]
    with pytest.raises(DataError, match=r"and 2 more problems; nothing was loaded") as info:
        specnb.load(write(tmp_path / "b.json", rows))
    assert len(info.value.problems) == 3


def test_conflicting_duplicates(tmp_path):
    write(tmp_path / "a.json", [api_row()])
    write(tmp_path / "b.json", [api_row(metrics={"tput_per_gpu": 101.0})])
    with pytest.raises(DataError, match=r"b\.json#0 \(conc 4\): field 'throughput_per_gpu' is 101.0, expected 100.0 "
                                        r"as in .*a\.json#0.*conflicting duplicate"):
        specnb.load(tmp_path)


@pytest.mark.parametrize("content, match", [
    ("", r"x\.json: file is empty"),
    ("[{\"a\": 1,}]", r"x\.json: malformed JSON at line 1 column 10"),
    ("{\"hello\": 1}", r"x\.json: not a known benchmark format \(a JSON dict with keys \['hello'\]\)"),
    ("[1, 2]", r"x\.json: not a known benchmark format \(a JSON list of int\)"),
    ("\"text\"", r"x\.json: not a known benchmark format"),
])
def test_bad_files(tmp_path, content, match):
    (tmp_path / "x.json").write_text(content)
    with pytest.raises(FormatError, match=match):
        specnb.load(tmp_path / "x.json")


def test_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(FormatError, match=r"folder holds no benchmark files"):
        specnb.load(tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(FormatError, match=r"nope\.json: no such file or folder"):
        specnb.load(tmp_path / "nope.json")


def test_oversized_file_rejected_without_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # a sparse 200 MB file: rejected by size before any byte is read
        fh.truncate(200 * 1024 * 1024)
    with pytest.raises(FormatError, match=r"big\.json: 200 MB is over the 100 MB limit"):
        specnb.load(big)
    monkeypatch.setenv("SPECNB_MAX_FILE_MB", "0.0001")
    with pytest.raises(FormatError, match=r"ok\.json: 0 MB is over the 0 MB limit"):
        specnb.load(write(tmp_path / "ok.json", [api_row()]))


def test_csv_wrong_header(tmp_path):
    (tmp_path / "p.csv").write_text("model,hw,tput\ndsr1,b200,1\n")
    with pytest.raises(FormatError, match=r"p\.csv: CSV header lacks required column\(s\) hardware, framework"):
        specnb.load(tmp_path / "p.csv")


def test_csv_bad_value_names_line(tmp_path, bundled):
    from specnb.csvfiles import write_points_csv

    write_points_csv(bundled.points.head(3), tmp_path / "p.csv")
    text = (tmp_path / "p.csv").read_text().splitlines()
    cols = text[0].split(",")
    cells = text[2].split(",")
    cells[cols.index("throughput_per_gpu")] = "fast"
    text[2] = ",".join(cells)
    (tmp_path / "p.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataError, match=r"p\.csv row 3 .*field 'throughput_per_gpu' is 'fast'"):
        specnb.load(tmp_path / "p.csv")


def test_nothing_loads_partially(tmp_path):
    write(tmp_path / "good.json", [api_row()])
    write(tmp_path / "bad.json", [api_row(metrics={"tput_per_gpu": "x"})])
    data._CACHE.clear()
    with pytest.raises(DataError):
        specnb.load(tmp_path)
    assert not data._CACHE  # no dataset was produced or cached


def test_unknown_meta_key():
    with pytest.raises(UsageError, match=r"unknown --meta key 'gpu'"):
        specnb.load(meta={"gpu": "h100"})


def test_errors_pickle():
    import pickle

    from specnb.errors import BuildError, CostTableError, Problem
    err = DataError.from_problems([Problem("f.json", 3, "x", 1, "y", 8)])
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.problems == err.problems
    for cls in (FormatError, UsageError, CostTableError, BuildError):
        assert str(pickle.loads(pickle.dumps(cls("m")))) == "m"


def test_canonical_columns_present(bundled):
    assert set(data.CANONICAL_COLUMNS) <= set(bundled.points.columns)
    assert not math.isnan(bundled.points.throughput_per_gpu.sum())
    assert isinstance(bundled.points, pd.DataFrame)
    json.dumps(bundled.configurations().to_dict("records"))
