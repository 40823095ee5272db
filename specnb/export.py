"""nbconvert exporters for specnb reports: self-contained HTML and vector PDF.

Two exporters, registered in the ``nbconvert.exporters`` entry-point group
exactly as nbconvert registers its own:

``SpecnbHTMLExporter`` (``specnb-html``)
    One HTML file that opens with no network. Vega, Vega-Lite and Vega-Embed
    are inlined once per page (from ``vl_convert.javascript_bundle``) and every
    chart is embedded from its spec by a few lines of script. Code inputs and
    prompts are hidden.
``SpecnbPDFExporter`` (``specnb-pdf``)
    The same page rendered by WeasyPrint, with every chart converted to SVG by
    vl-convert first, so charts are vector graphics. No browser is involved.

Charts are found in outputs whose mimetype is a versioned Vega-Lite or Vega
bundle, ``application/vnd.vegalite.v6+json`` (the registered form) or
``application/vnd.vegalite.v6.json`` (what Altair 6's ``mimetype`` renderer
writes), with the spec as a dict or a JSON string. ``ChartPreprocessor``
rewrites each into one private mimetype, ``CHART_MIMETYPE``, carrying the spec
and a chart id derived from the cell and output index, so identical notebooks
export to identical bytes. An Altair ``text/html`` output that loads Vega from
a CDN is rejected rather than exported into a page that cannot work offline.

Templates are package data under ``specnb/templates/`` (``specnb_html`` builds
on nbconvert's ``lab``; ``specnb_pdf`` builds on ``specnb_html``) and are found
relative to this module, so an installed package works from any directory.

nbconvert, vl-convert and WeasyPrint are imported only when an exporter is
first used: the classes below are created on first attribute access (PEP 562
module ``__getattr__``), which keeps ``import specnb.export`` cheap.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
from functools import cache
from pathlib import Path

from . import resources

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from typing import Any

    from nbformat import NotebookNode

__all__ = [
    "CHART_MIMETYPE",
    "TEMPLATES_DIR",
    "ChartPreprocessor",  # noqa: F822 - created on first access by __getattr__
    "ChartSVGPreprocessor",  # noqa: F822 - created on first access by __getattr__
    "SpecnbHTMLExporter",  # noqa: F822 - created on first access by __getattr__
    "SpecnbPDFExporter",  # noqa: F822 - created on first access by __getattr__
    "export_html",
    "export_pdf",
]

TEMPLATES_DIR = resources.TEMPLATES
"""Directory holding the ``specnb_html`` and ``specnb_pdf`` nbconvert templates."""

PRINT_CHART_CONFIG = {"font": "DejaVu Sans"}
"""Vega-Lite config for charts converted to SVG for the PDF (matches ``specnb-print.css``)."""

CHART_MIMETYPE = "application/vnd.specnb.chart+json"
"""Private mimetype a chart output is normalised to: ``{"id", "mode", "spec"}``."""

DEFAULT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)
"""Content-Security-Policy of the HTML report: the page may load nothing at all.

``'unsafe-eval'`` is needed because Vega compiles its expressions with
``Function``; ``'unsafe-inline'`` because every script and style is inline.
"""

# application/vnd.vegalite.v6+json, and Altair 6's non-standard ...v6.json.
_VEGA_MIMETYPE = re.compile(r"^application/vnd\.(vega|vegalite)\.v(\d+)[+.]json$")
# Altair's default ("html") renderer output: loads vega from jsdelivr at view time.
_NETWORK_HTML = re.compile(
    r"cdn\.jsdelivr\.net/npm/vega|<script[^>]*\ssrc\s*=\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)
_END_SCRIPT = re.compile(r"</(script)", re.IGNORECASE)
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)

_PIP_NAMES = {
    "nbconvert": "nbconvert",
    "vl_convert": "vl-convert-python",
    "weasyprint": "weasyprint",
}


def _import_optional(module: str, purpose: str) -> Any:
    """Import ``module`` or fail with the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pip_name = _PIP_NAMES.get(module, module)
        from .errors import MissingDependencyError

        msg = (f"{purpose} needs the {pip_name!r} package, which is not installed; run: pip install {pip_name} "
               "(or pip install 'specnb[reports]')")
        raise MissingDependencyError(msg) from exc


