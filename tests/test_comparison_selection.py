"""compare() at a latency percentile, as of a day, and with measured energy: the numbers, notes, errors, and the
same facts in comparison.json, the CSV, the terminal table, the report and the build."""

import csv
import datetime
import io
import json
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rows import api_row, write

import specnb
from specnb import build, comparison, data, report
from specnb.cli import main
from specnb.errors import SpecnbError, UsageError
from specnb.spline import MonotoneCurve
from specnb.table import terminal_table

MTP = [(20, 1000, 64), (40, 800, 32), (60, 500, 16), (100, 200, 4)]
OFF = [(10, 1500, 128), (30, 900, 64), (50, 300, 8), (80, 100, 2)]


def rows_for(spec, pts, extra=lambda i, x, y: {}, **over):
    """API rows of one arm: median interactivity x, throughput y, and whatever ``extra`` adds to ``metrics``."""
    return [api_row(spec_method=spec, conc=int(c), **over,
                    metrics={"median_intvty": float(x), "median_tpot": 1 / x, "tput_per_gpu": float(y),
                             "output_tput_per_gpu": y / 2, "input_tput_per_gpu": y / 2, "median_ttft": 0.01 * c,
                             "median_e2el": 1 + c / 7, **extra(i, x, y)})
            for i, (x, y, c) in enumerate(pts)]


def tail(i, x, y):
    """p99: 80 % of the median interactivity, TTFT ten times the median's; p90 halfway."""
    return {"p99_tpot": 1 / (0.8 * x), "p99_ttft": 0.1 * (i + 1), "p99_e2el": 30.0 + i,
            "p90_tpot": 1 / (0.9 * x), "p90_ttft": 0.05 * (i + 1), "p90_e2el": 20.0 + i}


def run(tmp_path, rows, **kw):
    data._CACHE.clear()
    ds = specnb.load(write(tmp_path / "d.json", rows))
    return comparison.compare(ds, "dsr1", "b200", "fp4", "1k/1k", **kw)


NEW_ARM_KEYS = {"joules_per_total_token"}


def without_new_keys(d: dict) -> dict:
    """comparison.json as it was before percentile, as-of and energy existed."""
    d = json.loads(json.dumps(d))
    del d["percentile"], d["as_of"]
    for t in d["targets"]:
        for v in t["arms"].values():
            for k in NEW_ARM_KEYS:
                del v[k]
    for knots in d["metric_knots"].values():
        del knots["joules_per_total_token"]
    d["notes"] = [n for n in d["notes"] if not n.startswith("Measured energy per token")]
    for f in d["provenance"]["files"]:
        f["sha256"] = "(the file's bytes differ by the new fields)"
    return d


# --- with the median, every number is today's ----------------------------------------------------------------------

point = st.tuples(st.integers(5, 300), st.integers(10, 5000), st.sampled_from([2, 4, 8, 16, 64, 128, 256]))
extras = st.fixed_dictionaries({}, optional={
    "p99_tpot": st.floats(0.001, 0.5), "p99_ttft": st.floats(0.01, 50), "p90_tpot": st.floats(0.001, 0.5),
    "p99_intvty": st.floats(1, 500), "avg_power_w": st.floats(50, 1500), "joules_per_total_token": st.floats(0.01, 20)})


arm_points = st.lists(st.tuples(point, extras), min_size=1, max_size=6)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(arm_points, arm_points, st.sampled_from(["specnb", "inferencex"]), st.sampled_from(["total", "output"]))
def test_median_gives_todays_numbers(tmp_path, mtp, off, semantics, token_type):
    """Tail latencies and power anywhere in the data change nothing at the median: the comparison of the same
    rows without them has the same JSON, key for key, but the new keys."""
    def rows(with_extras):
        out = []
        for spec, pts in (("mtp", mtp), ("none", off)):
            for n, ((x, y, c), extra) in enumerate(pts):
                out += rows_for(spec, [(x, y, c + n)], (lambda i, x, y, e=extra: e) if with_extras else (lambda *a: {}))
        return out

    results = []
    for with_extras in (True, False):
        try:
            c = run(tmp_path, rows(with_extras), semantics=semantics, token_type=token_type, percentile="median")
            results.append(without_new_keys(c.to_dict()))
        except SpecnbError as exc:
            results.append(str(exc).replace("d.json", ""))
    assert results[0] == results[1]


