"""Bad input through the command line (RELIABILITY.md §1): every kind ends in exit code 2, ONE line on stderr
that names the file, the row (or concurrency) and the field, no traceback, nothing on stdout, nothing cached.

Most cases call ``specnb.cli.main`` in-process (fast); a few run the real ``python -m specnb.cli`` to prove the
same on a fresh interpreter. The library-level messages are also tested in test_data.py, test_costs.py,
test_comparison.py and test_build.py (cited in RELIABILITY.md).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rows import api_row, ci_row, raw_result, write

from specnb import data
from specnb.cli import main

COMPARE = ["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k"]


def api_bad(**over):
    return lambda d: write(d / "bench.json", [api_row(conc=8), api_row(**over)])


def drop_metric(name):
    def make(d):
        row = api_row()
        del row["metrics"][name]
        return write(d / "bench.json", [api_row(conc=8), row])
    return make


def text_file(name, content):
    def make(d):
        (d / name).write_text(content)
        return str(d / name)
    return make


def two_files(a, b):
    def make(d):
        write(d / "a.json", a)
        write(d / "b.json", b)
        return str(d)
    return make


def empty_dir(d):
    (d / "empty").mkdir()
    (d / "empty" / "README.txt").write_text("no benchmarks here")
    return str(d / "empty")


def sparse_200mb(d):
    with open(d / "huge.json", "wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    return str(d / "huge.json")


def ci_file(**over):
    def make(d):
        (d / "run_5").mkdir()
        return write(d / "run_5" / "agg_bmk.json", [ci_row(**over)])
    return make


def raw_file(**over):
    def make(d):
        (d / "dsr1").mkdir()
        return write(d / "dsr1" / "concurrency_4_req_rate_inf_gpus_16_ctx_8_gen_8.json", raw_result(**over))
    return make


# (id, build the --data path in tmp dir, extra argv, fragments stderr must contain, in order)
DATA_CASES = [
    ("malformed-json", text_file("x.json", '[{"a": 1,}]'), [], ["x.json: malformed JSON at line 1 column 10"]),
    ("truncated-json", text_file("x.json", '[{"metrics": {'), [], ["x.json: malformed JSON at line 1"]),
    ("deeply-nested-json", text_file("x.json", "[" * 100_000), [], ["x.json: JSON nested too deeply"]),
    ("not-utf8", lambda d: (d / "x.json").write_bytes(b'[{"model": "\xff"}]') and str(d / "x.json"), [],
     ["x.json: not UTF-8 text (byte 12)"]),
    ("unknown-format-dict", text_file("x.json", '{"hello": 1}'), [],
     ["x.json: not a known benchmark format (a JSON dict with keys ['hello'])"]),
    ("unknown-format-list", text_file("x.json", "[1, 2]"), [], ["x.json: not a known benchmark format"]),
    ("row-not-object", lambda d: write(d / "bench.json", [api_row(), "oops"]), [],
     ["bench.json row 1: field '(row)' is 'oops', expected a JSON object"]),
    ("missing-metric", drop_metric("tput_per_gpu"), [],
     ["bench.json row 1 (conc 4): field 'metrics.tput_per_gpu' is 'missing'"]),
    ("missing-config-field", api_bad(isl=None), [], ["bench.json row 1 (conc 4): field 'isl' is 'missing'"]),
    ("missing-metrics-object", lambda d: write(d / "bench.json", [api_row(), {**api_row(), "metrics": None}]), [],
     []),  # first row decides the format; a null metrics object is a row problem
    ("string-for-number", api_bad(metrics={"tput_per_gpu": "fast"}), [],
     ["bench.json row 1 (conc 4): field 'metrics.tput_per_gpu' is 'fast', expected a positive number"]),
    ("string-conc", api_bad(conc="many"), [], ["bench.json row 1 (conc many): field 'conc' is 'many'"]),
    ("bool-for-number", api_bad(decode_tp=True), [], ["bench.json row 1 (conc 4): field 'decode_tp' is True"]),
    ("nan", api_bad(metrics={"median_intvty": float("nan")}), [],
     ["row 1 (conc 4): field 'metrics.median_intvty' is nan, expected a finite number"]),
    ("nan-string", api_bad(metrics={"tput_per_gpu": "NaN"}), [], ["field 'metrics.tput_per_gpu' is 'NaN'"]),
    ("inf", api_bad(metrics={"tput_per_gpu": float("inf")}), [],
     ["row 1 (conc 4): field 'metrics.tput_per_gpu' is inf, expected a finite number"]),
    ("huge-integer", api_bad(conc=10**400), [], ["bench.json row 1 (conc 10000000000000000...): field 'conc'"]),
    ("zero-throughput", api_bad(metrics={"tput_per_gpu": 0}), [],
     ["row 1 (conc 4): field 'metrics.tput_per_gpu' is 0, expected a positive number"]),
    ("negative-interactivity", api_bad(metrics={"median_intvty": -3.0}), [],
     ["row 1 (conc 4): field 'metrics.median_intvty' is -3.0, expected a positive number"]),
    ("zero-tpot-raw", raw_file(median_tpot_ms=0), [], ["gen_8.json (conc 4): field 'median_tpot_ms' is 0"]),
    ("negative-latency", api_bad(metrics={"median_ttft": -0.1}), [],
     ["row 1 (conc 4): field 'metrics.median_ttft' is -0.1, expected a positive number"]),
    ("negative-e2e-ci", ci_file(median_e2el=-2), [], ["agg_bmk.json row 0 (conc 4): field 'median_e2el' is -2"]),
    ("conflicting-duplicate", two_files([api_row()], [api_row(metrics={"tput_per_gpu": 101.0})]), [],
     ["b.json#0 (conc 4): field 'throughput_per_gpu' is 101.0, expected 100.0 as in", "conflicting duplicate"]),
    ("conflicting-duplicate-one-file",
     lambda d: write(d / "bench.json", [api_row(), api_row(metrics={"median_intvty": 90.0})]), [],
     ["bench.json#1 (conc 4): field 'interactivity' is 90.0", "conflicting duplicate"]),
    ("empty-file", text_file("x.json", ""), [], ["x.json: file is empty"]),
    ("empty-csv", text_file("x.csv", ""), [], ["x.csv: file is empty"]),
    ("empty-array", text_file("x.json", "[]"), [], ["x.json: no benchmark points found"]),
    ("folder-without-benchmarks", empty_dir, [], ["empty: folder holds no benchmark files (*.json, *.csv)"]),
    ("no-such-path", lambda d: str(d / "nope.json"), [], ["nope.json: no such file or folder"]),
    ("200mb-file", sparse_200mb, [], ["huge.json: 200 MB is over the 100 MB limit", "SPECNB_MAX_FILE_MB"]),
    ("csv-wrong-header", text_file("p.csv", "model,hw,tput\ndsr1,b200,1\n"), [],
     ["p.csv: CSV header lacks required column(s) hardware, framework"]),
    ("csv-bad-value", text_file("p.csv", "model,hardware,framework,precision,spec_method,isl,osl,conc,interactivity,"
                                "throughput_per_gpu\ndsr1,b200,sglang,fp4,mtp,1024,1024,4,50,-7\n"), [],
     ["p.csv row 2 (conc 4): field 'throughput_per_gpu' is '-7', expected a positive number"]),
    ("csv-oversized-cell", text_file("p.csv", "model,hardware,framework,precision,spec_method,isl,osl,conc,"
                                     "interactivity,throughput_per_gpu\n" + "x" * 200_000 + ",b200\n"), [],
     ["p.csv row 2: unreadable CSV (field larger than field limit"]),
    ("bad-meta-number", raw_file(), ["--meta", "tp=zero"], ["--meta tp='zero': expected a positive whole number"]),
    ("unknown-meta-key", raw_file(), ["--meta", "gpu=h100"], ["unknown --meta key 'gpu'"]),
]


@pytest.fixture
def cli_run(capsys):
    def run(argv):
        data._CACHE.clear()
        code = main(argv)
        out, err = capsys.readouterr()
        return code, out, err
    return run


def assert_one_line_error(code, out, err, fragments):
    assert code == 2, (code, out, err)
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("specnb: error: ") and "Traceback" not in err
    assert len(err) < 600, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("case", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_is_one_line_exit_2(tmp_path, cli_run, case):
    name, make, extra, fragments = case
    path = make(tmp_path)
    if name == "missing-metrics-object":
        fragments = ["bench.json row 1 (conc 4): field 'metrics' is 'missing', expected an object of measurements"]
    for command in (["list"], COMPARE[:1] + COMPARE[1:]):
        code, out, err = cli_run([*command, "--data", path, *extra])
        assert_one_line_error(code, out, err, fragments)
    assert not data._CACHE, "a failed load must cache nothing"


def test_good_and_bad_files_load_nothing(tmp_path, cli_run):
    """One bad row in a folder of good files: the error, and no partial dataset (not even cached)."""
    write(tmp_path / "good.json", [api_row(conc=c) for c in (1, 2, 4, 8)])
    write(tmp_path / "bad.json", [api_row(conc=16), api_row(conc=32, metrics={"tput_per_gpu": -1})])
    code, out, err = cli_run(["list", "--data", str(tmp_path), "--all"])
    assert_one_line_error(code, out, err, ["bad.json row 1 (conc 32): field 'metrics.tput_per_gpu' is -1",
                                           "(nothing was loaded)"])
    assert not data._CACHE


def test_200mb_file_is_rejected_before_reading(tmp_path, cli_run, monkeypatch):
    """Never read into memory: the size check comes before any byte is read."""
    path = sparse_200mb(tmp_path)

    def refuse(self):  # pragma: no cover - reached only if the size check regressed
        msg = f"{self} was read"
        raise AssertionError(msg)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code, out, err = cli_run(["list", "--data", path])
    assert_one_line_error(code, out, err, ["huge.json: 200 MB is over the 100 MB limit"])


def cost_file(d, text, name="mine.csv"):
    (d / name).write_text(text)
    return str(d / name)


@pytest.mark.parametrize("text, fragments", [
    ("gpu,kw_per_gpu,hyperscaler\n,1.5,2.0\n", ["mine.csv row 1: field 'gpu' is empty, expected a GPU key"]),
    ("gpu,kw_per_gpu,hyperscaler\nb200,1.5,-2\n", ["mine.csv row 1: field 'hyperscaler' is '-2', expected a positive"]),
    ("gpu,kw_per_gpu,hyperscaler\nb200,0,2\n", ["mine.csv row 1: field 'kw_per_gpu' is '0', expected a positive"]),
    ("gpu,kw_per_gpu,hyperscaler\nb200,nan,2\n", ["mine.csv row 1: field 'kw_per_gpu' is 'nan'"]),
    ("gpu,kw_per_gpu,hyperscaler\nb200,1.5,2\nb200,1.5,2\n", ["mine.csv row 2: GPU 'b200' appears twice"]),
    ("name,rate\nx,1\n", ["mine.csv: cost CSV needs a header with gpu"]),
], ids=["missing-gpu", "negative-rate", "zero-power", "nan-power", "duplicate-gpu", "wrong-header"])
def test_bad_cost_file(tmp_path, cli_run, text, fragments):
    code, out, err = cli_run([*COMPARE, "--cost-table", cost_file(tmp_path, text)])
    assert_one_line_error(code, out, err, fragments)


def test_cost_file_not_utf8(tmp_path, cli_run):
    (tmp_path / "mine.csv").write_bytes(b"gpu,kw_per_gpu,hyperscaler\nb200,1.5,\xff\n")
    code, out, err = cli_run([*COMPARE, "--cost-table", str(tmp_path / "mine.csv")])
    assert_one_line_error(code, out, err, ["mine.csv: not UTF-8 text"])


def test_cost_file_without_the_gpu_shows_no_rate(tmp_path, cli_run):
    """A user table that lacks the configuration's GPU is not an error: cost and power read "no rate", never 0."""
    path = cost_file(tmp_path, "gpu,kw_per_gpu,hyperscaler\nmi355x,2.0,1.5\n")
    code, out, err = cli_run([*COMPARE, "--cost-table", path])
    assert code == 0 and err == ""
    assert "no rate" in out and "$0.000" not in out
    code, out, _ = cli_run([*COMPARE, "--cost-table", path, "--format", "json"])
    d = json.loads(out)
    assert d["cost"]["usd_per_gpu_hour"] is None and d["cost"]["kw_per_gpu"] is None
    assert all(v["cost_per_mtok"] is None and v["tok_s_per_mw"] is None and v["throughput_per_gpu"] > 0
               for t in d["targets"] for v in t["arms"].values())