@cache
def _vega_bundle(vl_version: str | None) -> str:
    """Vega + Vega-Lite + Vega-Embed as one script (about 0.9 MB).

    vl-convert takes ~2–3 s to assemble it, and the result depends only on the installed vl-convert, so it
    is stored once per installation (``<env>/share/specnb``, written by ``make`` / ``python -m specnb.export``),
    else in ``$SPECNB_CACHE`` or the user's cache folder.
    """
    vl_convert = _import_optional("vl_convert", "Inlining Vega in HTML reports")
    name = f"vega-bundle-{vl_convert.__version__}-{vl_version or 'default'}.js"
    for folder in _bundle_dirs():
        try:
            return (folder / name).read_text(encoding="utf-8")
        except OSError:
            continue
    # The bundle defines window.vega, window.vegaLite and window.vegaEmbed. It
    # holds no "</script" today; escape it anyway so it can never end the tag.
    # Only that sequence: a blanket "</" -> "<\\/" breaks regex literals (/</g).
    bundle = _END_SCRIPT.sub(r"<\\/\1", vl_convert.javascript_bundle(vl_version=vl_version))
    from .atomic import write_text

    for folder in _bundle_dirs():
        try:
            write_text(folder / name, bundle)
            break
        except OSError:  # read-only: try the next place; failing all only costs speed
            continue
    return bundle


def _bundle_dirs() -> list[Path]:
    """Where the bundle may be kept, in order: $SPECNB_CACHE, the environment's share/, the user cache."""
    import os
    import sys

    if os.environ.get("SPECNB_CACHE"):
        return [Path(os.environ["SPECNB_CACHE"])]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [Path(sys.prefix) / "share" / "specnb", Path(base) / "specnb"]


def script_json(obj: Any) -> str:
    """JSON for an inert ``<script type="application/json">`` block: ``<``, ``>``, ``&`` and ``/`` are written as
    JSON escapes, so no data string (``</script>``, ``<!--``) can end the block or start a comment in it."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return text.replace("/", "\\/")  # as nbconvert's escape_html_script: no URL appears in the page


def _chart_of(data: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """Return ``(mimetype, mode, spec)`` for a Vega(-Lite) mime bundle, else None."""
    for mimetype, value in data.items():
        match = _VEGA_MIMETYPE.match(mimetype)
        if match:
            spec = json.loads(value) if isinstance(value, str) else value
            return mimetype, "vega" if match[1] == "vega" else "vega-lite", spec
    return None


def _bound_params(spec: dict[str, Any]) -> list[tuple[str, Any]]:
    """Top-level params bound to an input widget, as ``(label, initial value)``."""
    bound = []
    for param in spec.get("params", []) or []:
        bind = param.get("bind")
        if isinstance(bind, dict) and "input" in bind:
            label = (bind.get("name") or param.get("name", "")).strip()
            bound.append((label, param.get("value")))
    return bound


def _alt_text(spec: dict[str, Any]) -> str:
    """A chart's description or title, for the image's alt text."""
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(spec.get("description") or title or "Chart")


def _chart_svg(mode: str, spec: dict[str, Any], vl_version: str | None) -> str:
    """A chart as SVG for print, by vl-convert with no external data allowed."""
    vl_convert = _import_optional("vl_convert", "Converting charts to SVG")
    if mode == "vega":
        return vl_convert.vega_to_svg(spec, allowed_base_urls=[])
    # Measure text with the font the PDF draws it in (the print CSS's DejaVu Sans);
    # with Vega's default "sans-serif" the SVG is sized for narrower glyphs and
    # WeasyPrint clips legends and titles at its right edge.
    return vl_convert.vegalite_to_svg(spec, vl_version=vl_version, config=PRINT_CHART_CONFIG, allowed_base_urls=[])


def _title_of(nb: NotebookNode) -> str:
    """The notebook's title: metadata ``title``, else its first level-1 heading."""
    if nb.metadata.get("title"):
        return str(nb.metadata["title"])
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = _H1.search(cell.source)
            if match:
                return match[1]
    return ""


