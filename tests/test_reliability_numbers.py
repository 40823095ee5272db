"""Extreme but valid numbers (RELIABILITY.md §11): magnitudes from 5e-324 to 1.8e308 in every measure of every input
format, in cost tables (CSV, YAML), ``--gpu-cost``/``--gpu-kw`` and the Python API.

A value outside its plausible range (``data.PLAUSIBLE``, ``costs.PLAUSIBLE``) is refused when loaded, in one line
naming the file, row and field; any value inside computes without overflow all the way to JSON, CSV, table and
narrative: no traceback, no inf/nan, no cost of 0 for a rated arm, no winner mark between equal values.
"""

import csv
import io
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rows import point, raw_result, write, write_points

import specnb
from specnb import cli, comparison, costs, data, fmt, narrative, report, table
from specnb.comparison import Band, default_targets
from specnb.errors import CostTableError, DataError

EXAMPLES = int(os.environ.get("SPECNB_FUZZ_EXAMPLES", "120"))  # raise it for a longer hunt
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BIGGEST = sys.float_info.max


def _edges(ranges: dict) -> list[float]:
    """Each range's ends and the floats just outside them."""
    out = []
    for low, high, _ in ranges.values():
        out += [low, high, float(np.nextafter(low, 0)), float(np.nextafter(high, math.inf))]
    return sorted(set(out))


def _scientific(mantissa: float, exponent: int) -> float:
    value = float(f"{mantissa:.6f}e{exponent}")
    return value if math.isfinite(value) and value > 0 else 5e-324


# Any positive finite float: uniform in the exponent (so 1e-300 and 1e300 are as likely as 1), hypothesis' own
# float choice (subnormals, the largest float), and the plausible ranges' edges.
magnitudes = st.one_of(
    st.builds(_scientific, st.floats(1, 9.999999), st.integers(-323, 308)),
    st.floats(min_value=5e-324, max_value=BIGGEST),
    st.sampled_from([5e-324, 1e-320, 1e-300, 1e-9, 1e300, 1e308, BIGGEST, *_edges(data.PLAUSIBLE)]),
)
fractions = st.floats(0.0, 1.0)  # where in its plausible range (log scale) a value lies, for valid extremes


def in_range(column: str, fraction: float, ranges=data.PLAUSIBLE) -> float:
    """A value of ``column`` inside its plausible range, log-uniform: the ends as likely as the middle."""
    low, high, _ = ranges[column]
    return min(high, max(low, math.exp(math.log(low) + fraction * (math.log(high) - math.log(low)))))

MEASURES = ("interactivity", "throughput_per_gpu", "output_throughput_per_gpu", "input_throughput_per_gpu",
            "median_ttft_s", "median_e2el_s", "median_tpot_s")


def _sweep(spec: str, scale: float) -> list[dict]:
    """Four ordinary frontier points of one arm (interactivity up, throughput down)."""
    return [point(spec, x * scale, 4000.0 / (x * scale), conc) for x, conc in ((20, 64), (40, 32), (60, 16), (80, 8))]


def _one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message


def _inside(column: str, value: float) -> bool:
    low, high, _ = data.PLAUSIBLE[column]
    return low <= value <= high


def _clean_text(text: str) -> None:
    """No inf/nan spelled out anywhere a reader sees (``inferencex`` is a word, not a number)."""
    assert not re.search(r"(?<![A-Za-z])(-?inf(inity)?|nan)(?![A-Za-z])", text, re.IGNORECASE), text[:300]


ZERO = re.compile(r"^\$?0(\.0*)?$")


