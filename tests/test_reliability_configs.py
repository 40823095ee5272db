"""Hostile configuration files (RELIABILITY.md §12): YAML that expands through aliases, oversized cost files, and
keys or columns given twice, in cost tables and in benchmark files of every format."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rows import api_row, ci_row, raw_result, write

import specnb
from specnb import cli, costs
from specnb.errors import CostTableError, DataError, FormatError

ROOT = Path(__file__).resolve().parents[1]
COMPARE = ["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k"]


def billion_laughs(levels: int = 9) -> str:
    """A ~1 KB YAML cost table whose GPU row holds a value that expands to 9**levels strings (~3 GB as text at 9
    levels): each level lists the previous one nine times through an alias."""
    lines = ["b200:", "  kw_per_gpu: 1.7", "  hyperscaler: 2.0",
             '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def one_line_exit_2(argv, capsys) -> str:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out)
    assert err.startswith("specnb: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_billion_laughs_is_refused_at_once(tmp_path):
    """The real command, in a process of its own: one line, exit 2, in about the time an ordinary table takes, and
    without the gigabytes (PyYAML shares aliased nodes; turning them into rows would copy them)."""
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(billion_laughs(), encoding="utf-8")
    assert bomb.stat().st_size < 2000
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "import resource, sys\n"
                           "resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))\n"  # 2 GB: the bomb needs more
                           "from specnb.cli import main\nsys.exit(main(sys.argv[1:]))",
                           *COMPARE, "--cost-table", str(bomb)], capture_output=True, text=True, encoding="utf-8",
                          timeout=120, cwd=ROOT)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == "" and proc.stderr.count("\n") == 1
    assert f"laughs.yaml: YAML expands to over {costs.MAX_YAML_NODES:,} values through its aliases" in proc.stderr
    assert elapsed < 60


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("laughs", billion_laughs(), "YAML expands to over 10,000 values through its aliases"),
    ("recursive", "b200: &a {kw_per_gpu: 1.7, hyperscaler: 2, more: [*a]}\n", "YAML expands to over 10,000 values"),
    ("repeated-gpu", "b200: {kw_per_gpu: 1.7}\nb300: {kw_per_gpu: 1.9}\nb200: {kw_per_gpu: 2.0}\n",
     "mine.yaml line 3: key 'b200' appears twice in one mapping (first on line 1); keep one"),
    ("repeated-field", "b200: {kw_per_gpu: 1.7, hyperscaler: 2.0, hyperscaler: 9.0}\n",
     "mine.yaml line 1: key 'hyperscaler' appears twice in one mapping (first on line 1); keep one"),
    ("repeated-under-gpus", "name: mine\ngpus:\n  b200:\n    kw_per_gpu: 1.7\n    kw_per_gpu: 1.8\n",
     "mine.yaml line 5: key 'kw_per_gpu' appears twice in one mapping (first on line 4)"),
    ("python-tag", "b200: !!python/object/apply:os.system ['echo pwned']\n", "mine.yaml: not valid YAML at line 1"),
    ("tab-indent", "b200:\n\tkw_per_gpu: 1.7\n", "mine.yaml: not valid YAML at line 2"),
])
def test_hostile_yaml_cost_tables(tmp_path, capsys, name, text, expected):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CostTableError) as info:
        costs.load_cost_table(str(path))
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert expected in one_line_exit_2([*COMPARE, "--cost-table", str(path)], capsys)


def test_anchors_within_the_limit_still_work(tmp_path):
    """Aliases are counted, not banned: a table sharing its providers' rates through an anchor and a merge key
    (which may override a merged value: not a repeated key) loads."""
    path = tmp_path / "shared.yaml"
    path.write_text("defaults: &d {kw_per_gpu: 1.7, hyperscaler: 2.0, neocloud: 2.5}\n"
                    "gpus:\n  b200: {<<: *d, hyperscaler: 2.2}\n  b300: *d\n", encoding="utf-8")
    table = costs.load_cost_table(str(path))
    assert table.rate("b200").usd_per_gpu_hour == 2.2 and table.rate("b300").usd_per_gpu_hour == 2.0
    assert table.rate("b300", "neocloud").kw_per_gpu == 1.7


def test_expanded_nodes_counts_shared_nodes_once_per_use():
    import yaml

    node = yaml.compose("a: &a [1, 2, 3]\nb: [*a, *a]\n")
    assert costs.expanded_nodes(node, 100) == 1 + (1 + 4) + (1 + (1 + 2 * 4))  # root, a's pair, b's pair
    assert costs.expanded_nodes(yaml.compose(billion_laughs()), 10_000) == 10_001


def test_oversized_cost_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("gpu,kw_per_gpu,hyperscaler\n" + "#" * (costs.MAX_FILE_BYTES + 1) + "\n", encoding="utf-8")

    read_bytes = Path.read_bytes

    def no_read(self):
        assert self != path, "read a file over the limit"
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", no_read)
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: no_read(self).decode(k.get("encoding") or "utf-8"))
    with pytest.raises(CostTableError, match=r"big.csv: 1,048,605 bytes is over the 1,048,576-byte limit"):
        costs.load_cost_table(str(path))


def test_repeated_cost_csv_column(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text("gpu,kw_per_gpu,hyperscaler,hyperscaler\nb200,1.7,2.0,9.0\n", encoding="utf-8")
    err = one_line_exit_2([*COMPARE, "--cost-table", str(path)], capsys)
    assert "mine.csv header: column 'hyperscaler' appears more than once; keep one" in err


# --- benchmark files: a key given twice ----------------------------------------------------------------------------

def _twice(text: str, key: str, first: str) -> str:
    """``text`` (one JSON object) with ``"key": first`` inserted before its own ``"key"`` in the same object."""
    return text.replace(f'"{key}": ', f'"{key}": {first}, "{key}": ', 1)


@pytest.mark.parametrize(("shape", "key", "field", "row"), [
    ("api", "tput_per_gpu", "metrics.tput_per_gpu", 1),
    ("api", "hardware", "hardware", 1),
    ("ci", "tput_per_gpu", "tput_per_gpu", 1),
    ("ci-single", "median_intvty", "median_intvty", None),
    ("raw", "median_tpot_ms", "median_tpot_ms", None),
])
def test_repeated_json_key_names_row_and_key(tmp_path, capsys, shape, key, field, row):
    """JSON keeps the last of two equal keys silently; specnb names the file, row and key instead, and loads nothing."""
    if shape == "api":
        doc, name = [api_row(conc=4), api_row(conc=8)], "bench.json"
    elif shape == "ci":
        doc, name = [ci_row(conc=4), ci_row(conc=8)], "run_1/agg_bmk.json"
    elif shape == "ci-single":
        doc, name = ci_row(conc=8), "run_1/agg_one.json"
    else:
        doc, name = raw_result(max_concurrency=8), "dsr1_1k1k_fp4_sglang_tp8-ep1-dpafalse_disagg-false_spec-mtp_conc8_b200.json"
    rows = doc if isinstance(doc, list) else [doc]
    texts = [json.dumps(r) for r in rows]
    texts[-1] = _twice(texts[-1], key, "7777.0" if key != "hardware" else '"h100"')
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("[" + ", ".join(texts) + "]") if isinstance(doc, list) else texts[0], encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))  # valid JSON: the standard library reads it silently
    with pytest.raises(DataError) as info:
        specnb.load(str(path))
    err = info.value
    assert (err.field, err.row) == (field, row) and err.path.endswith(Path(name).name)
    assert "appears twice in one JSON object (first 7777" in str(err) or key == "hardware"
    assert "appears twice in one JSON object" in str(err) and "keep one" in str(err) and "(conc 8)" in str(err)
    line = one_line_exit_2(["list", "--data", str(path)], capsys)
    assert f"field '{field}'" in line and "(nothing was loaded)" in line


def test_repeated_csv_column(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("model,hardware,framework,precision,spec_method,isl,osl,interactivity,throughput_per_gpu,"
                    "throughput_per_gpu\ndsr1,b200,sglang,fp4,mtp,1024,1024,50,100,999\n", encoding="utf-8")
    with pytest.raises(FormatError, match="p.csv row 1: column 'throughput_per_gpu' appears more than once"):
        specnb.load(str(path))
    one_line_exit_2(["list", "--data", str(path)], capsys)
