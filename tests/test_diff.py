"""Diff: what changed between two data sets, configuration by configuration, read at the same interactivities."""

import json

import pytest
from rows import api_row, write

import specnb
from specnb import cli, comparison, diff, diffpage

XS = (20.0, 40.0, 60.0)


def sweep(spec, ys, hardware="b200", precision="fp4", date="2026-01-10", run=1, xs=XS, concs=(64, 16, 4)):
    return [api_row(spec_method=spec, hardware=hardware, precision=precision, conc=conc, date=date,
                    run_url=f"https://github.com/o/r/actions/runs/{run}/attempts/1",
                    metrics={"median_intvty": x, "tput_per_gpu": y, "output_tput_per_gpu": y / 2,
                             "input_tput_per_gpu": y / 2})
            for x, y, conc in zip(xs, ys, concs, strict=False)]


def config(hardware, precision):
    return sweep("mtp", [3000, 1000, 300], hardware, precision) + sweep("none", [1000, 500, 100], hardware, precision)


@pytest.fixture(scope="module")
def drop_files(tmp_path_factory):
    """Old: B200 FP4, H200 FP8, MI355X FP8. New: B200 as it was, H200 with a better MTP point at 50 tok/s/user
    (it knocks the 40 tok/s/user one off the frontier), MI355X gone, B300 new."""
    tmp = tmp_path_factory.mktemp("drops")
    better = sweep("mtp", [1100.0], "h200", "fp8", date="2026-02-10", run=2, xs=(50.0,), concs=(8,))
    old = config("b200", "fp4") + config("h200", "fp8") + config("mi355x", "fp8")
    new = config("b200", "fp4") + config("h200", "fp8") + better + config("b300", "fp4")
    return write(tmp / "old.json", old), write(tmp / "new.json", new)


@pytest.fixture(scope="module")
def two_drops(drop_files):
    return tuple(specnb.load(path) for path in drop_files)


@pytest.fixture(scope="module")
def result(two_drops):
    return diff.diff(*two_drops, paths={"old": ["old.json"], "new": ["new.json"]})


def by_slug(result):
    return {e.config.slug: e for e in result.entries}


def test_each_configuration_is_classified_and_changed_ones_come_first(result):
    kinds = {slug: e.change for slug, e in by_slug(result).items()}
    assert kinds == {"dsr1-h200-fp8-1k1k": "changed", "dsr1-b300-fp4-1k1k": "added",
                     "dsr1-mi355x-fp8-1k1k": "removed", "dsr1-b200-fp4-1k1k": "unchanged"}
    assert [e.change for e in result.entries] == ["changed", "added", "removed", "unchanged"]
    assert result.counts == {"changed": 1, "added": 1, "removed": 1, "unchanged": 1}


def test_changed_lists_the_new_and_dropped_frontier_points(result):
    e = by_slug(result)["dsr1-h200-fp8-1k1k"]
    assert [(p["arm"], p["interactivity"], p["throughput_per_gpu"]) for p in e.frontier_added] == \
        [("mtp", 50.0, 1100.0)]
    assert [(p["arm"], p["interactivity"], p["throughput_per_gpu"]) for p in e.frontier_dropped] == \
        [("mtp", 40.0, 1000.0)]
    assert (e.points_added, e.points_dropped) == (1, 0)  # the dominated point is still a point


def test_old_and_new_are_compare_on_each_data_set_at_the_same_interactivities(two_drops, result):
    old, new = two_drops
    e = by_slug(result)["dsr1-h200-fp8-1k1k"]
    now = comparison.compare(new, "dsr1", "h200", "fp8", "1k/1k")
    then = comparison.compare(old, "dsr1", "h200", "fp8", "1k/1k", targets=[t.interactivity for t in now.targets])
    assert e.targets == tuple(t.interactivity for t in now.targets)
    assert e.ratios("new") == [t.ratio for t in now.targets] and e.ratios("old") == [t.ratio for t in then.targets]
    assert e.ratios("old") != e.ratios("new")
    same = by_slug(result)["dsr1-b200-fp4-1k1k"]
    assert same.ratios("old") == same.ratios("new") and not same.frontier_added and not same.frontier_dropped


