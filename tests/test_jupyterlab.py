"""The explore notebook in real JupyterLab, offline: every chart drawn, no error, nothing fetched from outside.

JupyterLab runs on 127.0.0.1 (a token, a temporary root dir, its own settings); the system Chromium opens
``explore.ipynb`` with every request to any other host aborted and recorded, runs all cells, and the test
reads the page: each chart cell holds a drawn Vega view (its marks in the SVG), a tooltip shows on hover,
no output is an error or stderr, and the saved notebook's outputs reference nothing on the network.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from browser import CHROMIUM_ARGS, chromium_executable, require_chromium

from specnb import resources

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHART_CELLS = ("chart-throughput", "chart-cost", "chart-ratio", "chart-trend")
LOCAL_SCHEMES = ("data", "blob", "about")
# As the report browser tests, but the host resolver lets the server's address through.
ARGS = [a if not a.startswith("--host-resolver-rules=") else a + ", EXCLUDE 127.0.0.1" for a in CHROMIUM_ARGS]

# Per code cell (by its id in the notebook's model): prompt text, output mimetypes, and for a Vega view
# the number of drawn data marks (items in SVG mark groups; axes, legends and titles are not counted).
_CELLS_JS = """
() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(cell => ({
  prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  mimes: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => o.dataset.mimeType || ''),
  views: Array.from(cell.querySelectorAll('.vega-embed')).map(v =>
    v.querySelectorAll('svg.marks g.role-mark > :is(path, rect, line, circle, text, image)').length),
  text: (cell.querySelector('.jp-OutputArea') || {}).innerText || '',
}))
"""


# The open notebook's kernel has started and is idle (JupyterLab exposes its app as window.jupyterapp when
# started with --LabApp.expose_app_in_browser, as its own UI tests do).
_KERNEL_IDLE_JS = """
() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && document.querySelectorAll('.jp-Notebook .jp-CodeCell').length > 0;
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname == "127.0.0.1"


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a temporary folder holding the bundled explore notebook."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(resources.notebook("explore"), root / "explore.ipynb")
    # Every cell stays in the page (no windowing), so every output is rendered and can be inspected; and
    # JupyterLab does not ask about fetching news.
    for plugin, value in {"notebook-extension/tracker": {"windowingMode": "none"},
                          "apputils-extension/notification": {"fetchNews": "false"}}.items():
        path = tmp_path / "lab-settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "IPYTHONDIR": str(tmp_path / "ipython")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.allow_root=True", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.25)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _run_all_in_chromium(base: str, token: str) -> dict:
    """Open the notebook in headless Chromium (only 127.0.0.1 reachable), run all cells, save; what was seen."""
    from playwright.sync_api import sync_playwright

    seen = {"blocked": [], "console_errors": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_executable(), headless=True, chromium_sandbox=False,
                                     args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")

            def route(r):
                if _is_local(r.request.url):
                    r.continue_()
                else:
                    seen["blocked"].append(r.request.url)
                    r.abort("blockedbyclient")

            def ws_route(ws):
                seen["blocked"].append(ws.url)
                ws.close()

            ctx.route(lambda url: True, route)
            ctx.route_web_socket(lambda url: not _is_local(url), ws_route)
            page = ctx.new_page()
            page.on("console", lambda m: seen["console_errors"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen["console_errors"].append(f"pageerror: {e}"))
            page.goto(f"{base}/lab/tree/explore.ipynb?token={token}", wait_until="load", timeout=90_000)
            page.wait_for_function(_KERNEL_IDLE_JS, timeout=120_000, polling=250)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            page.wait_for_function(f"""() => {{
                const cells = ({_CELLS_JS})();
                return cells.length > 0 && cells.every(c => /\\[\\d+\\]/.test(c.prompt)) &&
                       cells.every(c => c.views.every(n => n > 0));
            }}""", timeout=180_000, polling=250)
            seen["cells"] = page.evaluate(_CELLS_JS)

            # Interactive: hovering a point of the first chart shows its tooltip.
            point = page.locator(".vega-embed svg.marks g.mark-symbol path").first
            point.scroll_into_view_if_needed()
            point.hover(force=True)
            page.wait_for_selector("#vg-tooltip-element.visible", timeout=10_000)
            seen["tooltip"] = page.inner_text("#vg-tooltip-element")
            seen["bindings"] = page.locator(".vega-embed .vega-bindings select").count()
            shots = os.environ.get("SPECNB_SCREENSHOTS")  # a folder to keep pictures of the outputs in
            if shots:
                for i, output in enumerate(page.locator(".jp-CodeCell .jp-OutputArea:has(.jp-OutputArea-child)").all()):
                    output.scroll_into_view_if_needed()
                    output.screenshot(path=os.path.join(shots, f"jupyterlab-output-{i}.png"))

            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
        finally:
            browser.close()
    return seen


def test_explore_notebook_draws_offline_in_jupyterlab(lab):
    require_chromium()
    base, token, root = lab
    # Playwright's sync API runs in a thread of its own: the report browser tests' shared session may hold
    # this one (its event loop), and Chromium here needs other launch flags (127.0.0.1 must resolve).
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(_run_all_in_chromium, base, token).result()
    blocked, console_errors, cells = seen["blocked"], seen["console_errors"], seen["cells"]
    tooltip, binding = seen["tooltip"], seen["bindings"]

    assert not blocked, f"requests outside 127.0.0.1: {blocked}"
    assert not console_errors, console_errors
    source_ids = [c["id"] for c in json.loads((root / "explore.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    assert len(cells) == len(source_ids)
    by_id = dict(zip(source_ids, cells, strict=True))
    for cid, cell in by_id.items():
        assert cell["mimes"] or cid == "setup", f"cell {cid} shows no output"
        assert not {"application/vnd.jupyter.stderr", "application/vnd.jupyter.error"} & set(cell["mimes"]), \
            f"cell {cid} shows an error: {cell['text'][:500]}"
    for cid in CHART_CELLS:
        assert len(by_id[cid]["views"]) == 1 and by_id[cid]["views"][0] > 10, (cid, by_id[cid])
    assert "Engine" in tooltip and "Concurrency" in tooltip, tooltip
    assert binding >= 1  # the throughput chart's metric menu is drawn
    headline = by_id["compare"]["text"]
    assert "MTP vs Off" in headline and "mid-band" in headline and "Throughput (tok/s/GPU)" in headline

    saved = json.loads((root / "explore.ipynb").read_text())
    outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert sum("application/vnd.vega.v5+json" in o.get("data", {}) for o in outputs) == len(CHART_CELLS)
    assert not network_references(outputs)


def network_references(outputs: list) -> list[str]:
    """Whatever in notebook outputs would make a viewer fetch from the network: remote sources of scripts,
    styles, images and frames, URLs inside scripts and styles (Altair's default output loads Vega from a
    script), and Vega data URLs. A link (``<a href>``) or a Vega ``$schema`` is a name, not a fetch."""
    found = []
    for out in outputs:
        for mime, value in out.get("data", {}).items():
            text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) else ""
            if mime == "text/html":
                found += re.findall(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*"
                                    r"[\"']?((?:https?:)?//[^\s\"'>]+)", text, re.I)
                for block in re.findall(r"<(script|style)\b[^>]*>(.*?)</\1>", text, re.I | re.S):
                    found += re.findall(r"https?://[^\s\"'`)]+", block[1])
            if "vega" in mime:
                spec = value if isinstance(value, dict) else json.loads(text)
                found += [d["url"] for d in spec.get("data", []) if "url" in d]
    return found
