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


@pytest.mark.parametrize("name", ["report.ipynb", "summary.ipynb", "explore.ipynb"])
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
            "token_type", "semantics", "gpu_cost", "gpu_kw", "meta", "model_aliases", "run_metadata"} == set(params)


@pytest.mark.slow
def test_explore_notebook_runs(tmp_path):
    import papermill as pm

    nb = pm.execute_notebook(str(ROOT / "notebooks" / "explore.ipynb"), str(tmp_path / "out.ipynb"),
                             cwd=str(ROOT), progress_bar=False)
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
