"""Small, valid benchmark rows in each input format, for tests to copy and break."""

from __future__ import annotations

import copy
import json


def api_row(**over):
    row = {
        "hardware": "b200", "framework": "sglang", "model": "dsr1", "precision": "fp4", "spec_method": "mtp",
        "disagg": False, "is_multinode": False, "prefill_tp": 8, "prefill_ep": 1, "prefill_dp_attention": False,
        "prefill_num_workers": 0, "decode_tp": 8, "decode_ep": 1, "decode_dp_attention": False,
        "decode_num_workers": 0, "num_prefill_gpu": 8, "num_decode_gpu": 8, "isl": 1024, "osl": 1024, "conc": 4,
        "image": "img", "date": "2026-06-01", "run_url": "https://github.com/o/r/actions/runs/123/attempts/1",
        "workers": None,
        "metrics": {"tput_per_gpu": 100.0, "output_tput_per_gpu": 50.0, "input_tput_per_gpu": 50.0,
                    "median_intvty": 80.0, "median_tpot": 0.0125, "median_ttft": 0.2, "median_e2el": 13.0},
    }
    metrics = over.pop("metrics", {})
    row = copy.deepcopy(row)
    row.update(over)
    row["metrics"].update(metrics)
    return row


def ci_row(**over):
    row = {"hw": "b200-trt", "conc": 4, "image": "img", "model": "deepseek-ai/DeepSeek-R1-0528",
           "infmax_model_prefix": "dsr1", "framework": "trtllm", "precision": "nvfp4", "spec_decoding": "mtp",
           "disagg": False, "isl": 1024, "osl": 1024, "is_multinode": False, "tp": 8, "ep": 1,
           "dp_attention": "false", "tput_per_gpu": 100.0, "output_tput_per_gpu": 50.0, "input_tput_per_gpu": 50.0,
           "median_ttft": 0.2, "median_tpot": 0.0125, "median_intvty": 80.0, "median_e2el": 13.0}
    row.update(over)
    return row


def raw_result(**over):
    row = {"date": "20260428-105748", "backend": "openai", "model_id": "/models/DeepSeek-R1/", "num_prompts": 40,
           "max_concurrency": 4, "completed": 40, "total_input_tokens": 40960, "total_output_tokens": 40960,
           "output_throughput": 400.0, "total_token_throughput": 800.0, "median_ttft_ms": 120.0,
           "median_tpot_ms": 12.5, "median_e2el_ms": 13000.0, "median_itl_ms": 30.0}
    row.update(over)
    return row


def write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


# --- valid points in every input shape, with optional metrics dropped or blank ---------------------------------

OPTIONAL = {  # canonical column → (API ``metrics`` key or top-level field, CI aggregate key)
    "conc": ("conc", "conc"),
    "output_throughput_per_gpu": ("metrics.output_tput_per_gpu", "output_tput_per_gpu"),
    "input_throughput_per_gpu": ("metrics.input_tput_per_gpu", "input_tput_per_gpu"),
    "median_ttft_s": ("metrics.median_ttft", "median_ttft"),
    "median_e2el_s": ("metrics.median_e2el", "median_e2el"),
    "median_tpot_s": ("metrics.median_tpot", "median_tpot"),
}
SHAPES = ("api", "ci", "csv")


def point(spec, x, y, conc, **over):
    """One valid point as canonical values: every optional metric present (derived from x, y and conc)."""
    return {"model": "dsr1", "hardware": "b200", "framework": "sglang", "precision": "fp4", "spec_method": spec,
            "isl": 1024, "osl": 1024, "conc": conc, "interactivity": x, "throughput_per_gpu": y,
            "output_throughput_per_gpu": y / 2, "input_throughput_per_gpu": y / 3, "median_ttft_s": 0.01 * conc,
            "median_e2el_s": 1 + conc / 7, "median_tpot_s": 1 / x, **over}


def _set(row, dotted, value, drop):
    node, _, leaf = dotted.rpartition(".")
    target = row[node] if node else row
    if drop:
        target.pop(leaf, None)
    else:
        target[leaf] = value


def write_points(directory, shape, points, dropped=(), blank=()):
    """Write canonical ``points`` as an API JSON, a CI aggregate or a specnb CSV file and return its path.

    ``dropped``: optional columns left out of every row (JSON keys deleted, CSV column absent).
    ``blank``: per point, the optional columns whose cell is empty (JSON null, empty CSV cell)."""
    blank = list(blank) + [()] * (len(points) - len(blank))
    if shape == "csv":
        columns = ["model", "hardware", "framework", "precision", "spec_method", "isl", "osl", "interactivity",
                   "throughput_per_gpu"] + [c for c in OPTIONAL if c not in dropped]
        lines = [",".join(columns)] + [",".join("" if c in cells else str(p[c]) for c in columns)
                                       for p, cells in zip(points, blank, strict=True)]
        path = directory / "points.csv"
        path.write_text("\n".join(lines) + "\n")
        return str(path)
    rows = []
    for p, cells in zip(points, blank, strict=True):
        if shape == "api":
            row = api_row(model=p["model"], hardware=p["hardware"], framework=p["framework"],
                          precision=p["precision"], spec_method=p["spec_method"], isl=p["isl"], osl=p["osl"],
                          metrics={"median_intvty": p["interactivity"], "tput_per_gpu": p["throughput_per_gpu"]})
        else:
            row = ci_row(model=p["model"], infmax_model_prefix="", hw=p["hardware"], framework=p["framework"],
                         precision=p["precision"], spec_decoding=p["spec_method"], isl=p["isl"], osl=p["osl"],
                         median_intvty=p["interactivity"], tput_per_gpu=p["throughput_per_gpu"])
        for column, keys in OPTIONAL.items():
            key = keys[0] if shape == "api" else keys[1]
            _set(row, key, None if column in cells else p[column], drop=column in dropped)
        rows.append(row)
    path = directory / ("run_42/agg_bmk.json" if shape == "ci" else "bench.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(path, rows)
