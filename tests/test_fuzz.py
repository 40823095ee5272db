"""Fuzzing (RELIABILITY.md §7): random valid and invalid benchmark input feeds the loaders and ``compare``.

The only outcomes allowed are a result or a ``SpecnbError``; any other exception is a bug. Example counts
are bounded so the whole module runs in well under a minute.
"""

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rows import OPTIONAL, SHAPES, api_row, ci_row, point, raw_result, write_points

import specnb
from specnb import comparison, costs, data, narrative, report
from specnb.errors import SpecnbError
from specnb.table import comparison_html, terminal_table

EXAMPLES = int(os.environ.get("SPECNB_FUZZ_EXAMPLES", "150"))  # raise it for a longer hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- values a benchmark field may hold in the wild --------------------------------------------------------------

NASTY_TEXT = ["", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1", "0", "1.5", "12x", "１２", "²",
              "<script>alert(1)</script>", "=cmd|'/c calc'!A1", "@SUM(1)", "\n", "\x00", "ü", "🚀", "x" * 300,
              "2026-06-01", "true", "false", "mtp", "none"]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from([0, -1, 2**53 + 1, 2**63, 10**30, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-6, max_value=1e6),
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "tput_per_gpu"]), st.integers(0, 3), max_size=2),
)


def mutate(row: dict, changes: dict, dropped: list) -> dict:
    """Apply random overrides (dotted keys reach into ``metrics``) and deletions to a valid row."""
    row = json.loads(json.dumps(row))
    for key, value in changes.items():
        node, _, leaf = key.rpartition(".")
        target = row.get(node) if node else row
        if isinstance(target, dict):
            target[leaf] = value
    for key in dropped:
        node, _, leaf = key.rpartition(".")
        target = row.get(node) if node else row
        if isinstance(target, dict):
            target.pop(leaf, None)
    return row


API_KEYS = sorted(k for k in api_row() if k != "metrics") + [f"metrics.{k}" for k in api_row()["metrics"]] + ["metrics"]
CI_KEYS = sorted(ci_row())
RAW_KEYS = sorted(raw_result())


def mutated_rows(base, keys):
    row = st.builds(mutate, st.builds(base, conc=st.integers(1, 64)),
                    st.dictionaries(st.sampled_from(keys), values, max_size=3),
                    st.lists(st.sampled_from(keys), max_size=2))
    return st.lists(st.one_of(row, row, row, values), min_size=0, max_size=4)


def dump(doc) -> str:
    try:
        return json.dumps(doc, allow_nan=True)
    except (ValueError, OverflowError):  # pragma: no cover - json can write every value generated above
        return "[]"


def outcome(paths, **kw):
    """Load and return "ok" or the SpecnbError's message; anything else propagates (and fails the test)."""
    data._CACHE.clear()
    try:
        ds = specnb.load(paths, **kw)
    except SpecnbError as exc:
        message = str(exc)
        assert message and "Traceback" not in message
        return message
    assert isinstance(ds, data.Dataset)
    p = ds.points
    assert len(p) and (p.interactivity > 0).all() and (p.throughput_per_gpu > 0).all()
    assert all(math.isfinite(v) for v in p.interactivity) and all(math.isfinite(v) for v in p.throughput_per_gpu)
    ds.configurations(all_configs=True)
    return "ok"


def in_tmp(files: dict, **kw):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return outcome(root, **kw)


@FUZZ
@given(mutated_rows(api_row, API_KEYS))
def test_fuzz_api_rows(rows):
    in_tmp({"bench.json": dump(rows)})


@FUZZ
@given(mutated_rows(ci_row, CI_KEYS), st.booleans())
def test_fuzz_ci_rows(rows, single):
    doc = rows[0] if single and rows else rows
    in_tmp({"run_77/agg_bmk.json": dump(doc)})


RAW_NAMES = ["concurrency_4_req_rate_inf_gpus_16_ctx_8_gen_8.json",
             "dsr1_1k1k_fp8_sglang_tp8-ep1-dpafalse_disagg-false_spec-mtp_conc4_h200-nv_0.json",
             "result.json"]


@FUZZ
@given(st.builds(mutate, st.builds(raw_result), st.dictionaries(st.sampled_from(RAW_KEYS), values, max_size=3),
                 st.lists(st.sampled_from(RAW_KEYS), max_size=2)),
       st.sampled_from(RAW_NAMES),
       st.dictionaries(st.sampled_from(["hardware", "tp", "isl", "precision", "spec_method"]),
                       st.sampled_from(["h200", "8", "0", "-2", "abc", "1k", "", "1e3"]), max_size=2))
def test_fuzz_raw_results(doc, name, meta):
    in_tmp({f"dsr1/{name}": dump(doc)}, meta=meta)


CSV_COLUMNS = list(data.CANONICAL_COLUMNS) + ["topology", "image"]
csv_cells = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=8), st.integers(-5, 5).map(str),
                      st.floats(allow_nan=True, allow_infinity=True).map(repr))


