"""specnb.support: the support grade of every value and the leave-one-out ratio range.

Hand-checked vectors, the bundled cases issue 10 names, hypothesis properties over generated frontier shapes
(1, 2 or many knots, steep and flat stretches, dominated points, partial metrics, both semantics), and a
differential test of the leave-one-out against ``compare`` run on the data with the measurement removed.
"""

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rows import OPTIONAL, point, write_points
from test_comparison import arm_rows, dataset, run

import specnb
from specnb import comparison, data, support
from specnb.data import Dataset

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------- hand-checked


def promotion_case(tmp_path):
    """MTP: knots (20, 1000) and (60, 200), and (15, 500) dominated by (20, 1000); Off: four knots."""
    mtp = arm_rows("mtp", [(15, 500, 256), (20, 1000, 128), (60, 200, 4)])
    off = arm_rows("none", [(10, 2000, 256), (30, 900, 64), (50, 300, 8), (70, 100, 2)])
    return run(dataset(tmp_path, mtp + off), targets=[50])


def test_leave_one_out_by_hand(tmp_path):
    """At 50 tok/s/user MTP is 400 (the straight line 1000 → 200) and Off 300 (a knot): ratio 4/3.
    Dropped one at a time: MTP (20, 1000) → (15, 500) becomes a knot, MTP 266.67, ratio 0.889; MTP (60, 200) →
    no longer reaches 50 (skipped); Off (50, 300) → Off's spline through (10, 2000), (30, 900), (70, 100) gives
    350 at 50 (slopes −62.5, −40, −10 by hand), ratio 8/7; Off's other knots leave 300, ratio 4/3."""
    t = promotion_case(tmp_path).targets[0]
    assert t.ratio == pytest.approx(4 / 3)
    r = t.ratio_range
    assert r.low == pytest.approx((500 - 300 * 35 / 45) / 300) and r.high == pytest.approx(4 / 3)
    assert (r.refits, r.skipped) == (5, 1)
    assert r.wide  # 0.89× to 1.33×: it could go either way


def test_refit_spline_value_by_hand():
    """The Off variant without (50, 300) reads 350 at 50 (Steffen slopes worked out in the docstring above)."""
    points = comparison.pd.DataFrame({"interactivity": [10.0, 30, 50, 70],
                                      "throughput_per_gpu": [2000.0, 900, 300, 100]})
    values = support.leave_one_out(points, [50.0], "specnb", [300.0])
    assert values[:, 0].tolist() == pytest.approx([300, 300, 350, 300])


def test_support_by_hand(tmp_path):
    t = promotion_case(tmp_path).targets[0]
    mtp, off = t.support["mtp"], t.support["none"]
    assert mtp.grade == "sparse" and mtp.factor == pytest.approx(5)  # 1000 → 200 is more than 3×
    assert (mtp.left.interactivity, mtp.left.throughput_per_gpu, mtp.left.conc) == (20, 1000, 128)
    assert (mtp.right.interactivity, mtp.right.throughput_per_gpu, mtp.right.engine) == (60, 200, "sglang")
    assert off.grade == "measured" and off.left == off.right and off.left.interactivity == 50
    assert t.sparse_arms == ("mtp",)


@pytest.mark.parametrize("target, grade", [(40, "interpolated"), (50.4, "measured"), (49.6, "measured"),
                                           (50.6, "interpolated"), (35, "interpolated")])
def test_measured_within_one_percent_of_a_knot(tmp_path, target, grade):
    c = run(dataset(tmp_path, arm_rows("mtp", [(20, 1000, 64), (50, 600, 8), (80, 400, 2)])
                    + arm_rows("none", [(20, 900, 64), (50, 500, 8), (80, 300, 2)])), targets=[target])
    assert {s.grade for s in c.targets[0].support.values()} == {grade}


def test_not_measured_clamped_and_one_knot(tmp_path):
    """Outside a frontier (specnb): grade None, the knot on the one side that has one. Clamped (inferencex):
    sparse, one side empty. A one-knot frontier (inferencex): measured at its knot, sparse elsewhere."""
    rows = arm_rows("mtp", [(20, 1000, 64), (40, 800, 16), (60, 600, 4)]) + arm_rows("none", [(10, 900, 64),
                                                                                          (50, 700, 8)])
    c = run(dataset(tmp_path, rows), targets=[55])
    s = c.targets[0].support["none"]
    assert s.grade is None and s.left.interactivity == 50 and s.right is None
    assert c.targets[0].ratio is None and c.targets[0].ratio_range is None
    c = run(dataset(tmp_path, rows), targets=[55], semantics="inferencex")
    s = c.targets[0].support["none"]
    assert c.targets[0].arms["none"].clamped and s.grade == "sparse" and s.right is None
    lone = arm_rows("mtp", [(30, 500, 8)]) + arm_rows("none", [(10, 900, 64), (50, 700, 8)])
    c = run(dataset(tmp_path, lone), targets=[30, 40], semantics="inferencex")
    assert [t.support["mtp"].grade for t in c.targets] == ["measured", "sparse"]
    assert c.targets[1].support["mtp"].left.interactivity == 30 and c.targets[1].support["mtp"].right is None