def _define() -> dict[str, type]:
    """Create the preprocessor and exporter classes (imports nbconvert)."""
    _import_optional("nbconvert", "Exporting specnb reports")
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import Preprocessor
    from traitlets import Unicode, default

    class ChartPreprocessor(Preprocessor):
        """Normalise Vega(-Lite) outputs to ``CHART_MIMETYPE`` with stable ids.

        Each chart output keeps only its ``text/plain`` fallback beside the
        chart, so no other representation (an Altair HTML fallback, a PNG) is
        rendered too. The chart id is ``specnb-chart-<cell>-<output>``.
        Counts charts into ``resources["specnb"]["charts"]``.

        Raises
        ------
        specnb.errors.BuildError
            If a ``text/html`` output would load scripts from the network, as
            Altair's default renderer does.
        """

        def preprocess(self, nb, resources):
            charts = 0
            for cell_index, cell in enumerate(nb.cells):
                for output_index, output in enumerate(cell.get("outputs", [])):
                    data = output.get("data")
                    if not data:
                        continue
                    chart = _chart_of(data)
                    if chart is None:
                        html = data.get("text/html", "")
                        if isinstance(html, list):
                            html = "".join(html)
                        if _NETWORK_HTML.search(html):
                            msg = (
                                f"cell {cell_index}, output {output_index}: this text/html "
                                "output loads JavaScript from the network (Altair's default "
                                "'html' renderer does), so the report would not work "
                                "offline; display charts as a Vega-Lite mime bundle "
                                "{'application/vnd.vegalite.v6+json': chart.to_dict()}"
                            )
                            from .errors import BuildError

                            raise BuildError(msg)
                        continue
                    _mimetype, mode, spec = chart
                    chart_id = f"specnb-chart-{cell_index}-{output_index}"
                    new_data = {CHART_MIMETYPE: {"id": chart_id, "mode": mode, "spec": spec}}
                    if "text/plain" in data:
                        new_data["text/plain"] = data["text/plain"]
                    output["data"] = new_data
                    charts += 1
            resources.setdefault("specnb", {})["charts"] = charts
            return nb, resources

    class ChartSVGPreprocessor(Preprocessor):
        """Replace each ``CHART_MIMETYPE`` output with its SVG, for print.

        Runs after ``ChartPreprocessor``. Conversion uses vl-convert with no
        external data allowed. Widgets bound to params cannot work on paper, so
        the chart is drawn at the params' initial values and
        ``output.metadata["specnb"]["note"]`` says which values those are.
        """

        def preprocess(self, nb, resources):
            vl_version = resources.get("specnb", {}).get("vegalite_version") or None
            for cell in nb.cells:
                for output in cell.get("outputs", []):
                    chart = output.get("data", {}).get(CHART_MIMETYPE)
                    if chart is None:
                        continue
                    spec = chart["spec"]
                    svg = _chart_svg(chart["mode"], spec, vl_version)
                    info = {"chart_id": chart["id"], "alt": _alt_text(spec)}
                    bound = _bound_params(spec)
                    if bound:
                        shown = "; ".join(f"{label}: {value}" for label, value in bound)
                        info["note"] = f"Shown with {shown} (interactive in the HTML report)."
                    output["data"] = {"image/svg+xml": svg}
                    output.setdefault("metadata", {})["specnb"] = info
            return nb, resources

    class SpecnbHTMLExporter(HTMLExporter):
        """Self-contained, offline HTML report: hidden code, interactive charts.

        Uses the ``specnb_html`` template. Vega, Vega-Lite and Vega-Embed are
        inlined once, and only when the notebook holds a chart. Reuse one
        instance for many notebooks: nbconvert caches the compiled template
        per instance.
        """

        export_from_notebook = "specnb HTML report"

        vegalite_version = Unicode(
            None,
            allow_none=True,
            help="Vega-Lite version (e.g. '6.4') for the inlined bundle and for SVG "
            "conversion; None means the newest one vl-convert ships.",
        ).tag(config=True)

        content_security_policy = Unicode(
            DEFAULT_CSP,
            help="Content-Security-Policy <meta> of the page; the default forbids every "
            "network request. Empty string: no policy.",
        ).tag(config=True)

        def default_filters(self):
            yield from super().default_filters()
            yield ("specnb_script_json", script_json)

        @default("template_name")
        def _template_name_default(self):
            return "specnb_html"

        @default("extra_template_basedirs")
        def _extra_template_basedirs_default(self):
            # Only our own directory: a template folder in the working
            # directory must not shadow the report templates.
            return [str(TEMPLATES_DIR)]

        @default("extra_template_paths")
        def _extra_template_paths_default(self):
            # Lets specnb_pdf extend 'specnb_html/index.html.j2' by name.
            return [str(TEMPLATES_DIR)]

        @default("exclude_input")
        def _exclude_input_default(self):
            return True

        @default("exclude_input_prompt")
        def _exclude_input_prompt_default(self):
            return True

        @default("exclude_output_prompt")
        def _exclude_output_prompt_default(self):
            return True

        def _specnb_resources(self) -> dict[str, Any]:
            version = self.vegalite_version
            return {
                "charts": 0,
                "chart_mimetype": CHART_MIMETYPE,
                "csp": self.content_security_policy,
                "vegalite_version": version,
                "vega_js": lambda: _vega_bundle(version),
            }

        def from_notebook_node(self, nb, resources=None, **kw):
            resources = dict(resources or {})
            resources["specnb"] = self._specnb_resources()
            name = (resources.get("metadata") or {}).get("name", "")
            resources["specnb"]["title"] = _title_of(nb) or name
            return super().from_notebook_node(nb, resources, **kw)

    class SpecnbPDFExporter(SpecnbHTMLExporter):
        """PDF report: the HTML report, charts as SVG, laid out by WeasyPrint.

        No browser and no network: WeasyPrint may only read ``data:`` URLs.
        ``from_notebook_node`` returns the PDF as bytes.
        """

        export_from_notebook = "specnb PDF report"
        output_mimetype = "application/pdf"

        page_size = Unicode(
            "A4",
            help="CSS @page size, e.g. 'A4', 'letter', 'A4 landscape'.",
        ).tag(config=True)

        @default("file_extension")
        def _file_extension_default(self):
            return ".pdf"

        @default("template_extension")
        def _template_extension_default(self):
            # The PDF template is HTML, as in nbconvert's webpdf exporter.
            return ".html.j2"

        @default("template_name")
        def _template_name_default(self):
            return "specnb_pdf"

        def _specnb_resources(self) -> dict[str, Any]:
            specnb = super()._specnb_resources()
            specnb["page_size"] = self.page_size
            return specnb

        _engine = None  # (URL fetcher, font configuration): made once per exporter, reused for every PDF

        def from_notebook_node(self, nb, resources=None, **kw):
            weasyprint = _import_optional("weasyprint", "Exporting PDF reports")
            html, resources = super().from_notebook_node(nb, resources, **kw)
            if self._engine is None:
                from weasyprint.text.fonts import FontConfiguration

                self._engine = (weasyprint.URLFetcher(allowed_protocols={"data"}), FontConfiguration())
            fetcher, fonts = self._engine
            pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=fonts)
            resources["output_extension"] = ".pdf"
            return pdf, resources

    classes: dict[str, type] = {
        "ChartPreprocessor": ChartPreprocessor,
        "ChartSVGPreprocessor": ChartSVGPreprocessor,
        "SpecnbHTMLExporter": SpecnbHTMLExporter,
        "SpecnbPDFExporter": SpecnbPDFExporter,
    }
    for cls in classes.values():
        # Importable and picklable as specnb.export.<name>.
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    return classes


