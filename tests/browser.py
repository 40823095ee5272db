"""Open HTML reports in real headless Chromium, offline, and report what happened.

Helper module for tests (not a test file).  It drives Debian's Chromium
(``/usr/bin/chromium``, installed by ``.ci/install-chromium.sh``) through the
``playwright`` Python package with ``executable_path=``; no browser is ever
downloaded.  Every request whose URL is not ``file:``/``data:``/``blob:``/
``about:`` is aborted and recorded, so a test can assert that a page made no
network attempt at all.

Typical use from a test::

    from browser import chromium_fixture  # noqa: F401  (fixture "chromium")

    @pytest.mark.browser
    def test_report_draws(tmp_path, chromium):   # chromium: session fixture
        path = build_report(tmp_path)
        rep = chromium.inspect(path)             # or inspect_page(path)
        rep.assert_clean(min_views=2)

One browser process is shared by the whole test session (the ``chromium``
fixture, or the lazily started module-level session behind ``inspect_page`` /
``screenshot``); each page gets its own fresh browser context.
"""

from __future__ import annotations

import atexit
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: Where Debian's package puts the browser; ``SPECNB_CHROMIUM`` overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"

#: URL schemes a self-contained report may use; everything else is blocked.
LOCAL_SCHEMES = ("file", "data", "blob", "about")

#: After a page error, stop waiting for charts once nothing changed this long.
GIVE_UP_MS = 750

#: Global names whose values ``PageReport.js_flags`` collects (prefix match).
PROBE_PREFIX = "__specnb"

CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI / containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes renderers
    # Defence in depth: even a request that escaped the router cannot resolve
    # a host name.  (The router below is what blocks and records.)
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

# Counts what vega-embed has drawn.  A ".vega-embed" container is a rendered
# view once it holds Vega's <svg class="marks"> or <canvas class="marks">
# (not just any svg: the "..." actions button is an svg too).  SVG marks are
# the items of data mark groups (g.role-mark) - axes, legends and titles are
# not counted.
_STATS_JS = """
() => {
  const containers = Array.from(document.querySelectorAll('.vega-embed'));
  let views = 0;
  for (const c of containers) {
    if (c.querySelector('svg.marks, canvas.marks')) views++;
  }
  const svgMarks = document.querySelectorAll(
    '.vega-embed svg.marks g.role-mark > :is(path, rect, line, circle, ellipse, ' +
    'polygon, polyline, text, image)').length;
  let canvases = 0;
  for (const cv of document.querySelectorAll('.vega-embed canvas.marks')) {
    if (cv.width > 0 && cv.height > 0) canvases++;
  }
  return {containers: containers.length, views, svgMarks, canvases,
          ready: document.readyState};
}
"""

# Canvases with some pixel unlike the top-left (background) one, i.e. more
# than a blank or background-filled canvas (run once, at the end).
_CANVAS_PAINTED_JS = """
() => {
  let n = 0;
  for (const cv of document.querySelectorAll('.vega-embed canvas.marks')) {
    if (!(cv.width > 0 && cv.height > 0)) continue;
    try {
      const img = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height);
      const px = new Uint32Array(img.data.buffer);
      const bg = px[0];
      for (let i = 1; i < px.length; i++) { if (px[i] !== bg) { n++; break; } }
    } catch (e) { /* tainted or not a 2d canvas: not counted */ }
  }
  return n;
}
"""

_PROBES_JS = """
(prefix) => {
  const out = {};
  for (const k of Object.getOwnPropertyNames(window)) {
    if (!k.startsWith(prefix)) continue;
    let v;
    try { v = window[k]; } catch (e) { v = '<unreadable>'; }
    try { JSON.stringify(v); out[k] = v === undefined ? null : v; }
    catch (e) { out[k] = String(v); }
  }
  return out;
}
"""


# --------------------------------------------------------------------------
# availability


