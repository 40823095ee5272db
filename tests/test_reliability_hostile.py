"""Hostile names (RELIABILITY.md §5) and determinism (§6), on one real build of tests/data/reliability/hostile.json.

The fixture's model, hardware, precision, engine and image names carry markup, quotes, ``&``, newlines, a
5000-character engine and spreadsheet formula prefixes. The same inputs are built twice, into two folders.
"""

import base64
import csv
import html
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import specnb
from specnb.cli import main

pytestmark = pytest.mark.slow

HOSTILE = Path(__file__).parent / "data" / "reliability" / "hostile.json"
ROWS = json.loads(HOSTILE.read_text())
MODEL, HARDWARE, PRECISION = ROWS[0]["model"], ROWS[0]["hardware"], ROWS[0]["precision"]
ENGINE_MTP, ENGINE_OFF = ROWS[0]["framework"], ROWS[-1]["framework"]
RAW_MARKUP = ["<script>window.__specnb_pwned", "<img src=x onerror", "<svg onload"]
FORMULA = ("=", "+", "-", "@")
FOOTER = re.compile(r'<footer class="specnb-run-metadata".*?</footer>', re.DOTALL)
CHART_BLOCK = re.compile(r"<script\b[^>]*\bdata-specnb-chart=\"specnb-chart-[^>]*>(.*?)</script>", re.DOTALL)
SCRIPT_ELEMENT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)


def build(out):
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--out", str(out), "--jobs",
                           "1", "--data", str(HOSTILE)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    [report] = [p for p in out.iterdir() if p.is_dir()]
    return report


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    first = build(root / "one")
    second = build(root / "two")
    return first, second


@pytest.fixture(scope="module")
def page(builds):
    return (builds[0] / "report.html").read_text()


def test_slug_is_safe(builds):
    name = builds[0].name
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name) and len(name) <= 111
    assert name == specnb.compare(MODEL, HARDWARE, PRECISION, "1k/1k", data=str(HOSTILE)).config.slug


@pytest.fixture(scope="module")
def in_chromium(builds, chromium):
    report = chromium.inspect(builds[0] / "report.html", min_views=3, wait_ms=5000)
    index = chromium.inspect(builds[0].parent / "index.html", min_views=1)
    return report, index


@pytest.mark.browser
def test_no_script_runs_in_chromium(in_chromium):
    for rep in in_chromium:
        assert rep.js_flags == {}, rep.js_flags  # no window.__specnb_pwned
        assert rep.dialogs == [] and rep.console_errors == [] and rep.blocked_requests == []
    report, index = in_chromium
    assert report.vega_views >= 3 and report.marks > 0  # the charts (and their tooltip data) did load
    assert index.vega_views >= 1 and index.marks > 0
    assert "<script>" not in report.title or "__specnb_pwned" in report.title  # the name shows as text


def comment_markup_page(tmp_path):
    """A report page rendered in-process (same exporter as the build) whose engine name holds '<!--<script>'."""
    import nbformat

    from specnb import charts, comparison, export, report

    rows = json.loads(HOSTILE.read_text())
    for r in rows:
        r["framework"] = "<!--<script>" + r["spec_method"]
    (tmp_path / "c.json").write_text(json.dumps(rows))
    c = comparison.compare(specnb.load(tmp_path / "c.json"), MODEL, HARDWARE, PRECISION, "1k/1k")
    nb = nbformat.v4.new_notebook()
    for i, make in enumerate((charts.chart_throughput, charts.chart_cost, charts.chart_ratio)):
        cell = nbformat.v4.new_code_cell("", id=f"c{i}")
        cell.outputs = [nbformat.v4.new_output("display_data", data=report.chart(make(c))._repr_mimebundle_())]
        nb.cells.append(cell)
    path = tmp_path / "comment.html"
    path.write_text(export.export_html(nb))
    return path


@pytest.mark.browser
def test_charts_still_render_with_comment_markup_in_names(tmp_path, chromium):
    path = comment_markup_page(tmp_path)
    rep = chromium.inspect(path, min_views=3, wait_ms=4000)
    assert rep.js_flags == {} and rep.dialogs == []
    assert rep.vega_views >= 3 and rep.marks > 0


def test_chart_json_holds_no_comment_opener(tmp_path):
    page = comment_markup_page(tmp_path).read_text()
    for block in CHART_BLOCK.findall(page):
        assert "<!--" not in block and "<script" not in block.lower()


def test_html_holds_names_only_escaped(page):
    outside = SCRIPT_ELEMENT.sub("", page)
    for raw in RAW_MARKUP:
        assert raw not in outside, raw
    assert html.escape("<script>window.__specnb_pwned=1</script>") in outside
    assert html.escape(MODEL.split("\n")[1], quote=False) in outside
    assert html.escape(HARDWARE.upper(), quote=False) in outside
    assert "x" * 5000 in outside  # a very long name is kept (wrapped by CSS), not truncated into nonsense