_LAZY = frozenset({"ChartPreprocessor", "ChartSVGPreprocessor", "SpecnbHTMLExporter", "SpecnbPDFExporter"})
_define_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        with _define_lock:
            if name not in globals():
                globals().update(_define())
        return globals()[name]
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)


_use_lock = threading.Lock()


@cache
def _exporter(name: str) -> Any:
    """The process-wide exporter instance called ``name``."""
    return __getattr__(name)()


def export_html(nb: NotebookNode) -> str:
    """Export an executed notebook to a self-contained HTML report.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook (nbformat 4). It is not modified.

    Returns
    -------
    str
        The page; it makes no network request when opened.
    """
    with _use_lock:  # an exporter instance is not thread-safe
        html, _ = _exporter("SpecnbHTMLExporter").from_notebook_node(nb)
    return html


def export_pdf(nb: NotebookNode) -> bytes:
    """Export an executed notebook to a PDF report with vector charts.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Executed notebook (nbformat 4). It is not modified.

    Returns
    -------
    bytes
        The PDF document.
    """
    with _use_lock:
        pdf, _ = _exporter("SpecnbPDFExporter").from_notebook_node(nb)
    return pdf


# A chart with a title, axes and a legend, so that converting it lays out text (vl-convert loads its fonts).
_WARM_UP_CHART = {
    "data": {"values": [{"x": 0, "y": 1, "arm": "a"}, {"x": 1, "y": 2, "arm": "b"}]},
    "mark": "point",
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
        "color": {"field": "arm", "type": "nominal"},
    },
    "title": "warm-up",
    "width": 40,
    "height": 20,
}