def check_clean(c: comparison.Comparison) -> None:
    """Every output of a comparison is finite, every rated cost non-zero, and a winner only where values differ."""
    d = c.to_dict()
    json.dumps(d, allow_nan=False)
    text = report.comparison_csv_text(c)
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert cell.strip().lower() not in ("inf", "-inf", "nan", "infinity"), row
    _clean_text(table.terminal_table(c))
    _clean_text(table.comparison_html(c))
    for para in narrative.paragraphs(c) + [narrative.headline(c)]:
        _clean_text(para)
    rows = table.rows_for(c)
    for t in c.targets:
        for arm, v in t.arms.items():
            if math.isfinite(v.throughput_per_gpu):
                assert 0 < v.throughput_per_gpu < math.inf
                tput = v.throughput_per_gpu if c.token_type == "total" else math.nan
                if c.rate.usd_per_gpu_hour is not None and math.isfinite(tput):
                    assert 0 < v.cost_per_mtok < math.inf and 0 < v.tokens_per_dollar < math.inf
                if c.rate.kw_per_gpu is not None and math.isfinite(tput):
                    assert 0 < v.tok_s_per_mw < math.inf
        for row in rows:
            best = table.best_arm(row, t)
            if best is None:
                continue
            values = [row.value(v) for v in t.arms.values()]
            assert all(x is not None and math.isfinite(x) for x in values)
            assert len(set(values)) > 1 and any(x != 0 for x in values)  # never a winner between equal values
            for arm in t.arms:  # the winner's cell never reads as zero
                assert not ZERO.match(row.text(t.arms[best]))


def compare_file(path: str, **options):
    return comparison.compare(specnb.load(path), "dsr1", "b200", "fp4", "1k/1k", **options)


@SETTINGS
@given(st.sampled_from(["api", "ci", "csv"]), st.sampled_from(MEASURES), st.one_of(magnitudes, fractions.map(str)),
       st.integers(0, 7), st.sampled_from(["specnb", "inferencex"]), st.sampled_from(costs.TOKEN_TYPES))
@example("api", "interactivity", 1e-300, 0, "specnb", "total")
@example("ci", "throughput_per_gpu", 1e308, 3, "specnb", "total")
@example("csv", "interactivity", 1e-3, 0, "inferencex", "total")  # the edges are valid and compute cleanly
@example("api", "throughput_per_gpu", 1e8, 7, "specnb", "total")
def test_extreme_measure_in_every_format(shape, column, value, which, semantics, token_type):
    """One measure of one point takes any magnitude (any float, or anywhere inside its plausible range): refused
    with one line naming file, row and field when it is outside that range, else computed cleanly through to every
    output."""
    value = in_range(column, float(value)) if isinstance(value, str) else value
    points = _sweep("mtp", 1.0) + _sweep("none", 1.1)
    points[which] = {**points[which], column: value}
    if column == "interactivity":  # keep TPOT consistent, as real rows are
        points[which]["median_tpot_s"] = 1 / value if 1 / value < math.inf else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = write_points(Path(tmp), shape, points)
        bad = [c for c in MEASURES if not _inside(c, points[which][c])]
        try:
            c = compare_file(path, semantics=semantics, token_type=token_type)
        except DataError as exc:
            _one_line(str(exc))
            assert bad, f"refused a plausible value: {exc}"
            assert exc.field in bad and exc.path and Path(path).name in exc.path and exc.row is not None
            assert "plausible range" in str(exc) or "positive" in str(exc)
            return
        assert not bad, f"loaded {bad} = {[points[which][c] for c in bad]}"
        check_clean(c)


@SETTINGS
@given(st.sampled_from(["total_token_throughput", "output_throughput", "median_tpot_ms", "median_ttft_ms",
                        "median_e2el_ms"]), magnitudes)
@example("median_tpot_ms", 1e-320)  # interactivity 1000 / TPOT would overflow to inf
@example("total_token_throughput", 1e308)
def test_extreme_raw_client_result(field, value):
    """Raw client results derive interactivity (1000 / TPOT ms) and per-GPU throughput (total / GPUs): an extreme
    input is refused at the derived field, never loaded as inf or 0."""
    name = "dsr1_1k1k_fp4_sglang_tp8-ep1-dpafalse_disagg-false_spec-mtp_conc4_b200-nv_0.json"
    doc = raw_result(**{field: value})
    if field == "total_token_throughput":
        doc["output_throughput"] = value / 2
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / name, doc)
        try:
            ds = specnb.load(path)
        except DataError as exc:
            _one_line(str(exc))
            assert exc.path.endswith(name)
            return
        p = ds.points.iloc[0]
        for column in data.PLAUSIBLE:
            if column in p and not math.isnan(p[column]):
                assert _inside(column, p[column]), (column, p[column])


