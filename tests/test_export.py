"""Tests for specnb.export: offline HTML and vector PDF reports."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbconvert")

from specnb import export
from specnb.errors import BuildError, MissingDependencyError  # noqa: E402

DATA = Path(__file__).parent / "data" / "export"

VEGALITE_V6 = "application/vnd.vegalite.v6+json"
CODE_SOURCES = ("specnb.comparison_table(cmp)", "specnb.chart_throughput(cmp)")


def _chart_spec() -> dict:
    """An Altair chart with a tooltip and a dropdown bound to a param, as a dict."""
    alt = pytest.importorskip("altair")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "interactivity": [20, 60, 100, 140] * 2,
            "throughput_per_gpu": [3000, 2000, 900, 300, 2600, 1500, 500, 100],
            "cost_per_mtok": [0.1, 0.15, 0.3, 0.9, 0.12, 0.2, 0.5, 2.0],
            "arm": ["mtp"] * 4 + ["none"] * 4,
        }
    )
    metric = alt.param(
        name="metric",
        value="throughput_per_gpu",
        bind=alt.binding_select(options=["throughput_per_gpu", "cost_per_mtok"], name="Y metric"),
    )
    chart = (
        alt.Chart(frame, title="Throughput per GPU vs interactivity")
        .transform_calculate(y="datum[metric]")
        .mark_line(point=True)
        .encode(
            x=alt.X("interactivity:Q", title="Interactivity (tok/s/user)"),
            y=alt.Y("y:Q", title="Selected metric"),
            color="arm:N",
            tooltip=["arm", "interactivity", "throughput_per_gpu", "cost_per_mtok"],
        )
        .add_params(metric)
        .properties(width=560, height=280)
    )
    return chart.to_dict()


def _table_html(rows: int = 3) -> str:
    body = "".join(
        f"<tr><td>target {i} throughput/GPU</td><td>{2464.4 + i:.1f}</td><td>605.5</td></tr>" for i in range(rows)
    )
    return f"<table><thead><tr><th>metric</th><th>MTP</th><th>Off</th></tr></thead><tbody>{body}</tbody></table>"


def _notebook(spec: dict | str, *, table_rows: int = 3, mimetype: str = VEGALITE_V6):
    """An executed notebook: markdown, a table output and two chart outputs."""
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        v4.new_markdown_cell("# B200 FP4: MTP vs Off\n\nMTP delivers **4.07×** the throughput per GPU."),
        v4.new_code_cell(
            CODE_SOURCES[0],
            execution_count=1,
            outputs=[
                v4.new_output(
                    "execute_result",
                    data={"text/html": _table_html(table_rows), "text/plain": "<Table>"},
                    execution_count=1,
                )
            ],
        ),
        v4.new_code_cell(
            CODE_SOURCES[1],
            execution_count=2,
            outputs=[
                v4.new_output(
                    "display_data",
                    data={mimetype: spec, "text/plain": "alt.Chart(...)"},
                ),
                v4.new_output(
                    "display_data",
                    data={mimetype: spec, "text/plain": "alt.Chart(...)"},
                ),
            ],
        ),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # fixed ids: nbformat makes random ones
    return nb


@pytest.fixture(scope="module")
def spec() -> dict:
    return _chart_spec()


@pytest.fixture(scope="module")
def nb(spec):
    notebook = _notebook(spec)
    nbformat.validate(notebook)
    return notebook


@pytest.fixture(scope="module")
def html(nb) -> str:
    return export.export_html(nb)


@pytest.fixture(scope="module")
def pdf(nb) -> bytes:
    return export.export_pdf(nb)


class _Refs(HTMLParser):
    """Collects every src/href attribute and every <script> tag's attributes."""

    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "action") and value is not None:
                self.refs.append((tag, name, value))


