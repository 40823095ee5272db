"""Raw client results: one vLLM/SGLang ``benchmark_serving`` result JSON per concurrency.

Units are milliseconds and throughputs are totals for all GPUs; interactivity is 1000 / ``median_tpot_ms``
(and 1000 / ``p99_tpot_ms`` at the p99, likewise p90). The configuration comes from the
file name (``concurrency_64_req_rate_inf_gpus_16_ctx_8_gen_8.json`` or the runner's
``<model>_<isl><osl>_<prec>_<fw>_tp8-ep1-dpafalse_disagg-false_spec-mtp_conc64_<runner>.json``), the
parent folder (model) and ``meta`` given by the user (``--meta hardware=h200``); what none of them
tells is recorded as ``unknown`` rather than guessed.
"""

from __future__ import annotations

import math
import os
import re

from .. import names
from ._rows import RowReader, tail_latencies

NAME = "raw-client"

_MULTINODE = re.compile(r"concurrency_(?P<conc>\d+)_req_rate_[^_]+_gpus_(?P<gpus>\d+)_ctx_(?P<ctx>\d+)_gen_(?P<gen>\d+)")
_RUNNER = re.compile(
    r"(?:agg_)?(?P<model>[^_]+)_(?P<isl>\d+k?)(?P<osl>\d+k)_(?P<precision>[^_]+)_(?P<framework>[^_]+)"
    r"_tp(?P<tp>\d+)-ep(?P<ep>\d+)-dpa(?P<dpa>true|false)_disagg-(?P<disagg>true|false)"
    r"_spec-(?P<spec>[^_]+)_conc(?P<conc>\d+)(?:_(?P<runner>.+))?")
SNAP_LENGTHS = tuple(1024 * 2 ** k for k in range(8))


def detect(doc, path: str) -> bool:
    return isinstance(doc, dict) and ("median_tpot_ms" in doc or "total_token_throughput" in doc)


def _model_from(model_id: str) -> str:
    parts = [p for p in str(model_id).split("/") if p]
    for part in parts:
        if part.startswith("models--"):
            return part
    return parts[-1] if parts else ""


def _snap(length: float) -> float:
    if not math.isfinite(length):
        return math.nan
    for known in SNAP_LENGTHS:
        if abs(length - known) <= 0.1 * known:
            return float(known)
    return float(round(length))


def read(doc, path: str, meta: dict, problems: list) -> list[dict]:
    r = RowReader(path, None, doc, problems)
    stem = os.path.splitext(os.path.basename(path))[0]
    multi = _MULTINODE.fullmatch(stem)
    runner = _RUNNER.fullmatch(stem)
    conc = r.number("max_concurrency", integer=True, required=False)
    r.conc = None if math.isnan(conc) else int(conc)
    info = {"model": "", "hardware": "unknown", "framework": "unknown", "precision": "unknown",
            "spec_method": "unknown", "disagg": False}
    if multi:
        prefill, decode = float(multi["ctx"]), float(multi["gen"])
        info.update(disagg=True, num_prefill_gpu=prefill, num_decode_gpu=decode, tp=decode)
    elif runner:
        tp = float(runner["tp"])
        info.update(model=runner["model"], precision=runner["precision"], framework=runner["framework"],
                    spec_method=runner["spec"], tp=tp, ep=float(runner["ep"]), dp_attention=runner["dpa"] == "true",
                    num_prefill_gpu=tp, num_decode_gpu=tp, isl=names.parse_length(runner["isl"]),
                    osl=names.parse_length(runner["osl"]), hardware=names.hardware_key(runner["runner"] or "unknown"))
    info["model"] = info["model"] or _model_from(doc.get("model_id") or "") or os.path.basename(os.path.dirname(path))
    info.update({k: v for k, v in meta.items() if v not in (None, "")})
    for key in ("tp", "ep", "num_prefill_gpu", "num_decode_gpu", "isl", "osl"):
        if key in info:
            info[key] = float(info[key])
    if "num_prefill_gpu" not in info:
        if "tp" in info:
            info["num_prefill_gpu"] = info["num_decode_gpu"] = info["tp"]
        else:
            r.problem("(file name)", stem, "a name with gpus_N_ctx_P_gen_D or tpN, or --meta tp=N, to count GPUs")
            return []
    prefill, decode = info["num_prefill_gpu"], info["num_decode_gpu"]
    gpus = prefill + decode if info["disagg"] else info.get("tp", prefill)
    total = r.number("total_token_throughput")
    output = r.number("output_throughput")
    completed = r.number("completed", integer=True)
    isl = info.get("isl") or _snap(r.number("total_input_tokens") / completed)
    osl = info.get("osl") or _snap(r.number("total_output_tokens") / completed)
    tpot_ms = r.number("median_tpot_ms")
    out_gpus = decode if info["disagg"] else gpus
    in_gpus = prefill if info["disagg"] else gpus
    return [{
        "model": info["model"], "model_id": doc.get("model_id") or info["model"],
        "hardware": names.hardware_key(info["hardware"]),
        "framework": names.framework_key(info["framework"]),
        "precision": names.precision_key(info["precision"]),
        "spec_method": names.spec_key(info["spec_method"]),
        "isl": isl, "osl": osl, "conc": conc,
        "disagg": info["disagg"], "is_multinode": info["disagg"],
        "prefill_tp": info.get("tp", math.nan), "prefill_ep": info.get("ep", math.nan),
        "prefill_dp_attention": bool(info.get("dp_attention", False)),
        "prefill_num_workers": math.nan, "decode_num_workers": math.nan,
        "tp": info.get("tp", math.nan), "ep": info.get("ep", math.nan),
        "dp_attention": bool(info.get("dp_attention", False)),
        "num_prefill_gpu": prefill, "num_decode_gpu": decode,
        "interactivity": 1000.0 / tpot_ms,
        "throughput_per_gpu": total / gpus,
        "output_throughput_per_gpu": output / out_gpus,
        "input_throughput_per_gpu": (total - output) / in_gpus,
        "median_ttft_s": r.number("median_ttft_ms", required=False) / 1000.0,
        "median_e2el_s": r.number("median_e2el_ms", required=False) / 1000.0,
        "median_tpot_s": tpot_ms / 1000.0,
        **tail_latencies(r, lambda p, m: f"{p}_{m}_ms", scale=0.001, intvty=False),
        "date": _date(str(doc.get("date") or meta.get("date") or "")),
        "run_id": None,
        "image": "",
        "row": None,
    }]


def _date(text: str) -> str:
    match = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else ""