def test_json_shape(result):
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["schema"] == "specnb.diff/1" and doc["counts"]["changed"] == 1
    first = doc["configurations"][0]
    assert {"config", "change", "interactivity", "old", "new", "targets", "frontier", "points"} <= set(first)
    assert first["config"] == {"model": "dsr1", "hardware": "h200", "precision": "fp8", "isl": 1024, "osl": 1024}
    assert first["interactivity"] == first["targets"][1]["interactivity"]
    assert first["old"]["ratio"] == first["targets"][1]["old"]["ratio"] and first["new"]["band"]["high"] == 60.0
    added = next(c for c in doc["configurations"] if c["change"] == "added")
    assert added["old"] is None and added["new"]["ratio"] > 1 and added["ratio_change"] is None
    removed = next(c for c in doc["configurations"] if c["change"] == "removed")
    assert removed["new"] is None and removed["old"]["ratio"] > 1


def test_targets_apply_to_every_configuration(two_drops):
    r = diff.diff(*two_drops, targets="30,50")
    assert all(e.targets == (30.0, 50.0) for e in r.entries)


def test_no_band_in_the_new_data_reads_both_sides_at_the_old_targets(tmp_path):
    """The new MTP points all sit above the Off ones' interactivities: no matched band, so no new targets."""
    old = config("b200", "fp4")
    new = sweep("mtp", [300, 200, 100], xs=(70.0, 80.0, 90.0), run=2) + sweep("none", [1000, 500, 100])
    r = diff.diff(specnb.load(write(tmp_path / "old.json", old)), specnb.load(write(tmp_path / "new.json", new)))
    (e,) = r.entries
    assert e.change == "changed" and e.new.band is None
    assert e.targets == tuple(t.interactivity for t in e.old.targets) and len(e.targets) == 3
    doc = e.to_dict()
    assert doc["interactivity"] == e.targets[1] and doc["old"]["ratio"] == e.old.targets[1].ratio
    assert doc["new"]["ratio"] is None and doc["ratio_change"] is None


