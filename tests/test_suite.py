"""specnb.suite: the index page's table reads each report's numbers as they were computed."""

import json
import re

import specnb
from specnb import fmt, report, suite


def entry(c) -> dict:
    comp = json.loads(report.comparison_json_text(c))
    return {"status": "ok", "slug": c.config.slug, "config": comp["config"], "files": ["report.html"],
            "headline": "", "comparison": comp}


def test_index_row_numbers_and_no_claim_without_a_comparison(bundled):
    ok = specnb.compare("dsr1", "mi355x", "fp4", "8k/1k", data=bundled)  # three crossovers
    lone = specnb.compare("dsr1", "gb200", "fp4", "1k/8k", data=bundled)  # MTP has a single point
    assert ok.comparable and ok.crossovers and not lone.comparable
    html = str(suite.index_table(suite.Suite(None, (entry(ok), entry(lone)), {})))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    mid = ok.targets[len(ok.targets) // 2]
    assert cells[0][1] == f"{fmt.fmt_ratio(mid.ratio)} at {fmt.fmt_interactivity(mid.interactivity)}"
    assert cells[0][2] == ", ".join(f"~{x.interactivity:.0f}" for x in ok.crossovers)
    assert cells[1][1:3] == ["—", "—"]  # not "none": no crossover was looked for


def test_two_models_of_one_hardware_keep_their_own_cells(bundled):
    """DeepSeek R1 and GLM 5 both have B200 FP8 8k/1k: each keeps its own row in the heatmap and the table
    (they used to share one cell, one value drawn over the other)."""
    r1 = specnb.compare("dsr1", "b200", "fp8", "8k/1k", data=bundled)
    glm = specnb.compare("glm5", "b200", "fp8", "8k/1k", data=bundled)
    s = suite.Suite(None, (entry(r1), entry(glm)), {})
    rows = {r["row"]: r["ratio"] for r in suite.ratio_records(s)}
    assert rows == {"DeepSeek R1 · B200": r1.targets[1].ratio, "GLM 5 · B200": glm.targets[1].ratio}
    table = str(suite.ratio_table(s))
    assert "<th class=\"metric\">Model · hardware</th>" in table
    assert f"<td class='metric'>GLM 5 · B200</td><td>{fmt.fmt_ratio(glm.targets[1].ratio)}</td>" in table
    spec = suite.chart_heatmap(s).to_dict(validate=True)
    assert spec["layer"][0]["encoding"]["y"]["field"] == "row" and spec["height"] == 2 * 28
    single = suite.Suite(None, (entry(r1),), {})
    assert [r["row"] for r in suite.ratio_records(single)] == ["B200"]
    assert "<th class=\"metric\">Hardware</th>" in str(suite.ratio_table(single))