def chromium_executable() -> str | None:
    """Path of the Chromium to use, or None when there is none."""
    for cand in (os.environ.get("SPECNB_CHROMIUM"), DEFAULT_CHROMIUM, shutil.which("chromium")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _playwright_importable() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def chromium_available() -> bool:
    """True when a Chromium executable and the playwright package are present."""
    return chromium_executable() is not None and _playwright_importable()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip the calling test when Chromium is missing - but fail under CI."""
    if chromium_available():
        return
    what = (
        "Chromium not found (looked at $SPECNB_CHROMIUM, /usr/bin/chromium, PATH)"
        if chromium_executable() is None
        else "the playwright Python package is not installed"
    )
    hint = "; run .ci/install-chromium.sh"
    if _in_ci():
        pytest.fail(f"browser tests must run in CI: {what}{hint}", pytrace=False)
    pytest.skip(f"{what}{hint}")


# --------------------------------------------------------------------------
# results


@dataclass
class PageReport:
    """What one page did in the browser."""

    url: str
    title: str = ""
    #: console messages of type "error" and uncaught page errors ("pageerror: ...")
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    #: non-local URLs the page tried to fetch (all were aborted)
    blocked_requests: list[str] = field(default_factory=list)
    #: ".vega-embed" containers holding an <svg>/<canvas>, and all containers
    vega_views: int = 0
    vega_containers: int = 0
    #: items in SVG data-mark groups (g.role-mark > path/rect/line/text/...)
    svg_marks: int = 0
    #: canvases of nonzero size in chart containers / those with any painted pixel
    canvas_count: int = 0
    canvas_painted: int = 0
    #: "alert: msg", "confirm: msg", "prompt: msg", "beforeunload: msg"
    dialogs: list[str] = field(default_factory=list)
    #: window globals whose names start with PROBE_PREFIX ("__specnb...")
    js_flags: dict[str, Any] = field(default_factory=dict)
    #: True when the charts did not all render and settle: ``wait_ms`` ran
    #: out, or the page had errors and nothing changed for ``GIVE_UP_MS``
    timed_out: bool = False
    elapsed_ms: float = 0.0

    @property
    def marks(self) -> int:
        """SVG marks plus painted canvases: > 0 means something was drawn."""
        return self.svg_marks + self.canvas_painted

    def problems(self, *, min_views: int = 1) -> list[str]:
        out = []
        if self.console_errors:
            out.append(f"console errors: {self.console_errors}")
        if self.blocked_requests:
            out.append(f"network attempts: {self.blocked_requests}")
        if self.dialogs:
            out.append(f"dialogs opened: {self.dialogs}")
        if self.js_flags:
            out.append(f"probe globals set: {self.js_flags}")
        if self.vega_views < min_views:
            out.append(f"{self.vega_views} vega views rendered, expected >= {min_views}")
        if min_views and self.marks == 0:
            out.append("no marks drawn")
        return out

    def assert_clean(self, *, min_views: int = 1) -> None:
        """Fail unless: no errors, no network, no dialogs/probes, charts drawn."""
        probs = self.problems(min_views=min_views)
        if probs:
            raise AssertionError(f"{self.url}:\n  " + "\n  ".join(probs))


# --------------------------------------------------------------------------
# the browser


def _to_url(html_path: str | os.PathLike[str]) -> str:
    s = os.fspath(html_path)
    if s.startswith(("file:", "data:", "about:")):
        return s
    return Path(s).resolve().as_uri()


def _any_url(url: str) -> bool:
    return True


def _is_local(url: str) -> bool:
    """file:/data:/blob:/about: URLs - but not file://HOST/..., which is what a
    protocol-relative ``//cdn.example/x.js`` becomes in a file: page (and
    would be a network fetch once the report is served over http)."""
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme not in LOCAL_SCHEMES:
        return False
    if scheme == "file" and rest.startswith("//"):
        host = rest[2:].split("/", 1)[0]
        return host.lower() in ("", "localhost")
    return True


class ChromiumSession:
    """One headless Chromium (fresh temp profile) for many pages.

    Use as a context manager or call ``close()``.  Must be used from the
    thread that created it (playwright's sync API).
    """

    def __init__(self, executable: str | None = None, *, launch_timeout_ms: float = 90_000):
        from playwright.sync_api import sync_playwright

        exe = executable or chromium_executable()
        if exe is None:
            msg = "no Chromium executable; run .ci/install-chromium.sh"
            raise RuntimeError(msg)
        self.executable = exe
        t0 = time.perf_counter()
        self._pw = sync_playwright().start()
        try:
            # playwright's launch() always uses a fresh temporary
            # --user-data-dir and deletes it on close.
            self._browser = self._pw.chromium.launch(
                executable_path=exe,
                headless=True,
                chromium_sandbox=False,
                args=CHROMIUM_ARGS,
                timeout=launch_timeout_ms,
            )
        except BaseException:
            self._pw.stop()
            raise
        self.startup_s = time.perf_counter() - t0
        self.version = self._browser.version
        self._closed = False

    # -- lifecycle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    def __enter__(self) -> ChromiumSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pages

    def inspect(
        self,
        html_path: str | os.PathLike[str],
        *,
        wait_ms: float = 10_000,
        min_views: int = 1,
        settle_ms: float = 200,
        width: int = 1280,
        height: int = 800,
        png_path: str | os.PathLike[str] | None = None,
        full_page: bool = True,
    ) -> PageReport:
        """Load a page offline, wait for its charts, and report.

        Waits (polling every 40 ms, at most ``wait_ms`` after the load event)
        until at least ``min_views`` vega-embed views are rendered, every
        ``.vega-embed`` container holds Vega's svg/canvas, and the counts have
        not changed for ``settle_ms``.  With ``min_views=0`` it returns once
        the page has been quiet for ``settle_ms``.  If the page logged errors
        it gives up after GIVE_UP_MS without change (``timed_out=True``).
        Optionally saves a screenshot to ``png_path``.
        """
        url = _to_url(html_path)
        rep = PageReport(url=url)
        t0 = time.perf_counter()
        seen_remote: list[str] = []

        ctx = self._browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            service_workers="block",
            accept_downloads=False,
        )
        try:

            def on_route(route: Any) -> None:
                req_url = route.request.url
                if _is_local(req_url):
                    route.continue_()
                else:
                    rep.blocked_requests.append(req_url)
                    route.abort("blockedbyclient")

            def on_ws_route(ws: Any) -> None:
                # Never connect to the server; close the page's socket.
                rep.blocked_requests.append(ws.url)
                ws.close()

            def on_request(req: Any) -> None:
                if not _is_local(req.url):
                    seen_remote.append(req.url)

            def on_console(msg: Any) -> None:
                if msg.type not in ("error", "warning"):
                    return
                text = msg.text
                loc = msg.location or {}
                if loc.get("url"):
                    text = f"{text} [{loc['url']}:{loc.get('lineNumber', 0)}]"
                (rep.console_errors if msg.type == "error" else rep.console_warnings).append(text)

            def on_weberror(web_error: Any) -> None:
                rep.console_errors.append(f"pageerror: {web_error.error}")

            def on_dialog(dialog: Any) -> None:
                rep.dialogs.append(f"{dialog.type}: {dialog.message}")
                try:
                    dialog.dismiss()
                except Exception:  # page may be gone already
                    pass

            # Context-level: also covers iframes and popups (window.open).
            ctx.route(_any_url, on_route)
            ctx.route_web_socket(_any_url, on_ws_route)
            ctx.on("request", on_request)
            ctx.on("console", on_console)
            ctx.on("weberror", on_weberror)
            ctx.on("dialog", on_dialog)
            page = ctx.new_page()

            page.goto(url, wait_until="load", timeout=max(wait_ms, 30_000))
            rep.timed_out = not self._wait_for_charts(
                page, wait_ms, min_views, settle_ms, lambda: bool(rep.console_errors)
            )

            stats = page.evaluate(_STATS_JS)
            rep.vega_views = stats["views"]
            rep.vega_containers = stats["containers"]
            rep.svg_marks = stats["svgMarks"]
            rep.canvas_count = stats["canvases"]
            rep.canvas_painted = page.evaluate(_CANVAS_PAINTED_JS) if rep.canvas_count else 0
            rep.js_flags = page.evaluate(_PROBES_JS, PROBE_PREFIX)
            rep.title = page.title()
            if png_path is not None:
                Path(png_path).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=os.fspath(png_path), full_page=full_page)
        finally:
            ctx.close()

        # Anything the router did not see (should not happen) still counts.
        routed = set(rep.blocked_requests)
        rep.blocked_requests.extend(u for u in seen_remote if u not in routed)
        rep.elapsed_ms = (time.perf_counter() - t0) * 1000
        return rep

    def screenshot(
        self,
        html_path: str | os.PathLike[str],
        png_path: str | os.PathLike[str],
        *,
        width: int = 1280,
        height: int = 800,
        full_page: bool = True,
        wait_ms: float = 10_000,
        min_views: int = 1,
    ) -> PageReport:
        """Save a PNG of the page after its charts rendered; returns the report."""
        return self.inspect(
            html_path,
            wait_ms=wait_ms,
            min_views=min_views,
            width=width,
            height=height,
            png_path=png_path,
            full_page=full_page,
        )

    @staticmethod
    def _wait_for_charts(page: Any, wait_ms: float, min_views: int, settle_ms: float, has_errors: Any) -> bool:
        """True once charts rendered and settled; False on deadline, or early
        when the page had errors and nothing changed for GIVE_UP_MS (a broken
        report then fails fast instead of waiting the whole ``wait_ms``)."""
        deadline = time.monotonic() + wait_ms / 1000
        last = None
        stable_since = time.monotonic()
        while True:
            s = page.evaluate(_STATS_JS)
            key = (s["containers"], s["views"], s["svgMarks"], s["canvases"])
            now = time.monotonic()
            if key != last:
                last, stable_since = key, now
            done_rendering = s["views"] >= min_views and s["views"] == s["containers"]
            if done_rendering and now - stable_since >= settle_ms / 1000:
                return True
            if now >= deadline:
                return False
            if has_errors() and now - stable_since >= max(settle_ms, GIVE_UP_MS) / 1000:
                return False
            page.wait_for_timeout(40)


# --------------------------------------------------------------------------
# one shared session per process, and the pytest fixture

_SHARED: ChromiumSession | None = None


def shared_session() -> ChromiumSession:
    """The process-wide browser, started on first use (skips/fails if missing)."""
    global _SHARED
    if _SHARED is None or _SHARED._closed:
        require_chromium()
        _SHARED = ChromiumSession()
        atexit.register(_close_shared)
    return _SHARED


def _close_shared() -> None:
    global _SHARED
    if _SHARED is not None:
        try:
            _SHARED.close()
        except Exception:
            pass
        _SHARED = None


def inspect_page(html_path: str | os.PathLike[str], *, wait_ms: float = 10_000, **kw: Any) -> PageReport:
    """``ChromiumSession.inspect`` on the shared browser."""
    return shared_session().inspect(html_path, wait_ms=wait_ms, **kw)


def screenshot(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str],
    *,
    width: int = 1280,
    full_page: bool = True,
    **kw: Any,
) -> PageReport:
    """``ChromiumSession.screenshot`` on the shared browser."""
    return shared_session().screenshot(html_path, png_path, width=width, full_page=full_page, **kw)


# Registered under the name "chromium"; import it as ``chromium_fixture`` (in
# conftest.py or a test module) so that test arguments named ``chromium`` do
# not shadow an imported name (ruff F811).
@pytest.fixture(scope="session", name="chromium")
def chromium_fixture() -> Any:
    """Session-wide ``ChromiumSession``; skips (fails under CI) without Chromium."""
    sess = shared_session()
    yield sess
    _close_shared()