def csv_text(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    return buf.getvalue()


VALID_CSV = {"model": "dsr1", "hardware": "b200", "framework": "sglang", "precision": "fp4", "spec_method": "mtp",
             "isl": "1024", "osl": "1024", "conc": "4", "interactivity": "50", "throughput_per_gpu": "100"}


@FUZZ
@given(st.lists(st.sampled_from(CSV_COLUMNS), min_size=1, max_size=14, unique=True),
       st.lists(st.dictionaries(st.sampled_from(CSV_COLUMNS), csv_cells, max_size=4), max_size=4),
       st.booleans())
def test_fuzz_csv(header, changes, full_header):
    if full_header:
        header = list(dict.fromkeys(list(VALID_CSV) + header))
    rows = [[{**VALID_CSV, **change}.get(col, "") for col in header] for change in changes]
    in_tmp({"points.csv": csv_text(header, rows)})


@settings(max_examples=max(60, EXAMPLES // 2), deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["x.json", "x.csv"]))
@example(b"\r\xc2\x80", "x.csv")  # found by this test: a lone \r in the header escaped as a raw csv.Error
@example(b"model\r,isl\n1,2", "x.csv")
def test_fuzz_arbitrary_bytes(blob, name):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / name).write_bytes(blob)
        outcome(Path(tmp) / name)


# --- compare over random valid datasets -------------------------------------------------------------------------

# A valid dataset's shape: its input format, the optional columns it lacks altogether, and per point the
# optional cells left blank. Only identity, interactivity and throughput are required of a point.
point_values = st.tuples(st.floats(0.05, 5000), st.floats(1e-3, 1e6), st.integers(1, 4096),
                         st.sets(st.sampled_from(sorted(OPTIONAL)), max_size=3))
arm_points = st.lists(point_values, min_size=0, max_size=7)
shapes = st.sampled_from(SHAPES)
dropped_columns = st.one_of(st.just(frozenset()), st.just(frozenset(OPTIONAL)),
                            st.frozensets(st.sampled_from(sorted(OPTIONAL))))


def arm_points_of(spec, pts, framework, hardware):
    return [point(spec, x, y, c, framework=framework, hardware=hardware) for x, y, c, _ in pts]


targets = st.one_of(st.none(), st.lists(st.floats(0.01, 10000), min_size=1, max_size=4),
                    st.sampled_from(["30,50", "abc", "0", "-5", "nan", "1e9"]))


def check_comparison(c):
    d = c.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["schema"] == "specnb.comparison/1"
    assert report.comparison_csv_text(c).startswith("model,hardware")
    comparison_html(c)
    terminal_table(c)
    narrative.paragraphs(c)
    narrative.headline(c)
    narrative.caveat(c)
    for section in (report.header, report.caveat, report.story, report.methodology, report.downloads):
        section(c)._repr_html_()
    for t in c.targets:
        for v in t.arms.values():
            if not v.in_range and c.semantics == "specnb":
                assert math.isnan(v.throughput_per_gpu)  # never extrapolated
    return d


def compare_points(shape, mtp, off, dropped, hardware, engine="trt", **options):
    """Write the points in ``shape`` (lacking the ``dropped`` columns and each point's blank cells), load and
    compare them; None when either step is a SpecnbError (e.g. two random points that are conflicting
    duplicates). Anything else propagates: a bug."""
    points = arm_points_of("mtp", mtp, "sglang", hardware) + arm_points_of("none", off, engine, hardware)
    if not points:
        return None
    blank = [cells for *_, cells in mtp + off]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_points(Path(tmp), shape, points, dropped, blank)
        data._CACHE.clear()
        try:
            return comparison.compare(specnb.load(path), "dsr1", hardware, "fp4", "1k/1k", **options)
        except SpecnbError:
            return None


def check_partial(c, dropped):
    """A metric absent from the data is null everywhere; a present one only inside the knots that carry it."""
    d = c.to_dict()
    for t, td in zip(c.targets, d["targets"], strict=True):
        for arm, v in t.arms.items():
            for metric, mc in c.metric_curves[arm].items():
                value = td["arms"][arm]["concurrency" if metric == "conc" else metric]  # JSON keys are the columns
                if value is None:
                    continue
                assert metric not in dropped and mc.curve is not None
                if c.semantics == "specnb":
                    assert mc.curve.x[0] <= v.evaluated_at <= mc.curve.x[-1]  # never extrapolated
            if THROUGHPUT_OF[c.token_type] in dropped:
                assert math.isnan(v.cost_per_mtok) and math.isnan(v.tok_s_per_mw)
    for arm in c.arms:
        for metric in set(dropped) & set(comparison.interpolated_metrics()):
            assert d["metric_knots"][arm][metric] == 0


THROUGHPUT_OF = comparison.THROUGHPUT_COLUMNS


@FUZZ
@given(arm_points, arm_points, shapes, dropped_columns, st.booleans(), st.sampled_from(["b200", "mi355x", "tpu9"]),
       targets, st.sampled_from(["specnb", "inferencex"]), st.sampled_from(costs.TOKEN_TYPES))
def test_fuzz_compare(mtp, off, shape, dropped, same_engine, hardware, wanted, semantics, token_type):
    c = compare_points(shape, mtp, off, dropped, hardware, "sglang" if same_engine else "trt", targets=wanted,
                       semantics=semantics, token_type=token_type)
    if c is not None:
        check_comparison(c)
        check_partial(c, dropped)


@settings(max_examples=max(25, EXAMPLES // 6), deadline=None)
@given(arm_points, arm_points, shapes, dropped_columns, st.sampled_from(["specnb", "inferencex"]),
       st.sampled_from(costs.TOKEN_TYPES))
def test_fuzz_charts(mtp, off, shape, dropped, semantics, token_type):
    """The report's charts build for any valid data (one point, two points, no overlap, a missing arm, any
    optional metric missing)."""
    charts = pytest.importorskip("specnb.charts")
    c = compare_points(shape, mtp, off, dropped, "b200", semantics=semantics, token_type=token_type)
    if c is None:
        return
    for make in (charts.chart_throughput, charts.chart_cost, charts.chart_ratio):
        spec = make(c).to_dict()
        json.dumps(spec, allow_nan=False)
