"""specnb.display: a Comparison as headline plus table; charts as Vega 5 bundles JupyterLab draws offline."""

import html

import altair as alt
import pytest
import vl_convert

import specnb
from specnb import charts, display, narrative
from specnb.table import comparison_html


@pytest.fixture
def comparison(bundled):
    return specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)


@pytest.fixture
def altair_renderer():
    before = alt.renderers.active
    yield
    alt.renderers.enable(before)


def test_comparison_shows_title_headline_caveat_and_table(comparison):
    shown = comparison._repr_html_()
    assert shown == display.comparison_html(comparison)
    assert html.escape(comparison.title) in shown and html.escape(narrative.headline(comparison)) in shown
    assert "mid-band" in shown and shown.endswith(comparison_html(comparison) + "</div>")
    assert comparison.engines_differ and "Caveat: " + html.escape(narrative.caveat(comparison)) in shown


def test_comparison_without_caveat_or_match(bundled):
    same = specnb.compare("dsr1", "mi355x", "fp4", "1k/1k", data=bundled)
    assert not same.engines_differ and "Caveat" not in same._repr_html_()
    none = specnb.compare("dsr1", "gb300", "fp8", "8k/1k", data=bundled)
    assert not none.comparable and none._repr_html_() == comparison_html(none)  # says why, once


def test_hostile_names_are_escaped(tmp_path, bundled):
    points = bundled.points[(bundled.points.hardware == "b200") & (bundled.points.precision == "fp4")
                            & (bundled.points.isl == 1024) & (bundled.points.osl == 1024)].copy()
    points["model"] = "<img src=x onerror=alert(1)>"
    from specnb.csvfiles import write_points_csv

    write_points_csv(points, tmp_path / "p.csv")
    c = specnb.compare("<img src=x onerror=alert(1)>", "b200", "fp4", "1k/1k", data=[tmp_path / "p.csv"])
    assert "<img" not in c._repr_html_() and "&lt;img" in c._repr_html_()


@pytest.mark.parametrize("make", [charts.chart_throughput, charts.chart_cost, charts.chart_ratio])
def test_renderer_gives_a_drawable_offline_vega5_bundle(comparison, make):
    data, meta = display.vega_renderer(make(comparison).to_dict())
    spec = data[display.VEGA_MIMETYPE]
    assert set(data) == {display.VEGA_MIMETYPE, "text/plain"} and data["text/plain"].startswith("<chart: ")
    assert spec["$schema"].endswith("/vega/v5.json")  # the Vega JupyterLab 4 ships is 5.x
    assert meta == {display.VEGA_MIMETYPE: {"embed_options": {"renderer": "svg"}}}
    assert spec["data"] and not [d for d in spec["data"] if "url" in d]  # values inline: nothing to fetch
    svg = vl_convert.vega_to_svg(spec, allowed_base_urls=[])  # a valid Vega spec that draws marks
    assert svg.count('class="mark-') >= 3


def test_renderer_keeps_interactivity(comparison):
    spec = display.vega_spec(charts.chart_throughput(comparison).to_dict())
    assert any("bind" in s for s in spec.get("signals", []))  # the y-metric menu
    encoded = str(spec["marks"])
    assert "tooltip" in encoded and "Engine" in encoded


def test_enable_makes_altair_charts_vega5(comparison, altair_renderer):
    assert display.RENDERER in alt.renderers.names()  # the entry point in pyproject.toml
    display.enable()
    bundle = charts.chart_cost(comparison)._repr_mimebundle_()
    data, _meta = bundle if isinstance(bundle, tuple) else (bundle, {})
    assert display.VEGA_MIMETYPE in data and "text/html" not in data


def test_user_charts_render_too(altair_renderer):
    """Any Altair chart, not only specnb's: shapes the report charts never use."""
    import pandas as pd

    frame = pd.DataFrame({"x": range(1000), "y": [i % 7 for i in range(1000)], "k": ["a", "b"] * 500})
    chart = alt.Chart(frame).mark_bar().encode(x="k:N", y="mean(y):Q") | alt.Chart(frame).mark_line().encode(
        x="x:Q", y="y:Q", color="k:N").interactive()
    data, _ = display.vega_renderer(chart.to_dict())
    assert "<svg" in vl_convert.vega_to_svg(data[display.VEGA_MIMETYPE], allowed_base_urls=[])
