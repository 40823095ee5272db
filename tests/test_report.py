"""specnb.report: the report sections say what the numbers rest on (issue 10)."""

import html

import specnb
from specnb import report


def test_header_card_and_methodology_on_thin_data(bundled):
    c = specnb.compare("dsr1", "gb300", "fp8", "1k/1k", data=bundled)
    head = repr(report.header(c))
    assert "Throughput per GPU 21× †" in head and "between 3.8× and 27× if any one measurement is dropped" in head
    assert "† thin data: an estimate (see Findings)" in head
    method = repr(report.methodology(c))
    assert "Within 1 % of a measured point's interactivity it is measured" in method
    assert "Off 81–129 tok/s/user (242 → 48 tok/s/GPU)" in method
    assert "MTP/Off ratio without any one measurement: 69 tok/s/user: 5.4×, between 2.4× and 6.1×" in method


def test_header_card_without_thin_data(bundled):
    c = specnb.compare("dsr1", "mi355x", "fp8", "8k/1k", data=bundled)
    head = repr(report.header(c))
    assert "†" not in head and "if any one measurement is dropped" not in head
    assert "Off 82–130 tok/s/user" in repr(report.methodology(c))  # thin, but beyond the mid-band target (80)
    glm = specnb.compare("glm5", "b200", "fp8", "8k/1k", data=bundled)
    assert "No thin stretches: every pair of neighbouring frontier points is within 3×" in repr(report.methodology(glm))


def test_history_section_chart_and_index_entry(bundled):
    from specnb import trends

    b200 = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled)
    h = trends.of_comparison(b200, bundled)
    section = html.unescape(str(report.history(h)))
    assert "MTP's advantage at 101 tok/s/user went from" in section and f"{len(h.dates)} dates" in section
    assert isinstance(report.history_chart(h), report.ChartOutput)
    summary = report.machine_output(b200, h)._repr_mimebundle_()[report.SUMMARY_MIME]
    assert summary["trend"]["interactivity"] == b200.targets[1].interactivity
    assert summary["trend"]["points"][-1]["ratio"] == b200.targets[1].ratio
    assert len(summary["trend"]["points"]) == len(h.dates)
    assert report.machine_output(b200)._repr_mimebundle_()[report.SUMMARY_MIME]["trend"] is None

    glm = specnb.compare("glm5", "mi355x", "fp8", "8k/1k", data=bundled)
    one = trends.of_comparison(glm, bundled)
    assert "Only one date in the data (20 May 2026)" in str(report.history(one))
    assert isinstance(report.history_chart(one), report.Fragment)  # no empty chart