def test_bundled_median_matches_the_default(bundled):
    """percentile="median" and no as-of are the defaults: the same comparison, as_of null."""
    for cfg in list(bundled.configurations().itertuples())[:6]:
        a = comparison.compare(bundled, cfg.model, cfg.hardware, cfg.precision, isl=cfg.isl, osl=cfg.osl)
        b = comparison.compare(bundled, cfg.model, cfg.hardware, cfg.precision, isl=cfg.isl, osl=cfg.osl,
                               percentile="median", as_of=None)
        assert a.to_dict() == b.to_dict()
        assert a.to_dict()["percentile"] == "median" and a.to_dict()["as_of"] is None


# --- p90 / p99 read the right fields -----------------------------------------------------------------------------


@pytest.mark.parametrize("percentile, share, ttft_at_knot", [("p99", 0.8, 0.2), ("p90", 0.9, 0.1)])
def test_tail_percentile_reads_its_own_fields(tmp_path, percentile, share, ttft_at_knot):
    c = run(tmp_path, rows_for("mtp", MTP, tail) + rows_for("none", OFF, tail), percentile=percentile,
            targets=[share * 40, share * 50])
    assert list(c.frontiers["mtp"].x) == pytest.approx([share * x for x, _, _ in MTP])  # 1 / that TPOT
    at_knot = c.targets[0].arms["mtp"]  # MTP's second knot (i = 1)
    assert at_knot.throughput_per_gpu == pytest.approx(800)
    assert at_knot.ttft_s == pytest.approx(ttft_at_knot)  # that percentile's TTFT, not the median's 0.32
    assert at_knot.e2el_s == pytest.approx({"p99": 31.0, "p90": 21.0}[percentile])
    d = c.to_dict()
    assert d["percentile"] == percentile and d["as_of"] is None
    arm = d["targets"][0]["arms"]["mtp"]
    assert arm[f"{percentile}_ttft_s"] == pytest.approx(ttft_at_knot) and "median_ttft_s" not in arm
    assert d["metric_knots"]["mtp"][f"{percentile}_ttft_s"] == 4
    frame = c.to_frame()
    assert set(frame.percentile) == {percentile} and f"{percentile}_e2el_s" in frame and "median_e2el_s" not in frame
    text = terminal_table(c)
    assert f"\n{percentile} TTFT " in text and "Median TTFT" not in text


def test_rows_without_the_percentile_are_left_out_and_counted(tmp_path):
    """p99 everywhere, p90 on two MTP rows only: at the p90, MTP keeps two points and Off none."""
    def p99_only(i, x, y):
        return {k: v for k, v in tail(i, x, y).items() if k.startswith("p99") or (i < 2 and k.startswith("p90"))}

    rows = rows_for("mtp", MTP, p99_only) + rows_for("none", OFF, lambda i, x, y: {
        k: v for k, v in tail(i, x, y).items() if k.startswith("p99")})
    c = run(tmp_path, rows, percentile="p90")
    assert not c.comparable and c.frontiers["mtp"].size == 2 and c.frontiers["none"].size == 0
    assert "Read at the p90: 6 of 8 points do not record the p90 TPOT and are left out (MTP 2, Off 4)." in c.notes
    assert "Off has no measured points for this configuration with a p90 TPOT." in c.notes
    assert run(tmp_path, rows, percentile="p99").comparable  # p99 but no p90: fine at the p99
    with pytest.raises(UsageError, match=r"^dsr1-b200-fp4-1k1k: none of its 8 points records the p90 TPOT; "
                                         r"choose --percentile median, p99$"):
        run(tmp_path, rows_for("mtp", MTP) + rows_for("none", OFF), percentile="p90")


def test_unknown_percentile(tmp_path):
    with pytest.raises(UsageError, match=r"unknown percentile 'p95'; choose one of: median, p90, p99"):
        run(tmp_path, rows_for("mtp", MTP) + rows_for("none", OFF), percentile="p95")
    with pytest.raises(UsageError, match=r"unknown percentile"):
        specnb.configurations(percentile="mean")


# --- measured energy ---------------------------------------------------------------------------------------------