# ---------------------------------------------------------------------------------------------- bundled cases


def knot(s):
    return round(s.interactivity), round(s.throughput_per_gpu)


def test_gb300_fp4_mtp_is_sparse(bundled):
    """MTP's frontier is two points, (70, 11,997) and (308, 71): every MTP value in the band is a guess."""
    c = specnb.compare("dsr1", "gb300", "fp4", "1k/1k", data=bundled)
    mid = c.targets[1]
    assert mid.interactivity == 115 and mid.ratio == pytest.approx(27.76, abs=0.01)
    s = mid.support["mtp"]
    assert s.grade == "sparse" and (knot(s.left), knot(s.right)) == ((70, 11997), (308, 71))
    assert all(t.support["mtp"].sparse for t in c.targets)
    assert c.sparse_segments["mtp"] == ((pytest.approx(70.39, abs=0.01), pytest.approx(308.17, abs=0.01)),)


def test_gb300_fp8_off_gap_is_sparse(bundled):
    """Off falls from 242 to 48 tok/s/GPU between 81 and 129 tok/s/user with nothing measured in between."""
    c = specnb.compare("dsr1", "gb300", "fp8", "1k/1k", data=bundled)
    inside = [t for t in c.targets if 81 < t.interactivity < 129]
    assert [t.interactivity for t in inside] == [91, 113]
    for t in inside:
        s = t.support["none"]
        assert s.grade == "sparse" and (knot(s.left), knot(s.right)) == ((81, 242), (129, 48))
    assert c.targets[1].ratio_range.wide  # 21×, between 3.8× and 27× if any single measurement is dropped


def test_b200_fp4_mid_band_is_not_sparse(bundled):
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    mid = c.targets[1]
    assert {a: s.grade for a, s in mid.support.items()} == {"mtp": "interpolated", "none": "interpolated"}
    assert mid.sparse_arms == ()


def test_support_changes_no_number(bundled, monkeypatch):
    """Issue 10, default options: every number of ``comparison.json`` is the one computed without support and
    ranges (only new keys), for every bundled configuration under both semantics."""
    new_target_keys = {"ratio_range", "ratio_ranges"}
    new_top_keys = {"support_rule", "sparse_segments"}
    configs = list(specnb.configurations(bundled).itertuples())
    with_support = [specnb.compare(r.model, r.hardware, r.precision, r.sequence, data=bundled, semantics=sem).to_dict()
                    for sem in ("specnb", "inferencex") for r in configs]
    monkeypatch.setattr(comparison, "_with_support", lambda results, *a: results)
    monkeypatch.setattr(comparison, "_to_dict", strip(comparison._to_dict))
    without = [specnb.compare(r.model, r.hardware, r.precision, r.sequence, data=bundled, semantics=sem).to_dict()
               for sem in ("specnb", "inferencex") for r in configs]
    for new, old in zip(with_support, without, strict=True):
        assert set(new) - set(old) == new_top_keys
        assert {k: v for k, v in new.items() if k not in new_top_keys} == {**old, "targets": [
            {**t, **{k: new_t[k] for k in new_target_keys}, "arms": {
                a: {**v, "support": new_t["arms"][a]["support"]} for a, v in t["arms"].items()}}
            for t, new_t in zip(old["targets"], new["targets"], strict=True)]}


def strip(to_dict):
    """``_to_dict`` for targets that carry no support (the comparison before issue 10)."""
    def without_support(c):
        empty = support.Support(None, None, None)
        c = comparison.replace(c, targets=tuple(comparison.replace(t, support=dict.fromkeys(t.arms, empty))
                                                for t in c.targets))
        d = to_dict(c)
        for key in ("support_rule", "sparse_segments"):
            d.pop(key)
        for t in d["targets"]:
            t.pop("ratio_range"), t.pop("ratio_ranges")
            for v in t["arms"].values():
                v.pop("support")
        return d
    return without_support


# ---------------------------------------------------------------------------------------------- properties