@pytest.mark.parametrize("argv, fragments", [
    ([*COMPARE, "--targets", "5000"], ["--targets 5000 is outside the matched band", "dsr1-b200-fp4-1k1k"]),
    ([*COMPARE, "--targets", "0.5"], ["--targets 0.5 is outside the matched band"]),
    ([*COMPARE, "--targets", "abc"], ["--targets: 'abc' is not a number"]),
    ([*COMPARE, "--targets", "30,"], ["--targets: '' is not a number"]),
    ([*COMPARE, "--targets", "-5"], ["--targets: -5.0 must be a positive interactivity"]),
    ([*COMPARE, "--targets", "nan"], ["--targets: nan must be a positive interactivity"]),
    (["build", "--targets", "fast", "--out", "{tmp}"], ["--targets: 'fast' is not a number"]),
    (["build", "--format", "docx", "--out", "{tmp}"], ["unknown --format 'docx'"]),
    (["build", "--jobs", "-1", "--out", "{tmp}"], ["--jobs must be 0"]),
    ([*COMPARE[:-2], "--sequence", "1k-1k-1k"], ["--sequence '1k-1k-1k' is not like 1k/1k"]),
    (["compare", "--model", "dsr1", "--hardware", "b999", "--precision", "fp4", "--sequence", "1k/1k"],
     ["unknown configuration 'dsr1/b999/fp4/1k/1k'; choose one of: dsr1/b200/fp4/1k/1k", "in all: see `specnb list"]),
    ([*COMPARE, "--gpu-cost", "b200=-1"], ["--gpu-cost b200=-1.0: expected a positive number (USD per GPU-hour)"]),
    ([*COMPARE, "--gpu-cost", "b200"], ["--gpu-cost 'b200': expected KEY=VALUE"]),
], ids=["target-above-band", "target-below-band", "target-not-number", "target-empty", "target-negative",
        "target-nan", "build-target-not-number", "build-format", "build-jobs", "sequence", "configuration",
        "negative-override", "override-syntax"])
