"""Shared state (RELIABILITY.md §13, issue 14 item 7): nothing one caller, reader or report does to what specnb
handed it reaches another. ``load`` gives every caller a ``Dataset`` of its own; a ``Comparison`` cannot be edited
in place (its mappings refuse, its arrays are read-only, its frames are copies); a report notebook that vandalises
the data cannot change a report built after it in the same process."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import specnb
from specnb import build, data, table, workers

# the edits below are what pandas warns about (chained assignment, ``inplace=``): made on purpose
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.ChainedAssignmentError",
                                        "ignore::pandas.errors.Pandas4Warning")

B200, H100 = "dsr1-b200-fp4-1k1k", "dsr1-h100-fp8-1k1k"


def _vandalise_dataset(d) -> None:
    """Every in-place edit a caller might make to a loaded dataset."""
    d.points.loc[:, "throughput_per_gpu"] = 1.0
    d.points.drop(index=d.points.index[:3], inplace=True)
    d.points["vandal"] = 1
    d.history.loc[d.history.index[0], "interactivity"] = 1e9
    d.model_aliases["vandal"] = "dsr1"


def test_load_hands_each_caller_a_dataset_of_its_own():
    first = specnb.load()
    cold = (first.points.copy(deep=True), first.history.copy(deep=True))
    _vandalise_dataset(first)
    second = specnb.load()
    assert second is not first and second.points is not first.points
    pd.testing.assert_frame_equal(second.points, cold[0])
    pd.testing.assert_frame_equal(second.history, cold[1])
    assert second.model_aliases == {}
    # and the comparison computed from it is the one a fresh dataset gives
    assert specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=second).to_dict() == \
        specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=specnb.load()).to_dict()


def test_a_pinned_dataset_is_handed_out_as_copies_too():
    """Inside a build's worker, ``load`` returns the rows the build read (``data.pinned``): still one per caller."""
    rows = specnb.load()
    with data.pinned(rows, None, None):
        mine = specnb.load()
        _vandalise_dataset(mine)
        again = specnb.load()
    assert len(again.points) == len(rows.points) and "vandal" not in again.points
    assert (again.points.throughput_per_gpu == rows.points.throughput_per_gpu).all()


def _reads(c) -> tuple:
    """Everything that renders from a comparison: JSON, the tidy frame, the terminal table, the narrative."""
    return (json.dumps(c.to_dict(), sort_keys=True, default=str), c.to_frame().to_csv(), table.terminal_table(c), table.comparison_html(c),
            c.narrative(), c.priced_points.to_csv(), c.points.to_csv(), c.curves.to_csv(),
            {a: f.points.to_csv() for a, f in c.frontiers.items()})


def _first_curve(c):
    return next(mc.curve for arms in c.metric_curves.values() for mc in arms.values() if mc.curve is not None)