def test_energy_on_some_knots_only(tmp_path):
    """MTP records power at its knots x=40 and x=60 only; Off nowhere. J/token is the curve through those two
    knots, null outside them and for Off; tok/s per MW (provisioned) is there for every value."""
    def power(i, x, y):
        return {"avg_power_w": 400.0 + 100 * i, "joules_per_total_token": (400.0 + 100 * i) / y} if i in (1, 2) else {}

    c = run(tmp_path, rows_for("mtp", MTP, power) + rows_for("none", OFF), targets=[30, 40, 50, 60, 70])
    by_x = {t.interactivity: t.arms["mtp"] for t in c.targets}
    assert by_x[40].joules_per_total_token == pytest.approx(500 / 800)
    assert by_x[60].joules_per_total_token == pytest.approx(600 / 500)
    line = MonotoneCurve.fit([40, 60], [500 / 800, 600 / 500])
    assert by_x[50].joules_per_total_token == pytest.approx(float(line(50)))
    assert math.isnan(by_x[30].joules_per_total_token) and math.isnan(by_x[70].joules_per_total_token)
    assert all(math.isnan(t.arms["none"].joules_per_total_token) for t in c.targets)
    assert all(math.isfinite(t.arms["none"].tok_s_per_mw) for t in c.targets if t.arms["none"].in_range)
    d = c.to_dict()
    assert d["metric_knots"]["mtp"]["joules_per_total_token"] == 2
    assert [t["arms"]["none"]["joules_per_total_token"] for t in d["targets"]] == [None] * 5
    assert any(n.startswith("Measured energy per token (from the GPUs' average power during each run) at 2 of "
                            "MTP's 4 and 0 of Off's 4 frontier points") for n in c.notes)
    text = terminal_table(c)
    energy = next(ln for ln in text.splitlines() if ln.startswith("Energy (J/total token, measured)"))
    assert "0.625 J" in energy and energy.count("not measured") == 7
    assert "tok/s per MW (total, provisioned)" in text
    assert c.to_frame().set_index(["interactivity", "arm"]).joules_per_total_token[(50, "mtp")] == pytest.approx(
        float(line(50)))


def test_energy_from_power_alone(tmp_path):
    def power(i, x, y):
        return {"avg_power_w": 600.0}

    c = run(tmp_path, rows_for("mtp", MTP, power) + rows_for("none", OFF, power), targets=[40, 50])
    assert c.targets[0].arms["mtp"].joules_per_total_token == pytest.approx(600 / 800)  # W/GPU ÷ tok/s/GPU
    assert c.targets[1].arms["none"].joules_per_total_token == pytest.approx(600 / 300)
    html = str(report.methodology(c))
    assert "avg_power_w / throughput per GPU" in html and "<em>provisioned</em>" in html


def test_no_power_no_energy_row(tmp_path):
    c = run(tmp_path, rows_for("mtp", MTP) + rows_for("none", OFF))
    assert not c.energy_measured and "Energy" not in terminal_table(c)
    assert not any("energy" in n for n in c.notes)
    assert all(v["joules_per_total_token"] is None for t in c.to_dict()["targets"] for v in t["arms"].values())
    assert "No frontier point of this configuration records measured power" in str(report.methodology(c))


@pytest.mark.parametrize("precision, sequence", [("fp8", "1k/1k"), ("fp8", "8k/1k"), ("fp4", "1k/1k"),
                                                 ("fp4", "8k/1k")])
def test_bundled_mi355x_reports_show_measured_energy(bundled, precision, sequence):
    c = comparison.compare(bundled, "dsr1", "mi355x", precision, sequence)
    d = c.to_dict()
    values = [v["joules_per_total_token"] for t in d["targets"] for v in t["arms"].values()]
    assert any(v is not None for v in values)
    assert all(v is None or 0.1 < v < 10 for v in values)
    assert "Energy (J/total token, measured)" in str(report.table(c))
    assert "<em>measured</em> energy per token" in str(report.methodology(c))


def test_bundled_mi355x_fp8_8k1k_energy_for_both_arms(bundled):
    """Both arms record power across the band: MTP uses less energy per token at every target."""
    c = comparison.compare(bundled, "dsr1", "mi355x", "fp8", "8k/1k")
    for t in c.targets:
        mtp, off = t.arms["mtp"].joules_per_total_token, t.arms["none"].joules_per_total_token
        assert 0.3 < mtp < off < 4