usd_rates = st.one_of(magnitudes, st.sampled_from(_edges(costs.PLAUSIBLE)),
                      fractions.map(lambda f: in_range("hyperscaler", f, costs.PLAUSIBLE)))
kw_rates = st.one_of(magnitudes, st.sampled_from(_edges(costs.PLAUSIBLE)),
                     fractions.map(lambda f: in_range("kw_per_gpu", f, costs.PLAUSIBLE)))


@SETTINGS
@given(usd_rates, kw_rates, st.sampled_from(["csv", "yaml", "cli", "python"]), st.sampled_from([2.2e-5, 1.0, 5e5]))
@example(1e308, 1.7, "csv", 1.0)
@example(2.0, 1e-320, "yaml", 1.0)
@example(1e-3, 1e3, "cli", 5e5)  # the smallest rate and the largest power with throughputs up to 1e8
@example(1e4, 1e-3, "python", 2.2e-5)  # the largest rate and the smallest power with throughputs down to 1e-3
def test_extreme_rates(usd, kw, source, scale):
    """A $/GPU-hour or kW of any magnitude, from a cost file, the command line or Python, with throughputs at the
    edges of their range: refused in one line naming where it came from, or priced finite and non-zero."""
    points = [{**p, "throughput_per_gpu": p["throughput_per_gpu"] * scale}  # 45 to 200 tok/s/GPU, scaled
              for p in _sweep("mtp", 1.0) + _sweep("none", 1.1)]
    bad = costs.rate_problem("hyperscaler", usd) or costs.rate_problem("kw_per_gpu", kw)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = write_points(root, "api", points)
        args = ["compare", "--data", path, "--model", "dsr1", "--hardware", "b200", "--precision", "fp4",
                "--sequence", "1k/1k", "--format", "json"]
        try:
            if source == "csv":
                (root / "mine.csv").write_text(f"gpu,kw_per_gpu,hyperscaler\nb200,{kw!r},{usd!r}\n", encoding="utf-8")
                c = compare_file(path, cost_table=str(root / "mine.csv"))
            elif source == "yaml":
                (root / "mine.yaml").write_text(f"b200: {{kw_per_gpu: {kw!r}, hyperscaler: {usd!r}}}\n",
                                                encoding="utf-8")
                c = compare_file(path, cost_table=str(root / "mine.yaml"))
            elif source == "python":
                c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=path, gpu_cost={"b200": usd},
                                   gpu_kw={"b200": kw})
            else:
                out, err = io.StringIO(), io.StringIO()
                with _redirect(out, err):
                    code = cli.main([*args, "--gpu-cost", f"b200={usd!r}", "--gpu-kw", f"b200={kw!r}"])
                if bad:
                    assert code == 2 and out.getvalue() == ""
                    line = err.getvalue().strip()
                    _one_line(line)
                    assert line.startswith("specnb: error: --gpu-") and "b200" in line
                    return
                assert code == 0, err.getvalue()
                doc = json.loads(out.getvalue())
                for t in doc["targets"]:
                    for arm in t["arms"].values():
                        assert arm["cost_per_mtok"] > 0 and arm["tok_s_per_mw"] > 0
                        assert arm["tokens_per_dollar"] > 0
                return
        except CostTableError as exc:
            _one_line(str(exc))
            assert bad, str(exc)
            where = {"csv": "mine.csv row 1", "yaml": "mine.yaml GPU 'b200'", "python": "--gpu-"}[source]
            assert where in str(exc) and ("kw_per_gpu" in str(exc) or "hyperscaler" in str(exc) or
                                          source == "python")
            return
        assert not bad, f"accepted usd={usd!r} kw={kw!r}"
        assert c.rate.usd_per_gpu_hour == usd and c.rate.kw_per_gpu == kw
        check_clean(c)


class _redirect:
    def __init__(self, out, err):
        self.out, self.err = out, err

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.out, self.err

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved


def test_gpu_rate_made_in_python_is_checked():
    """A ``CostTable`` built by hand cannot carry a rate that would overflow either."""
    with pytest.raises(CostTableError, match="kw_per_gpu is 1e-320, expected 0.001 to 1,000 kW per GPU"):
        costs.GpuRate(1e-320, {"hyperscaler": 2.0})
    with pytest.raises(CostTableError, match="hyperscaler is inf"):
        costs.GpuRate(1.0, {"hyperscaler": math.inf})


