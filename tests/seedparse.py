"""Parse the published numbers out of an InferenceX "MTP vs Off" page capture (text form).

Used to build and to re-check ``tests/data/seed_numbers.csv``; only numbers are kept.
"""

from __future__ import annotations

import re

GPU_RE = re.compile(r"^(\w+) (FP4|FP8): MTP vs Off", re.MULTILINE)
CELL_RE = re.compile(r"MTP:\$?([\d.]+)\s*Off:\$?([\d.]+)")


def _rows(text: str) -> dict:
    """Table rows by metric name → list of (mtp, off) per target, from '|'-tables or line-per-cell layout."""
    rows: dict[str, list] = {}
    for metric in ("Throughput (tok/s/gpu)", "Cost ($/M tok)", "tok/s/MW"):
        idx = text.index(metric, text.index("Metric"))
        chunk = text[idx + len(metric): idx + len(metric) + 200]
        rows[metric] = [(float(a), float(b)) for a, b in CELL_RE.findall(chunk)[:3]]
    return rows


def parse_seed(text: str) -> list[dict]:
    gpu = GPU_RE.search(text).group(1).lower()
    rows = _rows(text)
    out = []
    for i in range(3):
        for j, arm in enumerate(("mtp", "none")):
            out.append({"gpu": gpu, "target": i, "arm": arm,
                        "throughput_per_gpu": rows["Throughput (tok/s/gpu)"][i][j],
                        "cost_per_mtok": rows["Cost ($/M tok)"][i][j],
                        "tok_s_per_mw": rows["tok/s/MW"][i][j]})
    return out
