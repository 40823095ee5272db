"""specnb.table: the comparison table in HTML and in the terminal, with thin-data marks (issue 10)."""

import html
import re

import pytest
from test_support import promotion_case

import specnb
from specnb import cli, fmt, table


@pytest.fixture(scope="module")
def gb300(bundled):
    return specnb.compare("dsr1", "gb300", "fp4", "1k/1k", data=bundled)


@pytest.fixture(scope="module")
def b200(bundled):
    return specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)


def test_terminal_marks_thin_columns_once_and_keeps_the_numbers(gb300):
    text = table.terminal_table(gb300)
    lines = text.splitlines()
    assert lines[0].split() == ["Metric", "93", "MTP†", "93", "Off", "115", "MTP†", "115", "Off†", "137", "MTP†",
                                "137", "Off†"]
    tput = next(line for line in lines if line.startswith("Throughput"))
    assert fmt.THIN_MARK not in tput  # the numbers stay as they are
    assert "9,759.9 ✓" in tput and "351.6" in tput
    support = next(line for line in lines if line.startswith(table.SUPPORT_LABEL))
    assert re.findall(r"\S+", support.removeprefix(table.SUPPORT_LABEL)) == [
        "70–308†", "at", "94", "70–308†", "94–154†", "70–308†", "94–154†"]
    assert lines[-1].startswith("† thin data: the nearest measurements on either side differ more than 3×")


def test_well_supported_table_has_no_mark_and_no_legend(b200):
    text = table.terminal_table(b200)
    assert fmt.THIN_MARK not in text
    support = next(line for line in text.splitlines() if line.startswith(table.SUPPORT_LABEL))
    assert re.findall(r"\S+", support.removeprefix(table.SUPPORT_LABEL)) == [
        "21–74", "64–76", "91–112", "76–104", "112–185", "at", "135"]
    assert "thin data" not in table.comparison_html(b200)


def test_html_marks_the_arm_header_and_the_support_row(gb300):
    page = table.comparison_html(gb300)
    heads = re.findall(r"<tr><th>MTP.*?</tr>", page)[0]
    assert heads.count('class="thin"') == 5  # MTP at 93, 115, 137; Off at 115, 137
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    support = next(r for r in rows if table.SUPPORT_LABEL in html.unescape(r))
    assert support.count('class="thin"') == 5 and "70–308" in support
    tput = next(r for r in rows if "Throughput (tok/s/GPU)" in r)
    assert 'class="thin"' not in tput
    assert "thin data: the nearest measurements on either side differ more than 3× in throughput" in page


def test_not_measured_and_clamped_support_cells(tmp_path):
    c = promotion_case(tmp_path)
    assert table.matrix(c)[-1]["cells"][0]["text"] == "20–60"  # MTP, sparse
    specnb_c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=c_data(tmp_path), targets=[65])
    cells = {cell["arm"]: cell["text"] for cell in table.matrix(specnb_c)[-1]["cells"]}
    assert cells == {"mtp": fmt.DASH, "none": "64–70"}
    clamped = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=c_data(tmp_path), targets=[65],
                             semantics="inferencex")
    cells = {cell["arm"]: cell["text"] for cell in table.matrix(clamped)[-1]["cells"]}
    assert cells["mtp"] == "60 (end)"


def c_data(tmp_path):
    from test_comparison import arm_rows, dataset

    return dataset(tmp_path, arm_rows("mtp", [(20, 1000, 64), (40, 800, 16), (60, 600, 4)])
                   + arm_rows("none", [(10, 900, 64), (64, 700, 8), (70, 650, 4)]))


def test_cli_compare_prints_marks_ranges_and_thin_data(bundled, capsys):
    assert cli.main(["compare", "--model", "dsr1", "--hardware", "gb300", "--precision", "fp8",
                     "--sequence", "1k/1k"]) == 0
    out = capsys.readouterr().out
    assert "91 MTP†" in out and "91 Off†" in out
    assert "between 3.8× and 27× if any single measurement is dropped" in out
    assert "Thin data (†): MTP was measured at 84 and 173 tok/s/user but not in between" in out
