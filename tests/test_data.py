import json
import math

import pandas as pd
import pytest
from rows import api_row, ci_row, raw_result, write

import specnb
from specnb import data
from specnb.errors import DataError, FormatError, UsageError


def test_bundled_loads_and_has_36_comparable_configs(bundled):
    configs = bundled.configurations()
    assert len(configs) == 36
    assert {f.format for f in bundled.files} == {"api", "ci-aggregate", "raw-client", "csv"}
    glm = configs[configs.model == "glm5"]
    assert sorted(zip(glm.hardware, glm.precision, glm.sequence, strict=True)) == [("b200", "fp8", "8k/1k"),
                                                                                   ("mi355x", "fp8", "8k/1k")]
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


def test_load_is_cached_but_each_caller_gets_its_own(monkeypatch):
    first = specnb.load()
    monkeypatch.setattr(data, "read_file", lambda *a: pytest.fail("the files were read again"))
    second = specnb.load()
    assert second is not first and second.points is not first.points  # see test_reliability_shared.py
    assert second.points.equals(first.points) and second.history.equals(first.history)


@pytest.mark.parametrize("per_frame", [1, 7, 500])
def test_frames_made_of_any_number_of_files_load_the_same(monkeypatch, per_frame):
    """Rows wait across files until ROWS_PER_FRAME make a frame: where the cut falls (inside a file, after
    every row, or once for all) changes no value, dtype or row order."""
    data._CACHE.clear()
    whole = data.load()
    data._CACHE.clear()
    monkeypatch.setattr(data, "ROWS_PER_FRAME", per_frame)
    cut = data.load()
    data._CACHE.clear()
    pd.testing.assert_frame_equal(cut.history, whole.history)
    pd.testing.assert_frame_equal(cut.points, whole.points)


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


# --- model identity ----------------------------------------------------------------------------------------------

VARIANTS = ["deepseek-ai/DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "Qwen/Qwen3.5-397B-A17B",
            "Qwen/Qwen3.5-27B", "openai/gpt-oss-120b", "openai/gpt-oss-20b"]
VARIANT_KEYS = ["dsr1", "deepseek-r1-distill-llama-70b", "qwen3.5", "qwen3.5-27b", "gptoss120b", "gpt-oss-20b"]


def _variant_file(tmp_path, shape):
    """One MTP and one Off point per model name, in the given input format; all else equal."""
    if shape == "api":
        return write(tmp_path / "b.json", [api_row(model=m, spec_method=s) for m in VARIANTS for s in ("mtp", "")])
    if shape == "ci":
        (tmp_path / "run_9").mkdir()
        return write(tmp_path / "run_9" / "agg_bmk.json",
                     [ci_row(model=m, infmax_model_prefix="", spec_decoding=s) for m in VARIANTS for s in ("mtp", "")])
    lines = ["model,hardware,framework,precision,spec_method,isl,osl,conc,interactivity,throughput_per_gpu"]
    lines += [f"{m},b200,sglang,fp4,{s},1024,1024,4,80,100" for m in VARIANTS for s in ("mtp", "none")]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "p.csv")


@pytest.mark.parametrize("shape", ["api", "ci", "csv"])
def test_distinct_models_are_separate_configurations(tmp_path, shape):
    """Distilled and smaller variants, and gpt-oss-20b next to gpt-oss-120b, never share a configuration."""
    ds = specnb.load(_variant_file(tmp_path, shape))
    configs = ds.configurations()
    assert sorted(configs.model) == sorted(VARIANT_KEYS)
    assert all(r == {"mtp": 1, "none": 1} for r in configs.points)
    assert dict(zip(ds.points.model_id, ds.points.model, strict=True)) == dict(zip(VARIANTS, VARIANT_KEYS, strict=True))
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=ds)
    assert set(c.points.model_id) == {"deepseek-ai/DeepSeek-R1-0528"}


def test_one_name_from_two_owners_is_two_configurations(tmp_path):
    """``org-a/m`` and ``org-b/m`` (say, a fine-tune under the base model's name) are two models."""
    lines = ["model,hardware,framework,precision,spec_method,isl,osl,conc,interactivity,throughput_per_gpu"]
    lines += [f"{m},b200,sglang,fp4,{s},1024,1024,4,80,100" for m in ("org-a/Tuned-7B", "org-b/tuned-7b")
              for s in ("mtp", "none")]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    configs = specnb.load(str(tmp_path / "p.csv")).configurations()
    assert sorted(configs.model) == ["org-a/tuned-7b", "org-b/tuned-7b"]
    assert all(r == {"mtp": 1, "none": 1} for r in configs.points)


