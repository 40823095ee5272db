"""Trends: the ratio at fixed interactivities on every day the data changed, read with the as-of rule, and equal to
``compare`` on the newest data."""

import datetime as dt
import json
import random

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rows import api_row, ci_row, write

import specnb
from specnb import cli, comparison, data, narrative, trends
from specnb.errors import DataError, UsageError

B200 = ("dsr1", "b200", "fp4", "1k/1k")
XS = (20.0, 40.0, 60.0)


def point(spec, x, y, date, conc, run=1, framework="sglang"):
    return api_row(spec_method=spec, conc=conc, date=date, framework=framework,
                   run_url=f"https://github.com/o/r/actions/runs/{run}/attempts/1",
                   metrics={"median_intvty": x, "tput_per_gpu": y, "output_tput_per_gpu": y / 2,
                            "input_tput_per_gpu": y / 2})


def sweep(spec, ys, date, run=1):
    """One arm's sweep at ``XS`` (throughput falling with interactivity), concurrencies 64, 16, 4."""
    return [point(spec, x, y, date, conc, run) for x, y, conc in zip(XS, ys, (64, 16, 4), strict=True)]


@pytest.fixture(scope="module")
def b200_trend(bundled):
    return trends.compute(bundled, *B200)


# ------------------------------------------------------------------------------------------ the as-of rule


@pytest.fixture
def three_days(tmp_path):
    """Off measured once (day 1); MTP's concurrency-16 point re-measured on days 2 and 3 (2000, then 4000)."""
    rows = sweep("none", [1000, 500, 100], "2026-01-10", run=10) + sweep("mtp", [3000, 1000, 300], "2026-01-10", 10)
    rows += [point("mtp", 40.0, 2000.0, "2026-02-10", 16, run=20), point("mtp", 40.0, 4000.0, "2026-03-10", 16, run=30)]
    return specnb.load(write(tmp_path / "d.json", rows))


def test_each_day_reads_the_newest_row_per_line_as_of_that_day(three_days):
    t = trends.compute(three_days, *B200, targets=[40])
    assert t.dates == ("2026-01-10", "2026-02-10", "2026-03-10")
    # at 40 tok/s/user both arms were measured exactly: the ratio is MTP's row of that day over Off's 500
    assert [p.ratio for p in t.points] == pytest.approx([1000 / 500, 2000 / 500, 4000 / 500], rel=1e-12)
    assert [p.grade for p in t.points] == ["measured"] * 3


def test_a_row_dated_after_the_as_of_day_never_counts(three_days):
    t = trends.compute(three_days, *B200, targets=[40], as_of="2026-03-09")
    assert t.dates == ("2026-01-10", "2026-02-10") and t.as_of == "2026-03-09"
    assert t.points[-1].ratio == pytest.approx(4.0)  # the 2026-02-10 row, not the later 4000 nor the older 1000
    c = comparison.compare(three_days, *B200, targets=[40], as_of="2026-03-09")
    assert t.points[-1].ratio == c.targets[0].ratio


def test_days_before_every_arm_has_a_row_are_left_out(tmp_path):
    rows = sweep("none", [1000, 500, 100], "2026-01-01", run=1) + sweep("none", [1100, 520, 90], "2026-01-05", run=2)
    rows += sweep("mtp", [3000, 1000, 300], "2026-01-20", run=3)
    t = trends.compute(specnb.load(write(tmp_path / "d.json", rows)), *B200)
    assert t.dates == ("2026-01-20",)
    assert narrative.trend_sentence(t).startswith("Only one date in the data (20 January 2026)")


def test_a_target_outside_an_early_band_has_no_ratio(tmp_path):
    rows = sweep("none", [1000, 500, 100], "2026-01-01", run=1) + sweep("mtp", [3000, 1000, 300], "2026-01-01", 1)
    rows += [point("mtp", 90.0, 100.0, "2026-02-01", 2, run=2), point("none", 95.0, 40.0, "2026-02-01", 1, run=2)]
    t = trends.compute(specnb.load(write(tmp_path / "d.json", rows)), *B200, targets=[80])
    first, last = t.series(80.0)
    assert first.ratio is None and first.grade is None and first.band == (20.0, 60.0)
    assert last.ratio is not None and last.grade in ("interpolated", "sparse")