def test_a_tail_percentile_names_the_configurations_it_leaves_out(drop_files, two_drops, capsys):
    """The synthetic drops measure no p90: every configuration is left out, and the text and page say so."""
    r = diff.diff(*two_drops, percentile="p90")
    assert r.entries == () and r.left_out == ("dsr1-b200-fp4-1k1k", "dsr1-b300-fp4-1k1k", "dsr1-h200-fp8-1k1k",
                                              "dsr1-mi355x-fp8-1k1k")
    note = diff.left_out_note(r.to_dict())
    assert note.startswith("Left out: 4 configurations") and "p90" in note and "dsr1-h200-fp8-1k1k" in note
    assert note in str(diffpage.header(r.to_dict()))
    assert cli.main(["diff", "--old", drop_files[0], "--new", drop_files[1], "--percentile", "p90"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(note)
    assert diff.diff(*two_drops).left_out == ()  # the median: nothing left out


def test_bundled_snapshots(tmp_path, capsys):
    old, new = "data/inferencex-api/2026-05-05", "data/inferencex-api/2026-06-14"
    import specnb.resources as res

    root = res.DATA.parent
    assert cli.main(["diff", "--old", str(root / old), "--new", str(root / new), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    entries = {e["slug"]: e for e in doc["configurations"]}
    b200 = entries["dsr1-b200-fp4-1k1k"]
    assert b200["change"] == "changed" and b200["old"]["ratio"] != b200["new"]["ratio"]
    assert b200["new"]["ratio"] == comparison.compare(specnb.load(root / new), "dsr1", "b200", "fp4",
                                                      "1k/1k").targets[1].ratio
    assert entries["dsr1-mi325x-fp8-1k1k"]["change"] == "added"
    assert doc["counts"]["changed"] >= 10 and doc["counts"]["unchanged"] >= 10
    assert cli.main(["diff", "--old", str(root / old), "--new", str(root / new)]) == 0
    text = capsys.readouterr().out
    assert "changed" in text and "B200 FP4 · DeepSeek R1 · 1k/1k" in text and f"{b200['new']['ratio']:.2f}×" in text


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["diff", "--old", str(tmp_path / "missing"), "--new", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("specnb: error: ") and "missing" in err and err.count("\n") == 1


def test_page_sections_escape_data_strings(result):
    doc = result.to_dict()
    doc["configurations"][0]["title"] = "<script>alert(1)</script>"
    doc["old"]["paths"] = ["<img src=x onerror=alert(1)>"]
    markup = str(diffpage.summary_table(doc)) + str(diffpage.header(doc)) + str(diffpage.details(doc))
    assert "<script>" not in markup and "<img" not in markup and "&lt;script&gt;" in markup


@pytest.mark.slow
@pytest.mark.browser
def test_cli_out_writes_an_offline_page_that_draws(drop_files, tmp_path, chromium, capsys):
    out = tmp_path / "page"
    assert cli.main(["diff", "--old", drop_files[0], "--new", drop_files[1], "--out", str(out)]) == 0
    assert "changed" in capsys.readouterr().out  # the text table too
    html = (out / "diff.html").read_text()
    assert json.loads((out / "diff.json").read_text())["schema"] == "specnb.diff/1"
    assert 'src="http' not in html and "cdn.jsdelivr" not in html
    assert "H200 FP8 · DeepSeek R1 · 1k/1k" in html and 'id="dsr1-h200-fp8-1k1k"' in html
    chromium.inspect(out / "diff.html", min_views=1).assert_clean(min_views=1)
    mtime = (out / "diff.html").stat().st_mtime_ns
    assert cli.main(["diff", "--old", drop_files[0], "--new", drop_files[1], "--out", str(out)]) == 0
    assert (out / "diff.html").stat().st_mtime_ns == mtime  # the same diff.json: the page is not rendered again


@pytest.mark.slow
def test_build_since_writes_the_page_and_the_index_links_it(drop_files, tmp_path):
    from specnb import build

    out = tmp_path / "reports"
    opts = build.BuildOptions(data=(drop_files[1],), out=out, formats=("json",), since=(drop_files[0],),
                              only=("dsr1-h200-fp8-1k1k",), jobs=1, progress=False)
    result = build.run_build(opts)
    assert result.built == ["dsr1-h200-fp8-1k1k"] and not result.failed
    doc = json.loads((out / "diff.json").read_text())
    assert doc["counts"] == {"changed": 1, "added": 1, "removed": 1, "unchanged": 1}
    assert doc["old"]["paths"] == [drop_files[0]] and (out / "diff.html").stat().st_size > 0
    suite_doc = json.loads((out / "suite.json").read_text())
    assert suite_doc["since"]["changes"]["dsr1-h200-fp8-1k1k"]["change"] == "changed"
    assert suite_doc["entries"][0]["trend"]["points"]  # the report's history reached the index
    index = (out / "index.html").read_text()
    assert 'href="diff.html"' in index and 'href="diff.html#dsr1-h200-fp8-1k1k"' in index


def test_build_since_must_exist(tmp_path):
    from specnb import build, cli
    from specnb.errors import UsageError

    args = cli.parser().parse_args(["build", "--since", str(tmp_path / "nope")])
    with pytest.raises(UsageError, match="--since .*nope: no such file or folder"):
        build.options_from_args(args, meta={}, gpu_cost={}, gpu_kw={})


def test_build_since_with_bad_data_stops_before_any_report(tmp_path):
    from specnb import build
    from specnb.errors import SpecnbError

    bad = tmp_path / "old.csv"
    bad.write_text("model,hardware,framework,precision,spec_method,isl,osl,conc,interactivity,throughput_per_gpu\n"
                   "dsr1,b200,sglang,fp4,mtp,1024,1024,4,fast,100\n")
    out = tmp_path / "reports"
    opts = build.BuildOptions(out=out, formats=("json",), since=(str(bad),), only=("glm5-b200-*",), jobs=1,
                              progress=False)
    with pytest.raises(SpecnbError, match=r"old\.csv row \d+.*'interactivity'"):
        build.run_build(opts)
    assert not list(out.glob("*/comparison.json"))  # nothing was built first
