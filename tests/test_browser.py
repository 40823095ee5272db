"""Tests of the browser harness (tests/browser.py) on small generated pages."""

from __future__ import annotations

import html
import struct

import browser as bmod  # tests/ is on sys.path (conftest.py)
import pytest
from browser import chromium_fixture  # noqa: F401  (session fixture "chromium")

PWNED = "<script>window.__specnb_pwned=1;alert(1)</script>"


def _page(tmp_path, name: str, body: str, head: str = "") -> str:
    path = tmp_path / name
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title>{head}</head>"
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return str(path)


def _altair_page(tmp_path, name: str, *, inline: bool, renderer: str = "svg") -> str:
    alt = pytest.importorskip("altair")
    data = alt.Data(values=[{"a": k, "b": v} for k, v in zip("ABCDE", [3, 7, 2, 5, 9], strict=True)])
    chart = (
        alt.Chart(data).mark_bar().encode(x="a:N", y="b:Q").properties(title="harness bar chart", width=300, height=200)
    )
    path = tmp_path / name
    if inline:  # needs vl-convert-python for the inlined JS
        pytest.importorskip("vl_convert")
    chart.save(str(path), format="html", inline=inline, embed_options={"renderer": renderer})
    return str(path)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", png[16:24])


# ---------------------------------------------------------------- pure tests


def test_require_chromium_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(bmod, "chromium_executable", lambda: None)
    assert not bmod.chromium_available()
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        bmod.require_chromium()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        bmod.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        bmod.require_chromium()


def test_page_report_problems():
    rep = bmod.PageReport(url="file:///x.html", vega_views=1, svg_marks=3)
    rep.assert_clean()
    rep.blocked_requests.append("https://cdn.example/vega.js")
    with pytest.raises(AssertionError, match="network attempts"):
        rep.assert_clean()


# ---------------------------------------------------------------- in Chromium


@pytest.mark.browser
@pytest.mark.parametrize("renderer", ["svg", "canvas"])
def test_inline_altair_page_renders_offline(tmp_path, chromium, renderer):
    path = _altair_page(tmp_path, f"inline-{renderer}.html", inline=True, renderer=renderer)
    png = tmp_path / f"inline-{renderer}.png"
    rep = chromium.inspect(path, png_path=png)

    assert rep.console_errors == []
    assert rep.blocked_requests == []
    assert rep.dialogs == [] and rep.js_flags == {}
    assert not rep.timed_out
    assert rep.vega_views == 1 == rep.vega_containers
    if renderer == "svg":
        assert rep.svg_marks == 5  # one rect path per bar
    else:
        assert rep.canvas_count == 1 and rep.canvas_painted == 1
    assert rep.marks > 0
    rep.assert_clean(min_views=1)

    w, h = _png_size(png.read_bytes())
    assert w == 1280 and h >= 200
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(png) as im:
        # The bars are Vega's default blue (#4c78a8); a blank page has none.
        blue = sum(n for n, c in im.convert("RGB").getcolors(1 << 20) if c == (0x4C, 0x78, 0xA8))
    assert blue > 1000


def _multi_chart_page(tmp_path, name: str, script: str) -> str:
    """A page with the inlined Vega JS of an Altair page and our own body."""
    inline = tmp_path / "_inline_src.html"
    if not inline.exists():
        _altair_page(tmp_path, inline.name, inline=True)
    head = inline.read_text(encoding="utf-8").rsplit("<body>", 1)[0]
    path = tmp_path / name
    path.write_text(
        f"{head}<body><div id='c1'></div><div id='c2'></div><script>{script}</script></body></html>", encoding="utf-8"
    )
    return str(path)


BAR = """{"$schema": "https://vega.github.io/schema/vega-lite/v6.json",
  "data": {"values": [{"a": "x", "b": 1}, {"a": "y", "b": 2}]},
  "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"},
                              "y": {"field": "b", "type": "quantitative"}}}"""


@pytest.mark.browser
def test_waits_for_a_late_second_chart(tmp_path, chromium):
    path = _multi_chart_page(
        tmp_path,
        "two.html",
        f"vegaEmbed('#c1', {BAR});setTimeout(() => vegaEmbed('#c2', {BAR}, {{renderer: 'canvas'}}), 400);",
    )
    rep = chromium.inspect(path, min_views=2, wait_ms=5000)
    assert not rep.timed_out
    assert (rep.vega_views, rep.vega_containers) == (2, 2)
    assert rep.svg_marks == 2 and rep.canvas_count == 1 and rep.canvas_painted == 1
    assert rep.elapsed_ms > 400
    rep.assert_clean(min_views=2)