@st.composite
def frontier_shape(draw, spec):
    """An arm's points: a frontier of 1, 2 or many knots whose steps are flat, moderate or steep, plus points
    below it (dominated), each with some optional metrics left blank."""
    n = draw(st.sampled_from([1, 2, draw(st.integers(3, 9))]))
    x = draw(st.floats(2, 60))
    y = draw(st.floats(50, 20000))
    pts = []
    for i in range(n):
        if i:
            x += draw(st.one_of(st.floats(0.2, 3), st.floats(3, 40), st.floats(40, 300)))
            drop = draw(st.one_of(st.floats(1.001, 1.3), st.floats(1.3, 3.5), st.floats(3.5, 200)))
            y /= drop if y / drop >= 0.1 else 1.001  # stay inside data.PLAUSIBLE (0.001 tok/s/GPU and up)
        pts.append((x, y))
    for _ in range(draw(st.integers(0, 4))):  # dominated: left of and below a knot
        kx, ky = draw(st.sampled_from(pts))
        pts.append((kx * draw(st.floats(0.5, 0.999)), ky * draw(st.floats(0.3, 0.999))))
    blanks = draw(st.lists(st.sets(st.sampled_from(sorted(OPTIONAL)), max_size=3), min_size=len(pts),
                           max_size=len(pts)))
    # a concurrency per point: two rows of one line at one concurrency are a conflicting duplicate (a DataError)
    return [point(spec, px, py, 2 ** i, framework=draw(st.sampled_from(["sglang", "trt"])))
            for i, (px, py) in enumerate(pts)], blanks


def load_points(points, blanks):
    with tempfile.TemporaryDirectory() as tmp:
        path = write_points(Path(tmp), "api", points, blank=blanks)
        data._CACHE.clear()
        return specnb.load(path)


shape = st.tuples(frontier_shape("mtp"), frontier_shape("none"))


@SETTINGS
@given(shape, st.lists(st.floats(1, 2000), max_size=3), st.sampled_from(["specnb", "inferencex"]))
def test_support_brackets_the_target_with_frontier_knots(arms, extra_targets, semantics):
    (mtp, mtp_blank), (off, off_blank) = arms
    ds = load_points(mtp + off, mtp_blank + off_blank)
    probe = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=ds, semantics=semantics)
    # targets inside each frontier, at its knots, just off them, and anywhere
    xs = [x for a in probe.arms for x in probe.frontiers[a].x]
    wanted = sorted({*xs, *(x * 1.005 for x in xs), *(x * 1.02 for x in xs), *extra_targets})[:12]
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=ds, semantics=semantics, targets=wanted)
    if c.band is None:
        return
    for t in c.targets:
        for arm, s in t.support.items():
            f = c.frontiers[arm]
            knots = set(zip(f.x.tolist(), f.y.tolist(), strict=True))
            v = t.arms[arm]
            for k in (s.left, s.right):
                assert k is None or (k.interactivity, k.throughput_per_gpu) in knots  # frontier knots
            assert s.left is None or s.left.interactivity <= t.interactivity
            assert s.right is None or s.right.interactivity >= t.interactivity
            between = [x for x in f.x if (s.left is None or x > s.left.interactivity)
                       and (s.right is None or x < s.right.interactivity)]
            assert not between  # neighbours: no knot strictly between them
            if not v.measured:
                assert s.grade is None
                continue
            assert s.grade in support.GRADES
            if s.left and s.right and not v.clamped:
                lo, hi = sorted((s.left.throughput_per_gpu, s.right.throughput_per_gpu))
                assert lo * (1 - 1e-12) <= v.throughput_per_gpu <= hi * (1 + 1e-12)  # read between them
            near = min(abs(t.interactivity - x) / x for x in f.x) <= support.MEASURED_TOLERANCE
            if near:
                assert s.grade == "measured"
            elif s.left is None or s.right is None:
                assert s.grade == "sparse" and v.clamped
            else:
                assert s.sparse == (max(s.factor, 1 / s.factor) > support.SPARSE_FACTOR)
        if t.ratio is None:
            assert t.ratio_range is None
        else:
            r = t.ratio_range
            assert r.low <= t.ratio <= r.high  # the range always contains the ratio
            assert r.refits + r.skipped == sum(len(comparison.pareto_frontier(c.points[c.points.spec_method == a],
                                                                              a).points) for a in c.arms)
    segs = c.sparse_segments
    for arm in c.arms:
        f = c.frontiers[arm]
        expected = [(f.x[i], f.x[i + 1]) for i in range(f.size - 1) if f.y[i] > support.SPARSE_FACTOR * f.y[i + 1]]
        assert list(segs[arm]) == expected


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape, st.sampled_from(["specnb", "inferencex"]))
def test_ratio_range_is_what_compare_gives_without_each_measurement(arms, semantics):
    """Differential: drop each frontier knot's row from the data, run the real ``compare`` pipeline (which refits
    every variant in full), read the ratio at the same target; the smallest and largest of those (and the ratio)
    are ``ratio_range``. This also pins ``support.reach``: variants it spares from refitting change nothing."""
    (mtp, mtp_blank), (off, off_blank) = arms
    pick = lambda pts: pts[:5] + pts[-3:] if len(pts) > 8 else pts  # noqa: E731 - knots and dominated points
    ds = load_points(pick(mtp) + pick(off), pick(mtp_blank) + pick(off_blank))
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=ds, semantics=semantics)
    if not c.comparable:
        return
    for t in c.targets:
        if t.ratio is None:
            continue
        ratios, skipped = [t.ratio], 0
        for arm in c.arms:
            for source in c.frontiers[arm].points["source"]:
                kept = ds.points[ds.points.source != source]
                ds2 = Dataset(points=kept.reset_index(drop=True), history=kept.reset_index(drop=True))
                c2 = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=ds2, semantics=semantics,
                                    targets=[t.interactivity])
                vals = {a: comparison._arm_values(c2.metric_curves[a], c2.frontiers[a], t.interactivity, semantics,
                                                  c2.rate, "total").throughput_per_gpu for a in c.arms}
                r = vals["mtp"] / vals["none"]
                if math.isfinite(r):
                    ratios.append(r)
                else:
                    skipped += 1
        assert (t.ratio_range.low, t.ratio_range.high) == (pytest.approx(min(ratios), rel=1e-12),
                                                           pytest.approx(max(ratios), rel=1e-12))
        assert (t.ratio_range.refits, t.ratio_range.skipped) == (len(ratios) - 1, skipped)