def test_dataset_edited_by_hand_is_checked_when_compared(bundled):
    """``compare`` checks the configuration's points again: a Dataset made or edited by hand with an extreme
    value is one ``DataError``, not an overflow."""
    points = bundled.points.copy()
    mine = (points.model == "dsr1") & (points.hardware == "b200") & (points.precision == "fp4") & \
        (points.isl == 1024) & (points.osl == 1024)
    points.loc[points.index[mine][0], "throughput_per_gpu"] = 1e308
    edited = data.Dataset(points=points, history=bundled.history, files=bundled.files)
    with pytest.raises(DataError, match="field 'throughput_per_gpu' is 1e\\+308, expected 0.001 to 100,000,000"):
        comparison.compare(edited, "dsr1", "b200", "fp4", "1k/1k")


# --- default targets ----------------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.floats(1e-3, 1e6), st.floats(1e-12, 3.0), st.sampled_from(["specnb", "inferencex"]))
@example(10.01, 0.03, "specnb")   # whole and one-decimal rounding both leave the band
@example(10.1, 0.3, "inferencex")  # the dashboard's whole rounding would give 10, outside
@example(0.001, 0.2, "specnb")     # a band near 0: rounding to 0 would give a target of 0
def test_default_targets_lie_inside_the_band(low, width, semantics):
    high = low + width * max(low, 1e-3)
    if not low < high:
        return
    band = Band(low, high, low, high, "frontier overlap")
    chosen = default_targets(band, semantics)
    assert chosen and all(low <= t <= high and t > 0 for t in chosen)
    assert chosen == sorted(chosen) and len(set(chosen)) == len(chosen)


def test_band_narrower_than_one_through_compare():
    """Two arms overlapping in 0.03 tok/s/user: the targets lie in that overlap and every output is clean."""
    mtp = [point("mtp", x, y, c) for x, y, c in ((9.0, 300.0, 64), (10.01, 250.0, 32), (10.04, 249.0, 16))]
    off = [point("none", x, y, c) for x, y, c in ((10.01, 200.0, 64), (10.04, 199.0, 32), (12.0, 100.0, 16))]
    with tempfile.TemporaryDirectory() as tmp:
        for semantics in ("specnb", "inferencex"):
            c = compare_file(write_points(Path(tmp), "api", mtp + off), semantics=semantics)
            assert c.targets, semantics
            assert all(c.band.low <= t.interactivity <= c.band.high for t in c.targets), \
                (semantics, c.band, [t.interactivity for t in c.targets])
            assert not any(v.clamped for t in c.targets for v in t.arms.values())
            check_clean(c)


# --- the reported cases, through the real command -------------------------------------------------------------------

@pytest.mark.parametrize(("case", "expected"), [
    ("interactivity-1e-300", "field 'interactivity' is 1e-300, expected 0.001 to 1,000,000 tok/s/user"),
    ("throughput-1e308", "field 'throughput_per_gpu' is 1e+308, expected 0.001 to 100,000,000 tok/s/GPU"),
    ("gpu-cost-1e308", "--gpu-cost b200=1e+308: expected 0.001 to 10,000 USD per GPU-hour"),
    ("gpu-kw-1e-320", "--gpu-kw b200=1e-320: expected 0.001 to 1,000 kW per GPU"),
    ("cost-csv-1e308", "mine.csv row 1: field 'hyperscaler' is '1e308', expected 0.001 to 10,000 USD per GPU-hour"),
    ("cost-yaml-1e-320", "mine.yaml GPU 'b200': field 'kw_per_gpu' is '1e-320', expected 0.001 to 1,000 kW"),
])
def test_reported_cases_are_one_line(tmp_path, capsys, case, expected):
    points = _sweep("mtp", 1.0) + _sweep("none", 1.1)
    extra = []
    if case == "interactivity-1e-300":
        points[0] = {**points[0], "interactivity": 1e-300, "median_tpot_s": 1.0}
    elif case == "throughput-1e308":
        points[5] = {**points[5], "throughput_per_gpu": 1e308}
    elif case == "gpu-cost-1e308":
        extra = ["--gpu-cost", "b200=1e308"]
    elif case == "gpu-kw-1e-320":
        extra = ["--gpu-kw", "b200=1e-320"]
    elif case == "cost-csv-1e308":
        (tmp_path / "mine.csv").write_text("gpu,kw_per_gpu,hyperscaler\nb200,1.7,1e308\n", encoding="utf-8")
        extra = ["--cost-table", str(tmp_path / "mine.csv")]
    else:
        (tmp_path / "mine.yaml").write_text("b200: {kw_per_gpu: 1e-320, hyperscaler: 2}\n", encoding="utf-8")
        extra = ["--cost-table", str(tmp_path / "mine.yaml")]
    path = write_points(tmp_path, "api", points)
    code = cli.main(["compare", "--data", path, "--model", "dsr1", "--hardware", "b200", "--precision", "fp4",
                     "--sequence", "1k/1k", *extra])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("specnb: error: ") and expected in err, err
    if case.startswith(("interactivity", "throughput")):
        assert "bench.json row" in err


