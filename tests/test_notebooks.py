"""Notebooks are generated, thin and stripped; the explore notebook runs against the bundled data."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def test_notebooks_match_generator():
    import make_notebooks

    for name in make_notebooks.NOTEBOOKS:
        assert (ROOT / "notebooks" / name).read_text() == make_notebooks.render(name), \
            f"notebooks/{name} differs from tools/make_notebooks.py; run: python tools/make_notebooks.py"


@pytest.mark.parametrize("name", ["report.ipynb", "summary.ipynb", "diff.ipynb", "explore.ipynb"])
def test_outputs_stripped_and_no_logic(name):
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            source = "".join(cell["source"])
            assert "for " not in source or name == "explore.ipynb"  # reports hold no loops


def test_report_parameters_are_parsed():
    import papermill as pm

    params = pm.inspect_notebook(str(ROOT / "notebooks" / "report.ipynb"))
    assert {"data", "model", "hardware", "precision", "sequence", "targets", "cost_table", "provider",
            "token_type", "semantics", "percentile", "as_of", "gpu_cost", "gpu_kw", "meta", "model_aliases",
            "run_metadata"} == set(params)


@pytest.mark.slow
def test_explore_notebook_runs(tmp_path):
    import papermill as pm

    from test_jupyterlab import network_references

    nb = pm.execute_notebook(str(ROOT / "notebooks" / "explore.ipynb"), str(tmp_path / "out.ipynb"),
                             cwd=str(tmp_path), progress_bar=False)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "error" or o.get("name") == "stderr" for o in outputs)
    charts = [o for o in outputs if "application/vnd.vega.v5+json" in o.get("data", {})]
    assert len(charts) == 4 and not any("text/html" in o["data"] for o in charts)  # no CDN-loading HTML
    assert not network_references(outputs)


def test_network_references_finds_what_would_be_fetched():
    import altair as alt
    from test_jupyterlab import network_references

    chart = alt.Chart(alt.Data(values=[{"a": 1}])).mark_point().encode(x="a:Q")
    with alt.renderers.enable("html"):  # Altair's default: loads Vega from a CDN
        bundle = chart._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert network_references([{"data": data}])
    remote = {"$schema": "https://vega.github.io/schema/vega/v5.json", "data": [{"name": "t", "url": "https://x/y.csv"}]}
    assert network_references([{"data": {"application/vnd.vega.v5+json": remote}}]) == ["https://x/y.csv"]
    assert not network_references([{"data": {"text/html": "<p>https://example.com is text, not a fetch</p>"}}])