def test_ratio_ranges_for_every_treatment_arm(tmp_path):
    """Three arms (treatment arms first, baseline last): every non-baseline arm gets its own range."""
    rows = (arm_rows("mtp", [(20, 1000, 64), (40, 800, 16), (60, 500, 4)])
            + arm_rows("eagle", [(20, 900, 64), (45, 700, 16), (60, 450, 4)])
            + arm_rows("none", [(10, 1500, 64), (30, 900, 16), (50, 300, 8), (70, 100, 2)]))
    c = run(dataset(tmp_path, rows), arms=("mtp", "eagle", "none"))
    for t in c.targets:
        assert set(t.ratio_ranges) == {"mtp", "eagle"} and t.ratio_range is t.ratio_ranges["mtp"]
        for arm, r in t.ratio_ranges.items():
            assert r.low <= t.ratios[arm] <= r.high
    d = c.to_dict()
    assert set(d["targets"][0]["ratio_ranges"]) == {"mtp", "eagle"}
    assert np.isfinite(d["targets"][0]["ratio_range"]["low"])


def test_csv_carries_support_and_range(bundled):
    """The CSV download (``Comparison.to_frame``) carries the same facts as comparison.json."""
    import csv
    import io

    from specnb import report

    c = specnb.compare("dsr1", "gb300", "fp4", "1k/1k", data=bundled)
    rows = list(csv.DictReader(io.StringIO(report.comparison_csv_text(c))))
    mtp = next(r for r in rows if r["arm"] == "mtp" and float(r["interactivity"]) == 115)
    off = next(r for r in rows if r["arm"] == "none" and float(r["interactivity"]) == 115)
    t = c.targets[1]
    assert mtp["support_grade"] == "sparse"
    assert float(mtp["support_left_interactivity"]) == pytest.approx(70.39, abs=0.01)
    assert float(mtp["support_right_throughput_per_gpu"]) == pytest.approx(71.5, abs=0.01)
    assert mtp["support_left_engine"] == "dynamo-trt" and mtp["support_left_date"] == "2026-02-03"
    assert mtp["support_left_conc"] == "2253"
    assert float(mtp["ratio"]) == t.ratio and float(mtp["ratio_low"]) == t.ratio_range.low
    assert off["ratio"] == off["ratio_low"] == "" and off["support_grade"] == "sparse"
    d = c.to_dict()["targets"][1]
    assert d["arms"]["mtp"]["support"]["left"] == {"interactivity": mtp and t.support["mtp"].left.interactivity,
                                                   "throughput_per_gpu": t.support["mtp"].left.throughput_per_gpu,
                                                   "conc": 2253, "engine": "dynamo-trt", "date": "2026-02-03"}
    assert d["ratio_range"] == {"low": t.ratio_range.low, "high": t.ratio_range.high, "refits": 6, "skipped": 2}
