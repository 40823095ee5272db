"""Real-world data read right (RELIABILITY.md §8): partial metrics, model identity, agentic rows, GLM-5.

Valid data without the optional metrics compares and builds with exit 0 and reads "not measured"; distinct
model names never share a configuration; rows of another benchmark type are left out with a one-line note.
The commands run in-process (``specnb.cli.main``); the builds are real (``slow``).
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rows import api_row, write

from specnb import data
from specnb.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMPARE = ["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k"]
SNAPSHOT = data.BUNDLED_DATA / "inferencex-api" / "2026-06-14" / "benchmarks.json"
LATENCIES = ("median_ttft_s", "median_e2el_s")
SPLIT = ("input_throughput_per_gpu", "output_throughput_per_gpu")
OPTIONAL = ("conc", "tp", "ep", "num_prefill_gpu", "num_decode_gpu", "output_throughput_per_gpu",
            "input_throughput_per_gpu", "median_ttft_s", "median_e2el_s", "median_tpot_s", "date", "run_id")


def run(argv, capsys):
    data._CACHE.clear()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``specnb export`` of the bundled points: the file a user would start from."""
    path = tmp_path_factory.mktemp("export") / "points.csv"
    data._CACHE.clear()
    assert main(["export", "--out", str(path)]) == 0
    return path


def without_columns(src: Path, dst: Path, columns) -> str:
    with src.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = [c for c in rows[0] if c not in columns]
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, keep, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return str(dst)


@pytest.mark.parametrize("dropped", [LATENCIES, SPLIT, ("conc",), OPTIONAL], ids=["latencies", "in-out-split",
                                                                                 "conc", "all-optional"])
def test_exported_points_without_optional_columns_compare(exported, tmp_path, capsys, dropped):
    """The issue's reproduction: export, drop the TTFT/E2E (or input/output) columns, compare. Was a scipy
    ``ValueError: y must contain only finite values`` traceback."""
    path = without_columns(exported, tmp_path / "p.csv", dropped)
    code, out, err = run([*COMPARE, "--data", path], capsys)
    assert (code, err) == (0, "")
    table = {line.split("  ")[0]: line for line in out.splitlines() if "  " in line}
    latencies_gone = set(LATENCIES) <= set(dropped)
    assert (table["Median TTFT"].count("not measured") == 6) == latencies_gone
    assert ("~" in table["Concurrency"]) == ("conc" not in dropped)
    code, out, err = run([*COMPARE, "--data", path, "--format", "json", "--token-type", "output"], capsys)
    assert code == 0
    d = json.loads(out)
    arms = [a for t in d["targets"] for a in t["arms"].values()]
    assert all((a["median_ttft_s"] is None) == latencies_gone for a in arms)
    assert all((a["cost_per_mtok"] is None) == (SPLIT[1] in dropped) for a in arms)
    assert all(a["throughput_per_gpu"] > 0 for a in arms)


def test_api_json_without_optional_metrics_compares(tmp_path, capsys):
    rows = json.loads(SNAPSHOT.read_text())
    for i, row in enumerate(rows):  # every optional metric gone from some rows, TTFT from all
        for key in list(row["metrics"]):
            if key not in ("tput_per_gpu", "median_intvty") and (i % 3 == 0 or key == "median_ttft"):
                del row["metrics"][key]
    path = write(tmp_path / "benchmarks.json", rows)
    code, out, err = run([*COMPARE, "--data", path, "--format", "json"], capsys)
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert all(a["median_ttft_s"] is None and a["throughput_per_gpu"] > 0
               for t in d["targets"] for a in t["arms"].values())
    assert any(a["median_e2el_s"] is not None for t in d["targets"] for a in t["arms"].values())