@pytest.mark.browser
def test_broken_spec_is_reported(tmp_path, chromium):
    path = _multi_chart_page(
        tmp_path,
        "broken.html",
        "vegaEmbed('#c1', {mark: 'no-such-mark', data: {values: [{a: 1}]}});",
    )
    rep = chromium.inspect(path, wait_ms=1500)
    assert rep.vega_views == 0 and rep.marks == 0
    assert rep.console_errors, "the failed embed must show up as an error"
    with pytest.raises(AssertionError, match="vega views rendered"):
        rep.assert_clean()


@pytest.mark.browser
def test_cdn_page_is_blocked_and_draws_nothing(tmp_path, chromium):
    path = _altair_page(tmp_path, "cdn.html", inline=False)
    rep = chromium.inspect(path, wait_ms=1000)

    assert rep.timed_out
    assert len(rep.blocked_requests) == 3
    assert all(u.startswith("https://cdn.jsdelivr.net/npm/vega") for u in rep.blocked_requests)
    assert rep.vega_views == 0 and rep.marks == 0
    assert any("vegaEmbed is not defined" in e for e in rep.console_errors)
    with pytest.raises(AssertionError, match="network attempts"):
        rep.assert_clean()


@pytest.mark.browser
def test_every_kind_of_network_attempt_is_recorded(tmp_path, chromium):
    body = """
    <img src="http://img.invalid/a.png">
    <script>
      fetch('https://api.invalid/data.json').catch(() => {});
      const x = new XMLHttpRequest(); x.open('GET', 'http://xhr.invalid/x'); x.send();
      try { new WebSocket('wss://ws.invalid/socket'); } catch (e) {}
      navigator.sendBeacon && navigator.sendBeacon('https://beacon.invalid/b', 'x');
    </script>"""
    head = '<link rel="stylesheet" href="//css.invalid/s.css">'
    path = _page(tmp_path, "net.html", body, head)
    # local resources are allowed: a data: image and a file: script
    (tmp_path / "local.js").write_text("window.__specnb_local_js = 'ran';")
    path2 = _page(
        tmp_path,
        "local.html",
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><script src="local.js"></script>',
    )

    rep = chromium.inspect(path, min_views=0, wait_ms=1000)
    hosts = {u.split("/")[2] for u in rep.blocked_requests}
    assert {"img.invalid", "api.invalid", "xhr.invalid", "ws.invalid", "css.invalid"} <= hosts
    # a protocol-relative URL becomes file://HOST/... in a file: page: still remote
    assert "file://css.invalid/s.css" in rep.blocked_requests
    assert all(not u.startswith(("file:///", "data:")) for u in rep.blocked_requests)

    rep2 = chromium.inspect(path2, min_views=0, wait_ms=1000)
    assert rep2.blocked_requests == [] and rep2.console_errors == []
    assert rep2.js_flags == {"__specnb_local_js": "ran"}


@pytest.mark.browser
def test_probe_detects_script_that_ran_and_not_escaped_one(tmp_path, chromium):
    hostile = chromium.inspect(_page(tmp_path, "hostile.html", f"<p>{PWNED}</p>"), min_views=0)
    assert hostile.js_flags == {"__specnb_pwned": 1}
    assert hostile.dialogs == ["alert: 1"]
    with pytest.raises(AssertionError, match="dialogs opened"):
        hostile.assert_clean(min_views=0)

    safe = chromium.inspect(_page(tmp_path, "escaped.html", f"<p>{html.escape(PWNED)}</p>"), min_views=0)
    assert safe.js_flags == {}
    assert safe.dialogs == []
    assert safe.console_errors == []
    assert safe.title == "escaped.html"
    safe.assert_clean(min_views=0)


@pytest.mark.browser
def test_module_level_helpers_share_the_session(tmp_path, chromium):
    path = _page(tmp_path, "plain.html", "<h1>hello</h1><script>confirm('sure?')</script>")
    rep = bmod.inspect_page(path, min_views=0)
    assert bmod.shared_session() is chromium
    assert rep.dialogs == ["confirm: sure?"]
    png = tmp_path / "plain.png"
    bmod.screenshot(path, png, width=640, min_views=0)
    assert _png_size(png.read_bytes())[0] == 640