def test_undated_rows_count_only_in_the_newest_point(tmp_path):
    """CI aggregate rows that nothing dates: only the newest (all-data) point, dated None, with a note."""
    rows = [ci_row(spec_decoding=spec, conc=c, median_intvty=x, tput_per_gpu=y)
            for spec, scale in (("mtp", 3), ("none", 1)) for x, y, c in ((20.0, 1000.0 * scale, 64),
                                                                          (40.0, 500.0 * scale, 16))]
    t = trends.compute(specnb.load(write(tmp_path / "agg_bmk.json", rows)), *B200)
    assert t.dates == (None,) and len(t.points) == len(t.targets)
    assert narrative.trend_sentence(t) == ("No row of this data is dated: there is no history of the MTP/Off ratio "
                                           "to show.")
    assert not t.notes  # said once, by the sentence
    assert t.points[0].ratio == pytest.approx(3.0)


def test_no_band_in_the_newest_data_gives_no_targets(tmp_path):
    rows = sweep("none", [1000, 500, 100], "2026-01-01") + [point("mtp", 90.0, 50.0, "2026-01-01", 1)]
    t = trends.compute(specnb.load(write(tmp_path / "d.json", rows)), *B200)
    assert t.targets == () and t.points == () and "give targets" in t.notes[-1]
    assert narrative.trend_sentence(t).startswith("No history")


# ------------------------------------------------------------------------------- trend and compare agree


def test_bundled_b200_has_three_or_more_dates_and_its_newest_is_compare(bundled, b200_trend):
    c = comparison.compare(bundled, *B200)
    assert len([d for d in b200_trend.dates if d]) >= 3
    assert b200_trend.targets == tuple(t.interactivity for t in c.targets)
    newest = [p for p in b200_trend.points if p.date == b200_trend.dates[-1]]
    assert [p.ratio for p in newest] == [t.ratio for t in c.targets]  # exactly: the same comparison
    assert [p.grades for p in newest] == [{a: s.grade for a, s in t.support.items()} for t in c.targets]
    assert b200_trend.dates == tuple(sorted(b200_trend.dates))


def test_every_point_is_compare_as_of_its_day(bundled, b200_trend):
    for day in b200_trend.dates[:-1]:
        c = comparison.compare(bundled, *B200, targets=list(b200_trend.targets), as_of=day)
        got = [p.ratio for p in b200_trend.points if p.date == day]
        assert got == [t.ratio for t in c.targets] if c.comparable else all(r is None for r in got)


def test_cli_trend_json_newest_equals_cli_compare(capsys):
    args = ["--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k", "--format", "json"]
    assert cli.main(["trend", *args]) == 0
    t = json.loads(capsys.readouterr().out)
    assert cli.main(["compare", *args]) == 0
    c = json.loads(capsys.readouterr().out)
    assert t["schema"] == "specnb.trend/1" and t["config"] == c["config"]
    assert [p["date"] for p in t["points"]] == sorted(p["date"] for p in t["points"])
    newest = [p for p in t["points"] if p["date"] == t["points"][-1]["date"]]
    assert [(p["interactivity"], p["ratio"]) for p in newest] == \
        [(x["interactivity"], x["ratio"]) for x in c["targets"]]
    assert all(set(p) >= {"date", "interactivity", "ratio", "grade"} for p in t["points"])


@pytest.mark.parametrize("options", [{"percentile": "p99"}, {"as_of": "2026-03-01"}, {"semantics": "inferencex"},
                                     {"targets": [50, 100]}])
def test_newest_equals_compare_with_the_same_options(bundled, options):
    t = trends.compute(bundled, *B200, **options)
    c = comparison.compare(bundled, *B200, **options)
    assert [p.ratio for p in t.points if p.date == t.dates[-1]] == [x.ratio for x in c.targets]
    if "as_of" in options:
        assert all(d <= options["as_of"] for d in t.dates)