# --- as of a day ---------------------------------------------------------------------------------------------------


def test_as_of_before_every_row(bundled):
    with pytest.raises(UsageError, match=r"^dsr1-b200-fp4-1k1k: no row is dated on or before --as-of 2020-01-01 "
                                         r"\(its oldest is dated 2025-\d\d-\d\d\); choose a later date$"):
        comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k", as_of="2020-01-01")


def test_as_of_with_one_arm_missing_then(bundled):
    c = comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k", as_of=datetime.date(2025, 12, 20))
    assert not c.comparable and c.as_of == "2025-12-20" and c.to_dict()["as_of"] == "2025-12-20"
    assert "MTP has no measured points for this configuration dated on or before 2025-12-20." in c.notes
    assert any(n.startswith("Data as of 2025-12-20: the newest row per line and concurrency dated on or before it; "
                            "67 later rows") for n in c.notes)
    assert max(c.provenance["dates"]) <= "2025-12-20"


def test_as_of_the_newest_day_changes_no_number(bundled):
    newest = max(bundled.history.date)
    a = comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k").to_dict()
    b = comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k", as_of=newest).to_dict()
    assert b["as_of"] == newest
    b["as_of"] = None
    b["notes"] = [n for n in b["notes"] if not n.startswith("Data as of")]
    assert a == b


def test_as_of_moves_the_numbers(bundled):
    """May 5 against today: older rows, other numbers, and none dated after the day."""
    c = comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k", as_of="2026-05-05")
    today = comparison.compare(bundled, "dsr1", "b200", "fp4", "1k/1k")
    assert c.comparable and max(c.provenance["dates"]) <= "2026-05-05" < max(today.provenance["dates"])
    assert [t.ratio for t in c.targets] != [t.ratio for t in today.targets]
    assert (c.points.dated_by <= "2026-05-05").all()


def test_bad_as_of(tmp_path):
    with pytest.raises(UsageError, match=r"--as-of '2026-02-30': not a date"):
        run(tmp_path, rows_for("mtp", MTP) + rows_for("none", OFF), as_of="2026-02-30")


# --- the CLI -------------------------------------------------------------------------------------------------------


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


CONFIG = ("--model", "dsr1", "--hardware", "mi355x", "--precision", "fp8", "--sequence", "8k/1k")


