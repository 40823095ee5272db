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