def test_import_is_cheap():
    code = (
        "import sys, specnb.export; "
        "print([m for m in ('nbconvert', 'nbformat', 'weasyprint', 'vl_convert', 'altair', "
        "'jinja2', 'traitlets') if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- HTML -----------------------------------------------------------------------------


def test_html_inlines_vega_bundle_exactly_once(html):
    bundle = export._vega_bundle(None)
    assert len(bundle) > 100_000
    assert html.count(bundle) == 1  # two charts, one copy
    for global_name in ("window.vega=", "window.vegaLite=", "window.vegaEmbed="):
        assert html.count(global_name) == 1


def test_html_has_no_network_references(html):
    parser = _Refs()
    parser.feed(html)
    remote = [ref for ref in parser.refs if re.match(r"\s*(https?:)?//", ref[2], re.I)]
    assert remote == []
    assert not re.search(r"<script[^>]*\ssrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*\shref\s*=", html, re.I)
    # Outside the inlined library (whose code mentions a few URLs as strings),
    # no URL occurs at all: chart specs escape "/" inside <script> blocks.
    rest = html.replace(export._vega_bundle(None), "")
    assert "http://" not in rest and "https://" not in rest
    assert "@import" not in rest
    assert 'http-equiv="Content-Security-Policy"' in html


def test_html_hides_code_and_prompts(html):
    for source in CODE_SOURCES:
        assert source not in html
    assert "In&nbsp;[" not in html and "Out[" not in html
    assert "jp-InputArea-editor" not in html


def test_html_renders_markdown_table_and_charts(html, spec):
    assert re.search(r"<h1[^>]*>B200 FP4: MTP vs Off", html)
    assert "<strong>4.07×</strong>" in html
    assert "<td>2464.4</td>" in html
    assert "<title>B200 FP4: MTP vs Off</title>" in html
    # Chart targets with ids from cell/output index, specs as inert JSON.
    assert 'id="specnb-chart-2-0"' in html and 'id="specnb-chart-2-1"' in html
    blocks = re.findall(
        r'<script data-specnb-chart="specnb-chart-2-0" data-specnb-mode="vega-lite" '
        r'type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert len(blocks) == 1
    assert json.loads(blocks[0]) == spec  # "\/" is a valid JSON escape
    # The text/plain fallback of a chart is not shown beside it.
    assert "alt.Chart(...)" not in html


def test_html_is_deterministic(nb, html):
    assert export.export_html(copy.deepcopy(nb)) == html
    assert "uuid" not in html.replace(export._vega_bundle(None), "").lower()


def test_html_export_does_not_mutate_notebook(nb):
    before = copy.deepcopy(nb)
    export.export_html(nb)
    assert nb == before


def test_html_without_charts_skips_bundle():
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# Only text")])
    html = export.export_html(nb)
    assert "window.vegaEmbed" not in html
    assert len(html) < 20_000


def test_altair6_dot_json_mimetype_as_string_is_a_chart(spec):
    # Altair 6's "mimetype" renderer writes application/vnd.vegalite.v6.json;
    # nbformat accepts that key only with a string value (not a +json type).
    nb = _notebook(json.dumps(spec), mimetype="application/vnd.vegalite.v6.json")
    html = export.export_html(nb)
    assert 'id="specnb-chart-2-1"' in html


def test_altair_default_renderer_output_is_rejected(spec):
    # Altair 6.3's default renderer under papermill: text/html that fetches
    # vega from jsdelivr (captured from a real run).
    nb = _notebook(spec)
    altair_html = (DATA / "altair_html_renderer_output.html").read_text()
    nb.cells[1].outputs[0].data["text/html"] = altair_html
    with pytest.raises(BuildError, match=r"cell 1, output 0: .*network"):
        export.export_html(nb)


def test_templates_found_from_any_working_directory(nb, html, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exporter = export.SpecnbHTMLExporter()
    assert exporter.from_notebook_node(nb)[0] == html
    # From a file (as `jupyter nbconvert` does): the title is still the H1.
    nbformat.write(nb, tmp_path / "dsr1_b200_fp4.ipynb")
    page, resources = exporter.from_filename(str(tmp_path / "dsr1_b200_fp4.ipynb"))
    assert "<title>B200 FP4: MTP vs Off</title>" in page
    assert resources["metadata"]["name"] == "dsr1_b200_fp4"


# --- PDF ------------------------------------------------------------------------------


def _xobjects(resources, seen=None):
    """Every XObject reachable from a resources dictionary, recursively."""
    seen = set() if seen is None else seen
    xobjects = resources.get("/XObject") if resources else None
    if not xobjects:
        return
    for ref in xobjects.get_object().values():
        obj = ref.get_object()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        yield from _xobjects(obj.get("/Resources"), seen)


def test_pdf_is_a_pdf_with_the_table_text(pdf):
    pypdf = pytest.importorskip("pypdf")
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "2464.4" in text
    assert "B200 FP4: MTP vs Off" in text
    for source in CODE_SOURCES:
        assert source not in text


def _drawing_ops(pdf: bytes) -> tuple[list, int]:
    """XObject subtypes, and the number of lineto operators drawn, in a PDF."""
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    subtypes, linetos = [], 0
    for page in reader.pages:
        streams = [page.get_contents()]
        for xobject in _xobjects(page.get("/Resources")):
            subtypes.append(xobject.get("/Subtype"))
            streams.append(xobject)
        for stream in streams:
            content = stream.get_data().decode("latin-1")
            linetos += len(re.findall(r"-?[\d.]+ -?[\d.]+ l\b", content))
    return subtypes, linetos


def test_pdf_charts_are_vector(nb, pdf):
    subtypes, linetos = _drawing_ops(pdf)
    assert "/Image" not in subtypes  # no raster fallback anywhere
    no_charts = copy.deepcopy(nb)
    no_charts.cells = no_charts.cells[:2]
    _, linetos_without_charts = _drawing_ops(export.export_pdf(no_charts))
    # Axes, ticks, grid lines and line marks are drawn as paths.
    assert linetos - linetos_without_charts > 50


def test_pdf_replaces_bound_widgets_with_a_note(pdf):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Shown with Y metric: throughput_per_gpu" in text
    assert "Interactivity (tok/s/user)" in text  # chart text stays text


def test_pdf_long_table_repeats_header_and_keeps_rows_whole(spec):
    pypdf = pytest.importorskip("pypdf")
    nb = _notebook(spec, table_rows=60)
    reader = pypdf.PdfReader(io.BytesIO(export.export_pdf(nb)))
    pages = [page.extract_text() for page in reader.pages]
    table_pages = [text for text in pages if "target " in text]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "metric MTP Off" in text  # <thead> repeated on each page
    rows = [line for text in table_pages for line in text.splitlines() if "target " in line]
    assert len(rows) == 60
    assert all(re.search(r"target \d+ throughput/GPU \d+\.\d 605\.5$", row) for row in rows)


def test_pdf_is_deterministic(nb, pdf):
    assert export.export_pdf(copy.deepcopy(nb)) == pdf


def test_pdf_page_size_is_configurable(nb):
    pypdf = pytest.importorskip("pypdf")
    exporter = export.SpecnbPDFExporter(page_size="letter")
    data, resources = exporter.from_notebook_node(nb)
    box = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert resources["output_extension"] == ".pdf"


def test_pdf_frontier_table_stays_within_the_text_width(spec):
    # The frontier-points table has a fixed layout with set column widths (specnb-print.css); with the
    # longest values in the data every cell must still start inside the page's right margin (14 mm).
    pypdf = pytest.importorskip("pypdf")
    source = "data/runner-samples/agg-kimik2.5-mi355x/" + "agg_kimik2.5_8k1k_int4_vllm_tp8-ep1_spec-mtp_conc32" * 2
    row = (
        f"<tr><td>MTP</td><td>dynamo-sglang</td><td>P tp16·ep16·dpa / D tp16·ep16·dpa (16P+16D GPUs)</td>"
        f"<td>10860</td><td>309.17</td><td>12515.7</td><td>2026-06-11</td><td><code>{source}#0</code></td></tr>"
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("Arm", "Engine", "Parallelism", "Conc.", "tok/s/user", "tok/s/GPU", "Date", "Source")
    )
    table = (
        f'<table class="specnb-table specnb-frontier"><thead><tr>{head}</tr></thead><tbody>{row * 3}</tbody></table>'
    )
    nb = _notebook(spec)
    nb.cells[1].outputs[0].data["text/html"] = table
    page = pypdf.PdfReader(io.BytesIO(export.export_pdf(nb))).pages[0]
    starts = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            starts.append((cm[0] * tm[4] + cm[2] * tm[5] + cm[4], text))

    page.extract_text(visitor_text=visit)
    right_edge = float(page.mediabox.width) - 14 / 25.4 * 72
    assert any("dynamo-sglang" in text for _, text in starts)
    assert [(round(x), text) for x, text in starts if x >= right_edge] == []


def test_warm_up_pdf_starts_vl_convert_as_a_report_uses_it(monkeypatch):
    # The first chart conversion in a process starts vl-convert's JavaScript engine (~0.7 s): warm_up must
    # pay it, converting with the options a report's charts use, so that fonts are loaded as well.
    import gc

    vl_convert = pytest.importorskip("vl_convert")
    pytest.importorskip("weasyprint")
    calls, frozen = [], []
    convert = vl_convert.vegalite_to_svg

    def spy(spec, **kwargs):
        calls.append(kwargs)
        return convert(spec, **kwargs)

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", spy)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))  # keep this test process's heap as it is
    export.warm_up(("pdf",))
    # one conversion starts the engine in a thread (overlapping the imports), one is a PDF's chart
    assert len(calls) == 2
    for call in calls:
        assert call["config"] == export.PRINT_CHART_CONFIG
        assert call["allowed_base_urls"] == []
    assert frozen == [True]


def test_missing_weasyprint_says_what_to_install(nb, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match="pip install weasyprint"):
        export.SpecnbPDFExporter().from_notebook_node(nb)


# --- registration ---------------------------------------------------------------------


def test_get_exporter_by_entry_point(tmp_path, monkeypatch):
    from nbconvert.exporters import get_exporter

    dist = tmp_path / "specnb_eptest-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: specnb-eptest\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[nbconvert.exporters]\n"
        "specnb-html = specnb.export:SpecnbHTMLExporter\n"
        "specnb-pdf = specnb.export:SpecnbPDFExporter\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert get_exporter("specnb-html") is export.SpecnbHTMLExporter
    assert get_exporter("specnb-pdf") is export.SpecnbPDFExporter
    assert get_exporter("specnb.export.SpecnbPDFExporter") is export.SpecnbPDFExporter


def test_template_dirs_are_package_data():
    for name in ("specnb_html", "specnb_pdf"):
        assert (export.TEMPLATES_DIR / name / "conf.json").is_file()
        assert (export.TEMPLATES_DIR / name / "index.html.j2").is_file()
