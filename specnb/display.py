"""How specnb's objects look in JupyterLab: a ``Comparison`` as its headline plus table, charts drawn offline.

Charts: Altair's default output loads Vega from a CDN, and JupyterLab 4 does not draw Altair 6's Vega-Lite 6
mimetype. It does draw ``application/vnd.vega.v5+json`` with the Vega it ships itself — offline, interactive
(tooltips, the chart's controls), and without the notebook having to be trusted. So ``vega_renderer``
compiles a chart's Vega-Lite spec to Vega 5 locally with vl-convert (already a dependency of the reports)
and emits that. ``enable()`` (or ``alt.renderers.enable("specnb")``) makes it Altair's renderer. Reports are
not affected: their notebook wraps each chart in ``report.chart``, a Vega-Lite bundle the exporters read.
"""

from __future__ import annotations

import html
from functools import cache

from . import narrative
from .comparison import Comparison
from .table import comparison_html as table_html

VEGA_MIMETYPE = "application/vnd.vega.v5+json"
"""What JupyterLab 4's built-in Vega extension renders (its Vega is 5.x)."""
RENDERER = "specnb"


# --------------------------------------------------------------------------------------------- comparison


def comparison_html(c: Comparison) -> str:
    """A comparison as JupyterLab shows it: title, the headline sentence, any caveat, then the table."""
    if not c.comparable:
        return table_html(c)  # its title and why nothing could be matched
    esc = html.escape
    caveat = narrative.caveat(c)
    caveat_html = f'<p style="margin:0 0 .4em;color:#8a5300">Caveat: {esc(caveat)}</p>' if caveat else ""
    return (f'<div class="specnb-comparison"><p style="margin:0 0 .2em"><strong>{esc(c.title)}</strong></p>'
            f'<p style="margin:0 0 .4em">{esc(narrative.headline(c))}</p>{caveat_html}{table_html(c)}</div>')


# ------------------------------------------------------------------------------------------------- charts


@cache
def _vegalite5() -> str:
    """The newest Vega-Lite 5 compiler vl-convert has: its Vega output is what JupyterLab's Vega 5 reads."""
    import vl_convert

    versions = [v for v in vl_convert.get_vegalite_versions() if v.split(".")[0] == "5"]
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


def vega_spec(vegalite: dict) -> dict:
    """A Vega-Lite spec (data inline, as Altair gives it) compiled to a Vega 5 spec, locally."""
    import vl_convert

    return vl_convert.vegalite_to_vega(vegalite, vl_version=_vegalite5())


def vega_renderer(spec: dict, **_metadata) -> tuple[dict, dict]:
    """Altair renderer: the chart as a Vega 5 bundle JupyterLab draws offline (as SVG: crisp, text selectable),
    with a plain-text fallback. Returns ``(data, metadata)`` as ``_repr_mimebundle_`` may."""
    data = {VEGA_MIMETYPE: vega_spec(spec), "text/plain": f"<chart: {spec.get('description', 'chart')}>"}
    return data, {VEGA_MIMETYPE: {"embed_options": {"renderer": "svg"}}}


def enable() -> None:
    """Make ``vega_renderer`` Altair's renderer in this kernel: charts draw in JupyterLab with no network."""
    import altair as alt

    if RENDERER not in alt.renderers.names():  # found through the entry point when specnb is installed
        alt.renderers.register(RENDERER, vega_renderer)
    alt.renderers.enable(RENDERER)
