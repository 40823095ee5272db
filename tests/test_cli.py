import json
import subprocess
import sys

from specnb.cli import main


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_list_json_has_34(capsys):
    assert main(["list", "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert len(items) >= 34
    assert set(items[0]) == {"model", "hardware", "precision", "isl", "osl", "points"}
    assert all(i["points"]["mtp"] > 0 and i["points"]["none"] > 0 for i in items)


def test_list_text(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "dsr1   DeepSeek R1  b200" in out and "configurations with MTP and Off" in out


def test_compare_text(capsys):
    assert main(["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("B200 FP4: MTP vs Off — DeepSeek R1 · 1k/1k")
    assert "Matched band" in out and "Throughput (tok/s/GPU)" in out and "Near the low end" in out


def test_compare_json_targets_inside_frontiers(capsys):
    args = ["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k",
            "--format", "json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["targets"]) == 3
    for t in d["targets"]:
        assert all(a["in_range"] and a["throughput_per_gpu"] > 0 for a in t["arms"].values())


def test_inferencex_2026_04(capsys):
    args = ["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k",
            "--format", "json", "--semantics", "inferencex", "--cost-table", "2026-04", "--gpu-cost", "b200=2.5"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["semantics"] == "inferencex" and d["cost"]["usd_per_gpu_hour"] == 2.5
    assert d["band"]["shown_low"] == int(d["band"]["shown_low"])


def test_errors_are_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[{\"metrics\": {\"tput_per_gpu\": \"x\"}}]")
    code, out, err = cli("list", "--data", str(bad))
    assert code == 2 and err.count("\n") == 1 and "bad.json row 0" in err and "Traceback" not in err
    code, _, err = cli("compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4",
                       "--sequence", "1k/1k", "--targets", "5000")
    assert code == 2 and "outside the matched band" in err
    code, _, err = cli("compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4",
                       "--sequence", "1k/1k", "--targets", "abc")
    assert code == 2 and "'abc' is not a number" in err
    code, _, err = cli("compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4",
                       "--sequence", "1k/1k", "--cost-table", str(tmp_path / "nope.csv"))
    assert code == 2 and "unknown cost table (or no such file)" in err and "2026-07" in err