def start_chart_engine() -> threading.Thread:
    """Start vl-convert's JavaScript engine (and load its fonts) in a thread, by converting a tiny chart with
    the options a report's charts use; the engine runs without the GIL, on another core."""
    engine = threading.Thread(target=_chart_svg, args=("vega-lite", _WARM_UP_CHART, None), daemon=True)
    engine.start()
    return engine


def warm_up(formats=("html",)) -> None:
    """Pay the one-off costs of the first export ahead of the first report.

    Imports the exporters and compiles their templates; with ``"html"`` loads the Vega bundle; with ``"pdf"``
    exports a PDF holding one tiny Vega-Lite chart, which starts vl-convert's JavaScript engine and loads its
    fonts (~0.7 s on the first conversion in a process) through the same code, with the same options, as a
    report's charts (started first, in a thread: it runs without the GIL). Last, the objects that exist by
    then (mostly the imported modules) are moved out of the cyclic garbage collector's reach
    (:func:`gc.freeze`; no collection first, which would cost ~0.2 s): every PDF export allocates enough to
    set off a full collection, which would otherwise traverse all of them again for each report (0.1–0.3 s).

    ``specnb.workers.warm_up`` calls this as a worker starts (and ``specnb build`` in a thread, for the index,
    while its workers run).
    """
    import gc

    # vl-convert starts its engine without holding the GIL: overlap it with the imports
    engine = start_chart_engine() if "pdf" in formats else None
    import nbformat

    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("warm-up", id="warm-up")])
    if "html" in formats:
        export_html(nb)
        _vega_bundle(None)
    if "pdf" in formats:
        chart = v4.new_output("display_data", data={"application/vnd.vegalite.v6+json": _WARM_UP_CHART})
        nb.cells.append(v4.new_code_cell("", id="warm-up-chart", outputs=[chart]))
        export_pdf(nb)
    if engine is not None:
        engine.join()
    gc.freeze()


if __name__ == "__main__":  # `python -m specnb.export`: build the installation's Vega bundle once
    _vega_bundle(None)