def test_chart_specs_cannot_end_their_script_element(page):
    """Tooltips read the names from the embedded chart specs: inert JSON in which no "</script" can appear."""
    blocks = CHART_BLOCK.findall(page)
    assert len(blocks) >= 3
    seen = set()
    for block in blocks:
        assert "</script" not in block.lower() and "</" not in block
        spec = json.loads(block)
        text = json.dumps(spec, ensure_ascii=False)
        seen |= {name for name in (ENGINE_MTP, ENGINE_OFF) if json.dumps(name, ensure_ascii=False)[1:-1] in text}
    assert seen == {ENGINE_MTP, ENGINE_OFF}  # the raw names reach the tooltips, as data


def test_pdf_shows_literal_names(builds):
    import pypdf

    text = "".join(p.extract_text() for p in pypdf.PdfReader(builds[0] / "report.pdf").pages)
    flat = re.sub(r"\s+", "", text)
    assert "<script>window.__specnb_pwned=1</script>" in flat
    assert "=CMD|'/CCALC'!A1" in flat  # the precision, upper-cased in the title
    assert "@SUM(1)<SVGONLOAD=ALERT(1)>" in flat


def csv_cells(text):
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_formula(cells):
    bad = [c for c in cells if c.startswith(FORMULA)]
    assert not bad, bad[:3]


def test_comparison_csv_neutralises_formulas(builds, page):
    text = (builds[0] / "comparison.csv").read_text()
    cells = csv_cells(text)
    assert_no_formula(cells)
    assert "'" + MODEL in cells and "'" + HARDWARE in cells and "'" + PRECISION in cells
    match = re.search(r'href="data:text/csv;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(match.group(1)).decode() == text  # the download in the page is the same file
    d = json.loads((builds[0] / "comparison.json").read_text())
    assert d["config"]["model"] == MODEL and d["config"]["precision"] == PRECISION  # JSON keeps the real names


def test_export_csv_neutralises_formulas_and_reads_back(tmp_path, capsys):
    out = tmp_path / "points.csv"
    assert main(["export", "--data", str(HOSTILE), "--out", str(out)]) == 0
    capsys.readouterr()
    assert_no_formula(csv_cells(out.read_text()))
    again = specnb.load(out)
    assert set(again.points.model) == {MODEL} and set(again.points.framework) == {ENGINE_MTP, ENGINE_OFF}
    assert set(again.points.precision) == {PRECISION}


def test_index_escapes_names(builds):
    index = (builds[0].parent / "index.html").read_text()
    outside = SCRIPT_ELEMENT.sub("", index)
    for raw in RAW_MARKUP:
        assert raw not in outside, raw


# --- §6 determinism ----------------------------------------------------------------------------------------------


def test_json_and_csv_are_byte_identical(builds):
    one, two = builds
    for name in ("comparison.json", "comparison.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert (one.parent / "suite.json").read_bytes() == (two.parent / "suite.json").read_bytes()


def normalise(text: str) -> str:
    """Drop the declared run-metadata block, and the id papermill gives its injected-parameters cell."""
    text = FOOTER.sub("", text)
    return re.sub(r'(celltag_injected-parameters" id="cell-id=)[0-9a-f-]+', r"\1X", text)


def test_html_identical_but_run_metadata_and_injected_cell_id(builds):
    one, two = builds
    for a, b in ((one / "report.html", two / "report.html"), (one.parent / "index.html", two.parent / "index.html")):
        assert normalise(a.read_text()) == normalise(b.read_text()), a.name


def test_html_identical_except_run_metadata(builds):
    one, two = builds
    a, b = (one / "report.html").read_text(), (two / "report.html").read_text()
    assert FOOTER.sub("", a) == FOOTER.sub("", b)


def test_pdf_identical_except_metadata(builds):
    """WeasyPrint output differs only where the run-metadata footer (build time) is printed: every page's text
    equals after removing that footer line, and every page without the footer has identical drawing operators."""
    import pypdf

    one, two = builds
    ra = pypdf.PdfReader(one / "report.pdf")
    rb = pypdf.PdfReader(two / "report.pdf")
    assert len(ra.pages) == len(rb.pages)
    meta = re.compile(r"built: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+")
    for pa, pb in zip(ra.pages, rb.pages, strict=True):
        ta, tb = pa.extract_text(), pb.extract_text()
        assert meta.sub("built: X", ta) == meta.sub("built: X", tb)
        if not meta.search(ta):
            assert pa.get_contents().get_data() == pb.get_contents().get_data()
