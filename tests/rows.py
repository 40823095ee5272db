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