def test_ci_prefix_wins_and_model_ids_are_kept(tmp_path):
    (tmp_path / "run_5").mkdir()
    rows = [ci_row(model="/mnt/lustre01/models/gpt-oss-120b", infmax_model_prefix="gptoss"),
            ci_row(model="some/local-name", infmax_model_prefix="dsr1", conc=8),
            ci_row(model="deepseek-ai/DeepSeek-R1-Distill-Llama-70B", infmax_model_prefix="", conc=16)]
    ds = specnb.load(write(tmp_path / "run_5" / "agg_bmk.json", rows))
    got = dict(zip(ds.points.conc, zip(ds.points.model, ds.points.model_id, strict=True), strict=True))
    assert got == {4: ("gptoss120b", "/mnt/lustre01/models/gpt-oss-120b"), 8: ("dsr1", "some/local-name"),
                   16: ("deepseek-r1-distill-llama-70b", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B")}


def test_model_aliases_in_python(tmp_path):
    path = write(tmp_path / "b.json", [api_row(model="/ckpt/r1-ft", spec_method=s) for s in ("mtp", "")])
    assert set(specnb.load(path).points.model) == {"r1-ft"}
    ds = specnb.load(path, model_aliases={"r1-ft": "dsr1"})
    assert set(ds.points.model) == {"dsr1"} and ds.model_key("R1-FT") == "dsr1"
    assert specnb.load(path, model_aliases=["r1-ft=dsr1"]).points.model.tolist() == ds.points.model.tolist()
    # the same through compare() with paths, and the names the user types are read the same way
    c = specnb.compare("r1-ft", "b200", "fp4", "1k/1k", data=path, model_aliases={"r1-ft": "dsr1"})
    assert c.config.model == "dsr1" and c.to_dict()["labels"]["model"] == "DeepSeek R1"
    with pytest.raises(UsageError, match="pass them to specnb.load"):
        specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=ds, model_aliases={"x": "y"})


# --- partial rows ------------------------------------------------------------------------------------------------


def test_only_identity_interactivity_and_throughput_are_required(tmp_path):
    bare = {k: v for k, v in api_row().items() if k not in ("conc", "decode_tp", "prefill_tp", "num_prefill_gpu",
                                                            "num_decode_gpu", "date", "run_url", "image")}
    bare["metrics"] = {"tput_per_gpu": 100.0, "median_intvty": 80.0}
    ds = specnb.load(write(tmp_path / "b.json", [bare]))
    p = ds.points.iloc[0]
    assert pd.isna(p.conc) and math.isnan(p.median_ttft_s) and math.isnan(p.output_throughput_per_gpu)
    assert p.topology == "tp?·ep1"
    (tmp_path / "p.csv").write_text("model,hardware,framework,precision,spec_method,isl,osl,interactivity,"
                                    "throughput_per_gpu\ndsr1,b200,sglang,fp4,mtp,1024,1024,80,100\n")
    assert len(specnb.load(tmp_path / "p.csv").points) == 1


def test_points_without_concurrency_newest_sweep_wins(tmp_path):
    """Rows without conc cannot be matched point by point across runs: a line keeps its newest run's rows."""
    def row(x, y, run, date):
        r = api_row(date=date, run_url=f"x/runs/{run}/", metrics={"median_intvty": x, "tput_per_gpu": y})
        del r["conc"]
        return r
    rows = [row(80, 100, 1, "2026-05-01"), row(40, 300, 1, "2026-05-01"), row(20, 500, 1, "2026-05-01"),
            row(70, 120, 2, "2026-06-01"), row(30, 400, 2, "2026-06-01"), row(30, 400, 2, "2026-06-01")]
    ds = specnb.load(write(tmp_path / "b.json", rows))
    assert sorted(ds.points.throughput_per_gpu) == [120, 400]  # the identical duplicate collapsed
    assert len(ds.history) == 5


def test_agentic_rows_are_left_out_with_a_note(tmp_path):
    agentic_api = api_row(benchmark_type="agentic_traces", isl=None, osl=None)
    agentic_ci = {k: v for k, v in ci_row(scenario_type="agentic-coding").items() if k not in ("isl", "osl")}
    write(tmp_path / "b.json", [api_row(benchmark_type="single_turn"), agentic_api, agentic_api])
    (tmp_path / "run_3").mkdir()
    write(tmp_path / "run_3" / "agg_bmk.json", [agentic_ci, ci_row(scenario_type="fixed-seq-len", conc=8)])
    ds = specnb.load(tmp_path)
    assert len(ds.points) == 2
    root = data.display_path(tmp_path)
    assert ds.notes == (f"Left out 3 rows of benchmark type 'agentic-coding', 'agentic_traces' ({root}/b.json, "
                        f"{root}/run_3/agg_bmk.json): specnb compares fixed-sequence (single_turn) runs, and these "
                        "have no fixed ISL/OSL.",)
    only = write(tmp_path / "only.json", [agentic_api])
    with pytest.raises(FormatError, match=r"only\.json: no benchmark points found; left out 1 row of benchmark "
                                          r"type 'agentic_traces'"):
        specnb.load(only)


def test_a_load_that_reads_files_hands_freed_memory_back(monkeypatch):
    """Once per load that parses files (not on a cache hit); on glibc through malloc_trim."""
    import platform

    calls = []
    monkeypatch.setattr(data, "release_freed_memory", lambda: calls.append(1))
    data._CACHE.clear()
    data.load()
    data.load()
    assert calls == [1]
    if platform.libc_ver()[0] == "glibc":
        assert data._malloc_trim() is not None