def test_every_plausible_range_is_documented():
    """RELIABILITY.md lists each measure's and constant's range as the code has it."""
    text = (Path(__file__).resolve().parents[1] / "RELIABILITY.md").read_text(encoding="utf-8")
    for column in data.PLAUSIBLE:
        assert f"`{column}`" in text, column
    for low, high, unit in {*data.PLAUSIBLE.values(), *costs.PLAUSIBLE.values()}:
        assert fmt.fmt_limits(low, high, unit) in text, (low, high, unit)


@pytest.mark.parametrize("where", ["json-conc", "json-metric", "yaml-rate"])
def test_integer_literals_past_pythons_digit_limit(tmp_path, capsys, where):
    """A 5,000-digit integer literal (Python refuses to read over 4,300 digits: ``ValueError`` from ``json.loads`` or
    PyYAML, a traceback before) is one line naming the file, row and field, like any other implausible number."""
    digits = "9" * 5000
    points = _sweep("mtp", 1.0) + _sweep("none", 1.1)
    path = Path(write_points(tmp_path, "api", points))
    extra = []
    if where == "yaml-rate":
        (tmp_path / "mine.yaml").write_text(f"b200: {{kw_per_gpu: 1.7, hyperscaler: {digits}}}\n", encoding="utf-8")
        extra = ["--cost-table", str(tmp_path / "mine.yaml")]
        expected = "mine.yaml GPU 'b200': field 'hyperscaler' is '999999"
    else:
        rows = json.loads(path.read_text(encoding="utf-8"))
        rows[2]["conc" if where == "json-conc" else "metrics"] = \
            "@@" if where == "json-conc" else {**rows[2]["metrics"], "tput_per_gpu": "@@"}
        path.write_text(json.dumps(rows).replace('"@@"', digits), encoding="utf-8")
        expected = "bench.json row 2 " + ("(conc '9999" if where == "json-conc" else "(conc 16): field 'metrics.tput_per_gpu'")
    code = cli.main(["compare", "--data", str(path), "--model", "dsr1", "--hardware", "b200", "--precision", "fp4",
                     "--sequence", "1k/1k", *extra])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("specnb: error: ") and expected in err, err
    assert len(err) < 400


# The decimal-literal grammar a text cell of a benchmark file is read by (the one the reader used to match with a
# regular expression; float() on ASCII text without "_" must accept exactly it).
_DECIMAL = re.compile(
    r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.IGNORECASE)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(alphabet=st.sampled_from("0123456789+-.eEinfatyINFATY_ x\u0663\u00a0"), max_size=12),
    st.from_regex(_DECIMAL, fullmatch=True),
    st.text(max_size=8)))
@example("1_000")
@example("\u0661\u0662")
@example("+.5e-3")
@example("Infinity")
@example("nan")
@example("0x10")
def test_text_cells_read_as_numbers_exactly_when_they_are_decimal_literals(text):
    from specnb.formats._rows import _as_number

    got = _as_number(text)
    stripped = text.strip()
    if _DECIMAL.fullmatch(stripped):
        assert got == float(stripped) or (math.isnan(got) and math.isnan(float(stripped)))
    else:
        assert got is None