def test_cli_compare_json_and_text(capsys):
    code, out, _ = cli(capsys, "compare", *CONFIG, "--percentile", "p99", "--as-of", "2026-06-12", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["percentile"] == "p99" and d["as_of"] == "2026-06-12"
    assert "p99_ttft_s" in d["targets"][0]["arms"]["mtp"]
    code, out, _ = cli(capsys, "compare", *CONFIG)
    assert "Rows: latency percentile median (interactivity = 1 / median TPOT); latest data" in out
    assert "Energy (J/total token, measured)" in out and "tok/s per MW (total, provisioned)" in out
    assert "Note: Measured energy per token" in out


@pytest.mark.parametrize("args, message", [
    (("compare", *CONFIG, "--as-of", "2026-13-01"), "specnb: error: --as-of '2026-13-01': not a date; give a day as "
                                                   "YYYY-MM-DD, e.g. 2026-05-05"),
    (("compare", *CONFIG, "--as-of", "2020-01-01"), "specnb: error: dsr1-mi355x-fp8-8k1k: no row is dated on or "
                                                   "before --as-of 2020-01-01"),
    (("list", "--as-of", "May 5"), "specnb: error: --as-of 'May 5': not a date"),
    (("build", "--as-of", "2020-01-01", "--out", "/nonexistent/x"), "specnb: error: no configuration has points for "
                                                                   "both MTP and Off dated on or before 2020-01-01"),
])
def test_cli_errors_are_one_line(capsys, args, message):
    code, out, err = cli(capsys, *args)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1 and not out


def test_cli_unknown_percentile_is_one_line():
    for command in (["compare", *CONFIG], ["list"], ["build", "--out", "/nonexistent/x"], ["export", "--out", "x"]):
        proc = subprocess.run([sys.executable, "-m", "specnb.cli", *command, "--percentile", "p95"],
                              capture_output=True, text=True)
        assert proc.returncode == 2 and not proc.stdout, command
        assert proc.stderr == "specnb: error: unknown percentile 'p95'; choose one of: median, p90, p99\n", command


def test_cli_list_counts_usable_rows(capsys):
    code, out, _ = cli(capsys, "list", "--percentile", "p90", "--format", "json")
    at_p90 = {(r["model"], r["hardware"], r["precision"], r["isl"], r["osl"]): r["points"] for r in json.loads(out)}
    code, out, _ = cli(capsys, "list", "--format", "json")
    everything = {(r["model"], r["hardware"], r["precision"], r["isl"], r["osl"]): r["points"] for r in json.loads(out)}
    assert 0 < len(at_p90) < len(everything)
    assert all(n <= everything[k][arm] for k, pts in at_p90.items() for arm, n in pts.items())
    code, out, _ = cli(capsys, "list", "--as-of", "2020-01-01")
    assert code == 0 and "no configurations with points for every arm dated on or before 2020-01-01" in out


def test_cli_export_as_of(capsys, tmp_path):
    out_csv = tmp_path / "then.csv"
    assert cli(capsys, "export", "--as-of", "2026-01-10", "--out", str(out_csv))[0] == 0
    then = specnb.load(out_csv)
    assert len(then.points) and max(d for d in then.points.date if d) <= "2026-01-10"


# --- the build ------------------------------------------------------------------------------------------------------


def test_build_options_reach_the_notebook_and_the_digest(tmp_path):
    from specnb.cli import parser

    args = parser().parse_args(["build", "--percentile", "p99", "--as-of", "2026-06-01", "--out", str(tmp_path)])
    opts = build.options_from_args(args, meta={}, gpu_cost={}, gpu_kw={})
    assert (opts.percentile, opts.as_of) == ("p99", "2026-06-01")
    cfg = {"model": "dsr1", "hardware": "mi355x", "precision": "fp8", "isl": 8192, "osl": 1024}
    params = build.notebook_params(opts, cfg)
    assert params["percentile"] == "p99" and params["as_of"] == "2026-06-01"
    only = ("dsr1-mi355x-fp8-8k1k",)
    digests = [build.plan(build.BuildOptions(out=tmp_path, only=only, **kw))[1][0].digest
               for kw in ({}, {"percentile": "p99"}, {"as_of": "2026-06-01"})]
    assert len(set(digests)) == 3  # changing either rebuilds the report
    with pytest.raises(UsageError, match=r"--as-of 'x': not a date"):
        build.options_from_args(parser().parse_args(["build", "--as-of", "x"]), meta={}, gpu_cost={}, gpu_kw={})


def test_build_plans_only_configurations_with_both_arms_then(tmp_path):
    _, jobs = build.plan(build.BuildOptions(out=tmp_path, percentile="p90"))
    _, all_jobs = build.plan(build.BuildOptions(out=tmp_path))
    assert 0 < len(jobs) < len(all_jobs)


@pytest.mark.slow
def test_build_report_at_p99_as_of_a_day(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--out", str(tmp_path),
                           "--only", "dsr1-mi355x-fp8-8k1k", "--format", "html,json", "--percentile", "p99",
                           "--as-of", "2026-06-12"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "dsr1-mi355x-fp8-8k1k"
    d = json.loads((folder / "comparison.json").read_text())
    assert d["percentile"] == "p99" and d["as_of"] == "2026-06-12"
    assert any(v["joules_per_total_token"] for t in d["targets"] for v in t["arms"].values())
    rows = list(csv.DictReader(io.StringIO((folder / "comparison.csv").read_text())))
    assert rows and all(r["percentile"] == "p99" and r["as_of"] == "2026-06-12" for r in rows)
    assert any(r["joules_per_total_token"] for r in rows)
    html = (folder / "report.html").read_text()
    for text in ("p99 latencies", "data as of 2026-06-12", "Energy (J/total token, measured)",
                 "<strong>Percentile:</strong> p99", "<strong>As of 2026-06-12:</strong>"):
        assert text in html, text
    suite = json.loads((tmp_path / "suite.json").read_text())
    assert suite["options"]["percentile"] == "p99" and suite["options"]["as_of"] == "2026-06-12"
    assert "p99 latencies · data as of 2026-06-12" in (tmp_path / "index.html").read_text()