def test_glm5_reads_not_measured(capsys):
    """The bundled GLM-5 blog table has interactivity, throughput and TPOT only."""
    code, out, err = run(["compare", "--model", "glm5", "--hardware", "mi355x", "--precision", "fp8",
                          "--sequence", "8k/1k"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("MI355X FP8: MTP vs Off — GLM 5 · 8k/1k")
    assert "Note: Not in the data: output throughput, input throughput, median TTFT and median E2E latency" in out
    assert next(ln for ln in out.splitlines() if ln.startswith("Median E2E")).count("not measured") == 6


def test_list_shows_dashboard_keys_and_labels(capsys):
    code, out, _ = run(["list", "--models"], capsys)
    assert code == 0
    lines = out.splitlines()[2:]
    for key, label in [("dsr1", "DeepSeek R1"), ("dsv4", "DeepSeek V4 Pro 1.6T"), ("glm5", "GLM 5"),
                       ("glm5.1", "GLM 5.1"), ("qwen3.5", "Qwen 3.5 397B-A17B"), ("kimik2.5", "Kimi K2.5"),
                       ("minimaxm2.5", "MiniMax M2.5"), ("minimaxm3", "MiniMax M3"), ("gptoss120b", "gpt-oss 120B"),
                       ("llama70b", "Llama 3.3 70B")]:
        assert any(ln.split("  ")[0] == key and f"  {label}  " in ln for ln in lines), key
    code, out, _ = run(["list"], capsys)  # the configurations, with the label next to each key
    rows = {tuple(ln.split()[:3]) for ln in out.splitlines()[2:] if ln.strip() and not ln.startswith("36 ")}
    assert rows == {("dsr1", "DeepSeek", "R1"), ("glm5", "GLM", "5")}
    code, out, _ = run(["list", "--models", "--format", "json"], capsys)
    models = json.loads(out)
    assert [m["model"] for m in models[:10]] == ["dsr1", "dsv4", "glm5", "glm5.1", "qwen3.5", "kimik2.5",
                                                 "minimaxm2.5", "minimaxm3", "gptoss120b", "llama70b"]
    assert next(m for m in models if m["model"] == "glm5") == {"model": "glm5", "label": "GLM 5", "known": True,
                                                               "points": 28, "ids": ["glm5"]}


def test_distinct_models_never_share_a_configuration(tmp_path, capsys):
    names = ["deepseek-ai/DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "Qwen/Qwen3.5-27B",
             "openai/gpt-oss-20b", "openai/gpt-oss-120b"]
    path = write(tmp_path / "b.json", [api_row(model=m, spec_method=s, conc=4 + i) for i, m in enumerate(names)
                                       for s in ("mtp", "")])
    code, out, _ = run(["list", "--data", path, "--format", "json"], capsys)
    assert code == 0
    assert sorted(i["model"] for i in json.loads(out)) == ["deepseek-r1-distill-llama-70b", "dsr1", "gpt-oss-20b",
                                                           "gptoss120b", "qwen3.5-27b"]
    code, out, _ = run(["list", "--data", path, "--format", "json", "--model-alias", "gpt-oss-20b=gptoss120b"],
                       capsys)
    merged = {i["model"]: i["points"] for i in json.loads(out)}
    assert merged["gptoss120b"] == {"mtp": 2, "none": 2} and "gpt-oss-20b" not in merged  # asked for: merged


def test_bad_model_alias_is_one_line(capsys):
    code, out, err = run(["list", "--model-alias", "dsr1"], capsys)
    assert code == 2 and out == ""
    assert err == ("specnb: error: --model-alias 'dsr1'='': expected NAME=KEY with both non-empty and no '/' in the "
                   "key, e.g. my-r1-finetune=dsr1\n")


def test_agentic_rows_give_one_note_line(tmp_path, capsys):
    rows = [api_row(spec_method=s, conc=c) for s in ("mtp", "") for c in (4, 8)]
    rows += [api_row(benchmark_type="agentic_traces", isl=None, osl=None, conc=c) for c in (1, 2, 3)]
    code, out, err = run(["list", "--data", write(tmp_path / "b.json", rows)], capsys)
    assert code == 0 and "dsr1" in out
    assert err.count("\n") == 1 and err.startswith("specnb: note: Left out 3 rows of benchmark type 'agentic_traces'")


@pytest.mark.slow
def test_partial_metrics_build(exported, tmp_path):
    """``specnb build`` on data without TTFT/E2E builds with exit 0 and its report says "not measured"."""
    path = without_columns(exported, tmp_path / "p.csv", LATENCIES + SPLIT)
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--data", path, "--out",
                           str(out), "--only", "dsr1-b200-fp4-1k1k", "--format", "html,json"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    html = (out / "dsr1-b200-fp4-1k1k" / "report.html").read_text()
    assert html.count(">not measured<") == 12 and "Traceback" not in html
    d = json.loads((out / "dsr1-b200-fp4-1k1k" / "comparison.json").read_text())
    assert all(a["median_e2el_s"] is None for t in d["targets"] for a in t["arms"].values())


@pytest.mark.slow
def test_glm5_reports_build(tmp_path):
    """The suite gains the GLM-5 reports (B200, MI355X), with latencies "not measured"."""
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--out", str(out),
                           "--only", "glm5-*", "--format", "html,json"], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for slug in ("glm5-b200-fp8-8k1k", "glm5-mi355x-fp8-8k1k"):
        html = (out / slug / "report.html").read_text()
        assert "MTP vs Off — GLM 5 · 8k/1k" in html and html.count(">not measured<") == 12
        d = json.loads((out / slug / "comparison.json").read_text())
        assert d["labels"]["model"] == "GLM 5" and d["provenance"]["model_ids"] == ["glm5"]
        assert d["metric_knots"]["mtp"]["median_ttft_s"] == 0 and d["metric_knots"]["mtp"]["conc"] > 1
    index = (out / "index.html").read_text()
    assert "GLM 5" in index


@pytest.mark.slow
def test_model_alias_reaches_the_report_notebook(tmp_path):
    """``specnb build --model-alias`` is a notebook parameter: the report reads the renamed points as GLM 5."""
    src = data.BUNDLED_DATA / "inferencex-blog-tables" / "glm5_fp8_8k1k_2026-05-20.csv"
    renamed = tmp_path / "ft.csv"
    renamed.write_text(src.read_text().replace("\nglm5,", "\nzai-org/GLM-5-Internal-FT,"))
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--data", str(renamed),
                           "--model-alias", "zai-org/GLM-5-Internal-FT=glm5", "--out", str(out), "--only",
                           "glm5-b200-*", "--format", "html,json"], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    d = json.loads((out / "glm5-b200-fp8-8k1k" / "comparison.json").read_text())
    assert d["labels"]["title"] == "B200 FP8: MTP vs Off — GLM 5 · 8k/1k"
    assert d["provenance"]["model_ids"] == ["zai-org/GLM-5-Internal-FT"]
    html = (out / "glm5-b200-fp8-8k1k" / "report.html").read_text()
    assert "Model ids read as GLM 5: zai-org/GLM-5-Internal-FT." in html