def test_api_frame_and_public_name(bundled):
    frame = specnb.trend("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    assert isinstance(frame, pd.DataFrame)
    assert {"date", "interactivity", "ratio", "grade", "grade_mtp", "grade_none", "ratio_low", "ratio_high"} <= \
        set(frame.columns)
    assert list(frame["date"]) == sorted(frame["date"])
    assert frame["ratio"].dtype == float


def test_trend_leaves_the_dataset_untouched(bundled):
    before = (bundled.points.copy(), bundled.history.copy())
    trends.compute(bundled, *B200)
    pd.testing.assert_frame_equal(bundled.points, before[0])
    pd.testing.assert_frame_equal(bundled.history, before[1])


def test_unknown_configuration_and_bad_targets_are_one_line_errors(bundled):
    with pytest.raises(UsageError, match="unknown configuration"):
        trends.compute(bundled, "dsr1", "b200", "fp4", "2k/2k")
    with pytest.raises(UsageError, match="--targets"):
        trends.compute(bundled, *B200, targets="fast")


DAYS = ("2026-01-05", "2026-02-05", "2026-03-05", "2026-04-05", "2026-05-05")


@st.composite
def histories(draw):
    """Shapes, not only values: per arm a first sweep (2-5 points, some day) and then re-measurements and new
    points on later days, from up to three engines; a re-measured concurrency replaces the older row."""
    rows = []
    for n, spec in enumerate(("mtp", "none")):
        first = draw(st.integers(0, 2))
        size, low, high = draw(st.integers(2, 5)), draw(st.floats(10, 40)), draw(st.floats(60, 120))
        xs = [low + (high - low) * i / (size - 1) for i in range(size)]  # the arms overlap on 40-60 at least
        top = draw(st.floats(500, 5000))
        rows += [point(spec, round(x, 3), round(top / (1 + i), 3), DAYS[first], conc=2 ** (6 - i), run=10 * first + n)
                 for i, x in enumerate(xs)]
        for day, conc, x, y, engine in draw(st.lists(st.tuples(
                st.integers(first + 1, 4), st.integers(0, 6), st.floats(10, 120), st.floats(50, 6000),
                st.sampled_from(["sglang", "vllm", "trt"])), min_size=1, max_size=6)):
            rows.append(point(spec, round(x, 3), round(y, 3), DAYS[day], conc=2 ** conc, run=10 * day + n,
                              framework=engine))
    return rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=histories())