def test_bad_options(tmp_path, cli_run, argv, fragments):
    argv = [a.replace("{tmp}", str(tmp_path / "out")) for a in argv]
    code, out, err = cli_run(argv)
    assert_one_line_error(code, out, err, fragments)
    assert not (tmp_path / "out").exists()  # a bad option builds nothing


# --- the real command, in a fresh interpreter ------------------------------------------------------------------


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", *args], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_subprocess_bad_json_and_200mb(tmp_path):
    code, out, err = cli("list", "--data", text_file("x.json", '{"oops": ')(tmp_path))
    assert_one_line_error(code, out, err, ["x.json: malformed JSON at line 1 column 10"])
    code, out, err = cli("compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence",
                         "1k/1k", "--data", sparse_200mb(tmp_path))
    assert_one_line_error(code, out, err, ["huge.json: 200 MB is over the 100 MB limit"])


def test_subprocess_unknown_only_pattern(tmp_path):
    """``--only`` that matches nothing: exit 2 before any kernel starts or any file is written."""
    code, out, err = cli("build", "--no-progress", "--out", str(tmp_path / "out"), "--only", "nope-*")
    assert_one_line_error(code, out, err, ["--only 'nope-*' matches no configuration; names look like: dsr1-"])
    assert not (tmp_path / "out").exists()
