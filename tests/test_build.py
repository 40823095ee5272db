"""The report suite end to end: a real build of two configurations on the bundled data."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from specnb import build
from specnb.errors import UsageError

pytestmark = pytest.mark.slow
TWO = ("dsr1-b200-fp4-1k1k", "dsr1-mi355x-fp8-8k1k")


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", *args],
                          capture_output=True, text=True, cwd=cwd, env={**os.environ, "SPECNB_TIMINGS": "1"})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    proc = run_cli("--out", str(out), "--only", TWO[0], "--only", TWO[1])
    assert proc.returncode == 0, proc.stderr
    assert "(LocalPool)" in proc.stderr  # two reports: two worker processes
    return out, proc


def test_outputs_exist(built):
    out, proc = built
    for slug in TWO:
        for name in ("report.html", "report.pdf", "comparison.json", "comparison.csv"):
            assert (out / slug / name).stat().st_size > 0
    assert "Built 2" in proc.stdout
    index = (out / "index.html").read_text()
    for slug in TWO:
        assert f'href="{slug}/report.html"' in index and f'href="{slug}/report.pdf"' in index


def test_comparison_json_shape(built):
    out, _ = built
    for slug in TWO:
        d = json.loads((out / slug / "comparison.json").read_text())
        assert d["schema"] == "specnb.comparison/1" and d["semantics"] == "specnb"
        assert list(d)[:8] == ["schema", "config", "arms", "semantics", "cost", "band", "crossovers", "targets"]
        assert set(d["cost"]) == {"table", "provider", "token_type", "usd_per_gpu_hour", "kw_per_gpu"}
        for t in d["targets"]:
            for arm in d["arms"]:
                assert {"throughput_per_gpu", "cost_per_mtok", "tok_s_per_mw", "concurrency", "clamped",
                        "in_range"} <= set(t["arms"][arm])


def test_json_equals_in_process_comparison(built):
    """The built file holds exactly the numbers compare() gives in-process."""
    import specnb
    from specnb.report import comparison_json_text

    out, _ = built
    c = specnb.compare("dsr1", "b200", "fp4", "1k/1k")
    assert (out / TWO[0] / "comparison.json").read_text() == comparison_json_text(c)


def test_pdf_text_has_table_numbers(built):
    import pypdf

    from specnb import fmt

    out, _ = built
    d = json.loads((out / TWO[0] / "comparison.json").read_text())
    text = "".join(p.extract_text() for p in pypdf.PdfReader(out / TWO[0] / "report.pdf").pages)
    text = text.replace("\n", " ")
    assert "B200 FP4: MTP vs Off" in text
    for t in d["targets"]:
        for arm in ("mtp", "none"):
            v = t["arms"][arm]
            assert fmt.fmt_throughput(v["throughput_per_gpu"]) in text
            assert fmt.fmt_cost(v["cost_per_mtok"]) in text


def test_rerun_rebuilds_nothing(built):
    out, _ = built
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    proc = run_cli("--out", str(out), "--only", TWO[0], "--only", TWO[1])
    assert proc.returncode == 0
    assert "Nothing to rebuild: 2 report(s) up to date" in proc.stdout
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert before == after


def test_plan_marks_changed_cost_as_stale(built):
    out, _ = built
    opts = build.BuildOptions(out=out, only=TWO)
    _, jobs = build.plan(opts)
    assert not any(j.stale for j in jobs)
    _, jobs = build.plan(build.BuildOptions(out=out, only=TWO, gpu_cost={"b200": 2.0}))
    assert [j.slug for j in jobs if j.stale] == [TWO[0]]  # only the B200 report depends on B200's rate
    _, jobs = build.plan(build.BuildOptions(out=out, only=TWO, semantics="inferencex"))
    assert all(j.stale for j in jobs)


def test_unknown_only_pattern():
    with pytest.raises(UsageError, match=r"--only 'nope-\*' matches no configuration; names look like: dsr1-"):
        build.plan(build.BuildOptions(out=Path("/nonexistent"), only=("nope-*",)))


def test_inferencex_2026_04_through_build(tmp_path):
    proc = run_cli("--out", str(tmp_path), "--only", TWO[0], "--format", "json", "--semantics", "inferencex",
                   "--cost-table", "2026-04")
    assert proc.returncode == 0, proc.stderr
    d = json.loads((tmp_path / TWO[0] / "comparison.json").read_text())
    assert d["semantics"] == "inferencex" and d["cost"]["table"] == "2026-04"
    assert d["cost"]["usd_per_gpu_hour"] == 1.95
    assert not (tmp_path / TWO[0] / "report.html").exists()


FOOTER = re.compile(r'<footer class="specnb-run-metadata"[^>]*>.*?</footer>', re.S)


def pdf_text(path: Path) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def test_single_report_in_process_equals_the_pool_build(built, tmp_path):
    """One report is executed and rendered in the build process; every file equals the one built by a worker
    process, apart from the build time in the footer."""
    out, _ = built
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", "build", "--no-progress", "--out", str(tmp_path),
                           "--only", TWO[0]], capture_output=True, text=True,
                          env={**os.environ, "SPECNB_TIMINGS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "(InlinePool)" in proc.stderr and "Built 1" in proc.stdout
    a, b = tmp_path / TWO[0], out / TWO[0]
    for name in ("comparison.json", "comparison.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    html = [FOOTER.sub("", (d / "report.html").read_text()) for d in (a, b)]
    assert html[0] == html[1]
    pages = [pdf_text(d / "report.pdf") for d in (a, b)]
    assert len(pages[0]) == len(pages[1]) >= 3
    built_line = re.compile(r"^.*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*$", re.M)  # the footer's build time
    assert [built_line.sub("", t) for t in pages[0]] == [built_line.sub("", t) for t in pages[1]]
    assert json.loads((tmp_path / "suite.json").read_text())["entries"][0]["status"] == "ok"


def test_index_numbers_without_json_files(built, tmp_path):
    """An HTML-only build writes no comparison.json; its index still shows each report's mid-band ratio
    and crossovers (kept in suite.json), the same as a build with JSON."""
    from specnb import fmt

    out, _ = built
    proc = run_cli("--out", str(tmp_path), "--only", TWO[0], "--format", "html")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / TWO[0] / "comparison.json").exists()
    full = json.loads((out / TWO[0] / "comparison.json").read_text())
    mid = full["targets"][len(full["targets"]) // 2]
    (entry,) = json.loads((tmp_path / "suite.json").read_text())["entries"]
    assert entry["mid"] == {"interactivity": mid["interactivity"], "ratio": mid["ratio"],  # with its support grades
                            "ratio_range": mid["ratio_range"],  # and range (issue 10)
                            "arms": {a: {"support": {"grade": v["support"]["grade"]}} for a, v in mid["arms"].items()}}
    assert entry["crossovers"] == full["crossovers"]
    index = (tmp_path / "index.html").read_text()
    assert f"{fmt.fmt_ratio(mid['ratio'])} at {fmt.fmt_interactivity(mid['interactivity'])}" in index


def test_single_report_failure_in_process(tmp_path):
    """A cell failing in the build process is reported as in a worker: exit 1, the notebook kept, no report."""
    script = ("import sys\nimport specnb.report as r\n"
              "def boom(c):\n    raise RuntimeError('table exploded')\n"
              "r.table = boom  # the in-process notebook calls this very module\n"
              "from specnb.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.run([sys.executable, "-c", script, "build", "--no-progress", "--out", str(tmp_path),
                           "--only", TWO[0]], capture_output=True, text=True,
                          env={**os.environ, "SPECNB_TIMINGS": "1"})
    assert proc.returncode == 1, proc.stderr
    assert "(InlinePool)" in proc.stderr
    assert f"FAILED {TWO[0]}: RuntimeError: table exploded" in proc.stderr
    assert "Traceback" not in proc.stderr
    report = tmp_path / TWO[0]
    assert "table exploded" in (report / "failed.ipynb").read_text()
    assert not (report / "report.html").exists() and not (report / "report.pdf").exists()
    entry = json.loads((tmp_path / "suite.json").read_text())["entries"][0]
    assert entry["status"] == "error" and "table exploded" in entry["error"]
    assert "table exploded" in (tmp_path / "index.html").read_text()


@pytest.mark.browser
def test_report_renders_offline_in_chromium(built, chromium):
    out, _ = built
    report = chromium.inspect(out / TWO[0] / "report.html", min_views=3)
    report.assert_clean(min_views=3)
    assert report.svg_marks > 50
    index = chromium.inspect(out / "index.html", min_views=1)
    index.assert_clean(min_views=1)


def test_partial_rebuild_keeps_every_report_in_the_index(built):
    """Runs last in this module: rebuilding one report (--only, --force) must not drop the other from the index."""
    out, _ = built
    proc = run_cli("--out", str(out), "--only", TWO[0], "--format", "json", "--force")
    assert proc.returncode == 0, proc.stderr
    suite = json.loads((out / "suite.json").read_text())
    assert [e["slug"] for e in suite["entries"]] == sorted(TWO)
    index = (out / "index.html").read_text()
    assert f'href="{TWO[1]}/report.html"' in index


def test_options_take_one_path_or_name_as_python_callers_write_it(tmp_path):
    """``data="runs/"`` is one folder, not its characters (``"/x"`` made plan read every file under ``/``)."""
    from rows import api_row, write

    folder = tmp_path / "runs"
    folder.mkdir()
    write(folder / "a.json", [api_row(spec_method="mtp"), api_row(spec_method="none")])
    opts = build.BuildOptions(data=str(folder), only="*", out=str(tmp_path / "out"), formats="json,html")
    assert opts.data == (str(folder),) and opts.only == ("*",) and opts.formats == ("json", "html")
    assert opts.out == tmp_path / "out" and isinstance(opts.notebook, Path)
    dataset, jobs = build.plan(opts)
    assert len(dataset.files) == 1 and len(jobs) == 1
    with pytest.raises(UsageError, match="--format"):
        build.BuildOptions(formats="html,docx")
    with pytest.raises(UsageError, match="data=123"):
        build.BuildOptions(data=123)