def test_any_history_agrees_with_compare_as_of_each_day(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("h") / "d.json"
    try:
        ds = specnb.load(write(path, rows))
    except specnb.SpecnbError:  # the same point drawn twice with other values: rejected at loading
        return
    c = comparison.compare(ds, *B200)
    t = trends.compute(ds, *B200)
    assert t.targets == tuple(x.interactivity for x in c.targets)
    assert [p.ratio for p in t.points if p.date == t.dates[-1]] == [x.ratio for x in c.targets] or not t.targets
    assert list(t.dates) == sorted(t.dates)
    for day in t.dates[:-1]:
        old = comparison.compare(ds, *B200, targets=list(t.targets), as_of=day)
        got = [p.ratio for p in t.points if p.date == day]
        assert got == ([x.ratio for x in old.targets] if old.comparable else [None] * len(t.targets))


# ------------------------------------------------------------------------------ the definition, read in full


def plain_trend(ds, model, hardware, precision, sequence, *, targets=None, arms=("mtp", "none"),
                semantics="specnb", percentile="median", as_of=None) -> trends.Trend:
    """The trend by its definition, read the slow way: the whole ``compare(..., as_of=day)`` on every change day, read
    at the newest comparison's targets (what ``trends.compute`` did before it computed only what a point reads)."""
    options = {"arms": arms, "semantics": semantics, "percentile": percentile}
    as_of = data.parse_as_of(as_of)
    newest = comparison.compare(ds, model, hardware, precision, sequence, targets=targets, as_of=as_of, **options)
    fixed = tuple(comparison.parse_targets(targets)) or tuple(t.interactivity for t in newest.targets)
    history = ds.history_of(*newest.config.to_dict().values())
    days = trends.change_dates(history, newest.arms, as_of, percentile)
    undated = int(((history["dated_by"] == "") & history["spec_method"].isin(newest.arms)).sum())
    notes = [f"{undated} row{'s' if undated != 1 else ''} of unknown date count only in the newest point, as in the "
             "comparison on all the data."] if undated and as_of is None and days else []
    if not fixed:
        notes.append("No matched band in the newest data, so no interactivity to follow; give targets.")
        return trends.Trend(newest.config, newest.arms, (), (), semantics, percentile, as_of, tuple(notes))
    points = []
    rows = trends.config_dataset(ds, newest.config)  # the configuration's rows: the same comparisons, sooner
    for day in days[:-1]:
        try:
            c = comparison.compare(rows, model, hardware, precision, sequence, targets=list(fixed), as_of=day, **options)
        except UsageError as exc:
            notes.append(f"{day}: {exc}")
            points += [trends.TrendPoint(day, x, None, dict.fromkeys(newest.arms), None, None) for x in fixed]
            continue
        points += trends._points_of(c, day, fixed)
    points += trends._points_of(newest, days[-1] if days else None, fixed)
    return trends.Trend(newest.config, newest.arms, fixed, tuple(points), semantics, percentile, as_of, tuple(notes))


def assert_same_trend(ds, config, **options):
    """``trends.compute`` equals the definition to the last bit: every point (date, target, ratio, grades, range,
    band), the notes and the JSON."""
    try:
        fast = trends.compute(ds, *config, **options)
    except specnb.SpecnbError as exc:  # then the definition fails alike
        with pytest.raises(type(exc)) as plain:
            plain_trend(ds, *config, **options)
        assert str(plain.value) == str(exc)
        raise
    plain = plain_trend(ds, *config, **options)
    assert fast.points == plain.points
    assert fast.notes == plain.notes
    assert json.dumps(fast.to_dict()) == json.dumps(plain.to_dict())
    return fast


def bundled_configs(ds):
    return [(r.model, r.hardware, r.precision, r.sequence) for r in ds.configurations().itertuples()]


@pytest.mark.slow  # the reference: compare as of every day of all 36 configurations
def test_every_bundled_configuration_equals_compare_as_of_each_day(bundled):
    """All 36 configurations on all their data; every other one also as of a day half-way through its history."""
    configs = bundled_configs(bundled)
    assert len(configs) >= 30
    for i, config in enumerate(configs):
        t = assert_same_trend(bundled, config)
        dated = [d for d in t.dates if d]
        if len(dated) > 2 and i % 2 == 0:
            assert_same_trend(bundled, config, as_of=dated[len(dated) // 2])


@pytest.mark.slow  # the reference: compare as of every day of all 36 configurations
@pytest.mark.parametrize("percentile", ["p90", "p99"])
def test_every_bundled_configuration_at_a_tail_percentile(bundled, percentile):
    seen = 0
    for config in bundled_configs(bundled):
        try:
            t = assert_same_trend(bundled, config, percentile=percentile)
        except UsageError as exc:  # no point of the configuration records the percentile: compare says so too
            with pytest.raises(UsageError, match=str(exc)[:30]):
                comparison.compare(bundled, *config, percentile=percentile)
            continue
        seen += len(t.dates) > 1
    assert seen >= 5  # tail percentiles have a history too


@pytest.mark.parametrize("options", [{"semantics": "inferencex"}, {"targets": [20, 50, 100, 500]},
                                     {"arms": ("none", "mtp")}])
def test_bundled_configurations_with_other_options(bundled, options):
    for config in bundled_configs(bundled)[::5]:
        assert_same_trend(bundled, config, **options)


def test_the_newest_point_is_the_comparison_passed_in(bundled):
    c = comparison.compare(bundled, *B200)
    t = trends.of_comparison(c, bundled)
    newest = [p for p in t.points if p.date == t.dates[-1]]
    assert [p.ratio for p in newest] == [x.ratio for x in c.targets]
    assert [p.ratio_range for p in newest] == [(x.ratio_range.low, x.ratio_range.high) for x in c.targets]


def points_by_day(history, days):
    return {day: history.take(pos).reset_index(drop=True) for day, pos in trends._kept_by_day(history, days).items()}


def test_one_run_of_the_latest_rule_is_points_as_of_each_day(bundled):
    for config in bundled_configs(bundled)[::3]:
        history = bundled.history_of(*comparison.resolve_config(bundled, *config).to_dict().values())
        days = sorted({d for d in history["dated_by"] if d})
        by_day = points_by_day(history, days)
        for day in days:
            pd.testing.assert_frame_equal(by_day[day], data.points_as_of(history, day))


def test_many_days_go_through_the_rule_a_few_at_a_time(bundled, monkeypatch):
    """A long history's days go through the "latest" rule a few days at a time, with the same rows."""
    history = bundled.history_of("dsr1", "b200", "fp4", 1024, 1024)
    days = sorted({d for d in history["dated_by"] if d})
    whole = points_by_day(history, days)
    monkeypatch.setattr(trends, "STACK_ROWS", 150)
    for day, rows in points_by_day(history, days).items():
        pd.testing.assert_frame_equal(rows, whole[day])
    with pytest.raises(ValueError, match="one model"):
        trends._kept_by_day(bundled.history, days)


# ------------------------------------------------------------------------ the definition, on unbundled shapes


def p90_point(spec, x, y, date, conc, run, p90=True, framework="sglang"):
    row = point(spec, x, y, date, conc, run, framework)
    if p90:
        row["metrics"] |= {"p90_intvty": x * 0.8, "p90_tpot": 1 / (x * 0.8)}
    return row


def test_one_day_only(tmp_path):
    rows = sweep("none", [1000, 500, 100], "2026-01-10", run=1) + sweep("mtp", [3000, 1000, 300], "2026-01-10", 1)
    t = assert_same_trend(specnb.load(write(tmp_path / "d.json", rows)), B200)
    assert t.dates == ("2026-01-10",)


def test_a_day_without_a_point_at_the_percentile_is_a_note(tmp_path):
    """Day 2 re-measures every point without the p90 TPOT, so as of day 2 nothing measures it (compare refuses);
    day 3 measures it again."""
    rows = [p90_point(s, x, y, "2026-01-10", c, 1) for s, k in (("mtp", 3), ("none", 1))
            for x, y, c in ((20.0, 1000.0 * k, 64), (40.0, 500.0 * k, 16))]
    rows += [p90_point(s, x, y, "2026-02-10", c, 2, p90=False) for s, k in (("mtp", 2), ("none", 1))
             for x, y, c in ((20.0, 1000.0 * k, 64), (40.0, 500.0 * k, 16))]
    rows += [p90_point(s, x, y, "2026-03-10", c, 3) for s, k in (("mtp", 4), ("none", 1))
             for x, y, c in ((22.0, 900.0 * k, 8), (44.0, 450.0 * k, 2))]
    t = assert_same_trend(specnb.load(write(tmp_path / "d.json", rows)), B200, percentile="p90")
    assert t.dates == ("2026-01-10", "2026-02-10", "2026-03-10")
    assert t.notes and t.notes[0].startswith("2026-02-10: ") and "p90" in t.notes[0]
    assert all(p.ratio is None and p.band is None for p in t.series(t.targets[0])[1:2])


def test_an_arm_appearing_later_and_another_method_in_the_data(tmp_path):
    """Off for two days before MTP's first row; EAGLE rows (not compared) on other days too."""
    rows = sweep("none", [1000, 500, 100], "2026-01-01", run=1) + sweep("none", [1100, 520, 90], "2026-01-05", 2)
    rows += sweep("eagle", [2000, 800, 200], "2026-01-03", 3) + sweep("mtp", [3000, 1000, 300], "2026-01-20", 4)
    rows += sweep("eagle", [2100, 820, 210], "2026-02-01", 5) + sweep("none", [900, 560, 80], "2026-02-15", 6)
    ds = specnb.load(write(tmp_path / "d.json", rows))
    t = assert_same_trend(ds, B200)
    assert t.dates == ("2026-01-20", "2026-02-15")
    assert_same_trend(ds, B200, arms=("mtp", "eagle", "none"))
    assert_same_trend(ds, B200, semantics="inferencex", targets=[10, 30, 70])


def test_undated_rows_dated_by_a_later_run(tmp_path):
    """CI aggregate rows carry no date: a later dated run dates them (``dated_by``), the newest stay undated."""
    (tmp_path / "run_5").mkdir()
    (tmp_path / "run_99").mkdir()
    old = [ci_row(spec_decoding=s, conc=c, median_intvty=x, tput_per_gpu=y * k)
           for s, k in (("mtp", 2.5), ("none", 1)) for x, y, c in ((25.0, 900.0, 32), (45.0, 400.0, 8))]
    write(tmp_path / "run_5" / "agg_bmk.json", old)
    write(tmp_path / "run_99" / "agg_bmk.json", [ci_row(spec_decoding="mtp", conc=4, median_intvty=70.0,
                                                        tput_per_gpu=150.0)])
    rows = sweep("none", [1000, 500, 100], "2026-01-10", run=10) + sweep("mtp", [3000, 1000, 300], "2026-02-10", 20)
    write(tmp_path / "api.json", rows)
    ds = specnb.load(str(tmp_path))
    t = assert_same_trend(ds, B200)
    assert t.notes and "unknown date" in t.notes[0]
    assert_same_trend(ds, B200, as_of="2026-01-31")


def test_rows_without_a_concurrency(tmp_path):
    """Sweeps that record no concurrency: a line keeps its newest run's rows (the other branch of the rule)."""
    rows = [point(s, x, y * k, d, None, run) for s, k in (("mtp", 3), ("none", 1))
            for d, run, shift in (("2026-01-10", 1, 0.0), ("2026-02-10", 2, 2.0), ("2026-03-10", 3, 4.0))
            for x, y in ((20.0 + shift, 1000.0), (40.0 + shift, 500.0), (60.0 + shift, 100.0))
            if not (s == "mtp" and run == 2)]
    ds = specnb.load(write(tmp_path / "d.json", rows))
    assert ds.history["conc"].isna().all()
    t = assert_same_trend(ds, B200)
    assert len(t.dates) == 3
    history = ds.history_of("dsr1", "b200", "fp4", 1024, 1024)
    for day, rows in points_by_day(history, t.dates).items():
        pd.testing.assert_frame_equal(rows, data.points_as_of(history, day))


@st.composite
def shaped_histories(draw):
    """Shapes the bundled data lacks, drawn together: one to five days; arms whose first rows come on different days;
    sometimes a third method; per day and engine a sweep of 2-5 points, some without a concurrency; the p90 TPOT on
    some rows only (so some days have no point at the p90)."""
    n_days = draw(st.integers(1, 5))
    specs = ["mtp", "none"] + (["eagle"] if draw(st.booleans()) else [])
    rows = []
    for n, spec in enumerate(specs):
        first = draw(st.integers(0, n_days - 1))
        for day in range(first, n_days):
            if day > first and not draw(st.booleans()):
                continue
            for engine in draw(st.lists(st.sampled_from(["sglang", "vllm", "trt"]), min_size=1, max_size=2,
                                        unique=True)):
                no_conc = draw(st.integers(0, 5)) == 0
                size, low, high = draw(st.integers(2, 5)), draw(st.integers(5, 40)), draw(st.integers(60, 150))
                top, p90 = draw(st.floats(500, 8000)), draw(st.sampled_from(["all", "none", "some"]))
                for i in range(size):
                    x = round(low + (high - low) * i / (size - 1) * draw(st.floats(0.9, 1.0)), 2)
                    y = round(top / (1 + i) * draw(st.floats(0.7, 1.3)), 3)
                    rows.append(p90_point(spec, x, y, DAYS[day], None if no_conc else 2 ** (7 - i), run=10 * day + n,
                                          p90=p90 == "all" or (p90 == "some" and draw(st.booleans())),
                                          framework=engine))
    options = draw(st.fixed_dictionaries({
        "percentile": st.sampled_from(["median", "p90"]), "semantics": st.sampled_from(["specnb", "inferencex"]),
        "as_of": st.none() | st.sampled_from(DAYS[:n_days])}))
    if "eagle" in specs and draw(st.booleans()):
        options["arms"] = ("mtp", "eagle", "none")
    return rows, options


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=shaped_histories())
def test_any_shape_of_history_equals_the_definition(tmp_path_factory, drawn):
    rows, options = drawn
    try:
        ds = specnb.load(write(tmp_path_factory.mktemp("s") / "d.json", rows))
    except specnb.SpecnbError:  # the same point drawn twice with other values: rejected at loading
        return
    try:
        t = assert_same_trend(ds, B200, **options)
    except specnb.SpecnbError:  # e.g. nothing measures the p90 as of the day: the definition fails alike (checked)
        event("refused alike")
        return
    event(f"{len(t.dates)} dates")
    event(f"a day's note: {any(n[:4].isdigit() for n in t.notes)}")
    event(f"rows without concurrency: {ds.history['conc'].isna().any()}")


def test_a_point_implausible_on_one_day_fails_as_compare_does(tmp_path):
    """A Dataset edited by hand: compare refuses an implausible point, and the trend through that day refuses alike."""
    rows = sweep("none", [1000, 500, 100], "2026-01-10", run=1) + sweep("mtp", [3000, 1000, 300], "2026-01-10", 1)
    rows += [point("mtp", 40.0, 2000.0, "2026-02-10", 16, run=2), point("mtp", 40.0, 4000.0, "2026-03-10", 16, run=3)]
    ds = specnb.load(write(tmp_path / "d.json", rows))
    history = ds.history.copy()
    history.loc[history["date"] == "2026-02-10", "throughput_per_gpu"] = 1e12
    edited = trends.replace(ds, history=history)
    with pytest.raises(DataError, match="throughput_per_gpu") as fast:
        trends.compute(edited, *B200, targets=[40])
    with pytest.raises(DataError) as plain:
        plain_trend(edited, *B200, targets=[40])
    assert str(fast.value) == str(plain.value)


def test_thousands_of_rows(tmp_path):
    """A long synthetic history: 40 days, 2 arms and 3 engines re-measured at up to 24 concurrencies each."""
    rng = random.Random(7)
    days = [(dt.date(2025, 6, 1) + dt.timedelta(days=5 * i)).isoformat() for i in range(40)]
    rows = []
    for i, day in enumerate(days):
        for spec, k in (("mtp", 2.0), ("none", 1.0)):
            for engine in ("sglang", "vllm", "trt"):
                for c in rng.sample(range(24), rng.randint(2, 24)) if (i + len(spec)) % 3 else []:
                    x = 10.0 + 5 * c + rng.random()
                    rows.append(point(spec, round(x, 4), round(k * 8000 / (1 + c) * rng.uniform(0.8, 1.2), 3), day,
                                      2 ** (c % 12) + c, run=100 + i, framework=engine))
    assert len(rows) > 2000
    ds = specnb.load(write(tmp_path / "d.json", rows))
    t = assert_same_trend(ds, B200)
    assert len(t.dates) > 30


# ------------------------------------------------------------------------------------------ change over a window


def series(*pairs):
    return [{"date": d, "ratio": r, "grade": "interpolated"} for d, r in pairs]


def test_window_change_compares_with_the_value_as_of_the_window_start():
    s = series(("2026-01-01", 2.0), ("2026-03-01", 2.5), ("2026-05-01", 3.0), ("2026-06-10", 3.3))
    move = trends.window_change(s, "2026-06-10")
    assert move["window_start"] == "2026-03-12" and move["from"]["date"] == "2026-03-01"  # as it stood then
    assert move["change"] == pytest.approx(3.3 / 2.5 - 1) and not move["since_start"]
    assert trends.window_change(s, "2026-05-15")["to"]["date"] == "2026-05-01"  # nothing after the end counts


def test_window_change_edges():
    assert trends.window_change([], "2026-06-10") is None
    assert trends.window_change(series(("2026-05-01", None)), None) is None
    late = trends.window_change(series(("2026-05-01", 2.0), ("2026-06-01", 2.2)), "2026-06-10")
    assert late["since_start"] and late["from"]["date"] == "2026-05-01"
    still = trends.window_change(series(("2025-01-01", 2.0), ("2025-02-01", 2.2)), "2026-06-10")
    assert still["same_point"] and still["change"] == 0


# ------------------------------------------------------------------------------------------ wording


def fake(points, targets=(50.0,)):
    pts = tuple(trends.TrendPoint(d, targets[0], r, {"mtp": g, "none": "measured"}, None, (1, 100))
                for d, r, g in points)
    return trends.Trend(comparison.Config("dsr1", "b200", "fp4", 1024, 1024), ("mtp", "none"), targets, pts)


@pytest.mark.parametrize(("points", "expected"), [
    ([("2026-02-03", 1.9, "interpolated"), ("2026-06-20", 2.8, "measured")],
     "MTP's advantage at 50 tok/s/user went from 1.9× in February to 2.8× in June 2026 (2 dates of data)."),
    ([("2025-12-03", 1.9, "interpolated"), ("2026-06-20", 2.8, "sparse")],
     "MTP's advantage at 50 tok/s/user went from 1.9× in December 2025 to 2.8× in June 2026 (2 dates of data; "
     "the value in June 2026 rests on thin data (†), an estimate)."),
    ([("2026-02-03", 2.0, "measured"), ("2026-02-20", 2.005, "measured")],
     "MTP's advantage at 50 tok/s/user held at 2.0× from 3 February to 20 February 2026 (2 dates of data)."),
    ([("2026-02-03", 0.8, "sparse"), ("2026-05-20", 1.3, "sparse")],
     "The MTP/Off throughput ratio at 50 tok/s/user went from 0.8× in February to 1.3× in May 2026 (2 dates of "
     "data; both values rest on thin data (†): estimates)."),
    ([("2026-02-03", None, None), ("2026-05-20", None, None)],
     "At 50 tok/s/user there is no MTP/Off ratio on any of the 2 dates: one arm was not measured there."),
])
def test_trend_sentence(points, expected):
    assert narrative.trend_sentence(fake(points)) == expected