#: Edits a reader (a chart, a notebook cell) might make to what a comparison hands out.
EDITS = {
    "points column": lambda c: c.points.__setitem__("throughput_per_gpu", 0.0),
    "points loc": lambda c: c.points.loc.__setitem__((c.points.index[0], "interactivity"), 1e9),
    "points drop inplace": lambda c: c.points.drop(index=c.points.index[:2], inplace=True),
    "points array": lambda c: c.points["throughput_per_gpu"].to_numpy().__setitem__(0, 0.0),
    "curves column": lambda c: c.curves.__setitem__("value", 0.0) if len(c.curves.columns) else None,
    "priced points": lambda c: c.priced_points.__setitem__("cost_per_mtok", 0.0),
    "frontier points": lambda c: c.frontiers[c.arms[0]].points.__setitem__("throughput_per_gpu", 0.0),
    "frontier x": lambda c: c.frontiers[c.arms[0]].x.__setitem__(0, 0.0),
    "frontiers mapping": lambda c: c.frontiers.pop(c.arms[0]),
    "metric curves": lambda c: c.metric_curves.clear(),
    "spline knots": lambda c: _first_curve(c).x.__setitem__(0, -1.0),
    "spline slopes": lambda c: _first_curve(c).y.__iadd__(1.0),
    "target values": lambda c: c.targets[0].arms.__setitem__(c.arms[0], None),
    "target ratios": lambda c: c.targets[0].ratios.update({c.arms[0]: 100.0}),
    "cost by token type": lambda c: c.targets[0].arms[c.arms[0]].cost_per_mtok_by_type.__setitem__("total", 0.0),
    "provenance": lambda c: c.provenance.__setitem__("files", []),
    "provenance in depth": lambda c: c.provenance["files"][0].__setitem__("sha256", "0" * 64),
    "notes": lambda c: c.notes.append("vandal"),
    "field": lambda c: setattr(c, "points", pd.DataFrame()),
    "frontier field": lambda c: object.__setattr__(c.frontiers[c.arms[0]], "points", pd.DataFrame()),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
@pytest.mark.parametrize("config", [("dsr1", "b200", "fp4", "1k/1k"), ("dsr1", "gb200", "fp4", "1k/8k")],
                         ids=["b200", "one-point-arm"])
def test_comparison_is_immutable_in_depth(edit, config):
    """Each edit is either refused (an exception) or lands on a copy: every later read is unchanged."""
    c = specnb.compare(*config)
    before = _reads(c)
    try:
        EDITS[edit](c)
    except (TypeError, ValueError, AttributeError, IndexError, dataclasses.FrozenInstanceError):
        pass
    assert _reads(c) == before


def test_editing_the_input_after_compare_changes_nothing():
    """The comparison keeps its own rows: editing the dataset it was computed from does not reach it."""
    d = specnb.load()
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=d)
    before = _reads(c)
    d.points.loc[:, "throughput_per_gpu"] = 1.0
    d.history.loc[:, "throughput_per_gpu"] = 1.0
    assert _reads(c) == before


def test_readonly_arrays_are_the_curves_own():
    """A spline fitted from the caller's arrays neither writes to them nor follows later edits to them."""
    x, y = np.array([1.0, 2.0, 3.0]), np.array([9.0, 5.0, 1.0])
    curve = specnb.spline.MonotoneCurve.fit(x, y)
    x[0], y[0] = 100.0, 100.0
    assert curve.x[0] == 1.0 and curve.y[0] == 9.0
    assert x.flags.writeable and not curve.x.flags.writeable


VANDAL_CELL = """# a report notebook that edits everything it was handed
import specnb
from specnb.data import default_data_paths
# this report's rows (pinned by the build), and the bundled files named explicitly (read by this process's cache)
for d in (specnb.load(data, meta=meta, model_aliases=model_aliases), specnb.load(default_data_paths())):
    d.points.loc[:, "throughput_per_gpu"] = 1.0
    d.history.loc[:, "throughput_per_gpu"] = 1.0
    d.points.drop(index=d.points.index, inplace=True)
try:
    comparison.frontiers.clear()
except TypeError:
    pass
"""


@pytest.mark.slow
def test_a_report_that_edits_the_data_cannot_change_the_next(tmp_path, monkeypatch):
    """Two reports built in this process (the in-process engine) by a report notebook whose last cell vandalises
    the loaded data, the bundled data and the comparison: both reports equal a clean build's, byte for byte."""
    options = {"only": (B200, H100), "formats": ("json",), "progress": False}
    clean = build.run_build(build.BuildOptions(out=tmp_path / "clean", **options))
    assert not clean.failed, clean.failed
    nb = json.loads(workers.REPORT_NOTEBOOK.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "id": "vandal", "metadata": {}, "execution_count": None, "outputs": [],
                        "source": VANDAL_CELL})
    vandal = tmp_path / "vandal.ipynb"
    vandal.write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.setattr(workers, "REPORT_NOTEBOOK", vandal)  # the own notebook's in-process path, edited
    assert build.inline(build.BuildOptions(out=tmp_path, **options), 2)
    dirty = build.run_build(build.BuildOptions(out=tmp_path / "vandal", **options))
    assert not dirty.failed, dirty.failed
    for slug in (B200, H100):
        assert (tmp_path / "vandal" / slug / "comparison.json").read_bytes() == \
            (tmp_path / "clean" / slug / "comparison.json").read_bytes()
    # and this process's next load is the bundled data, untouched
    assert (specnb.load().points.throughput_per_gpu > 1.0).any()
