"""CI aggregate rows: flat rows written by the benchmark runner (``agg_bmk.json`` or one ``agg_*.json``).

Rows carry no date; the GitHub run id in the file's path (``run_<id>/``) orders them. The model is
``infmax_model_prefix`` where present (the runner's own key), else ``model``. Agentic rows
(``scenario_type: agentic-coding``, no ISL/OSL) are left out (see ``_rows.other_workload``).
Single-node rows give ``tp/ep/dp_attention``; multinode rows give ``prefill_*/decode_*``. Latency percentiles
(``p99_tpot``, ``p99_intvty``, ``p90_*`` on newer runners) and power (``avg_power_w``, ``joules_per_*_token``) are
read where present.
"""

from __future__ import annotations

import math

from .. import names
from ._rows import RowReader, energy, other_workload, run_id_from, skipped, tail_latencies
from .api import _not_object

NAME = "ci-aggregate"


def _is_row(obj) -> bool:
    return isinstance(obj, dict) and "tput_per_gpu" in obj and ("hw" in obj or "infmax_model_prefix" in obj)


def detect(doc, path: str) -> bool:
    if isinstance(doc, list):
        return not doc or _is_row(doc[0])  # an empty run writes []
    return _is_row(doc)


def read(doc, path: str, meta: dict, problems: list) -> list[dict]:
    rows = doc if isinstance(doc, list) else [doc]
    single_file = not isinstance(doc, list)
    run_id = run_id_from(path)
    records = []
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            problems.append(_not_object(path, index, raw))
            continue
        if kind := other_workload(raw):
            records.append(skipped(kind, None if single_file else index))
            continue
        r = RowReader(path, None if single_file else index, raw, problems)
        r.conc = raw.get("conc")
        multinode = r.flag("is_multinode") or "decode_tp" in raw
        tpot = r.number("median_tpot", required=False)
        intvty = r.number("median_intvty", required=math.isnan(tpot))
        tput = r.number("tput_per_gpu")
        if multinode:
            tp = r.number("decode_tp", required=False, integer=True)
            ep = r.number("decode_ep", required=False, integer=True)
            dpa = r.flag("decode_dp_attention")
            prefill = {
                "prefill_tp": r.number("prefill_tp", required=False, integer=True),
                "prefill_ep": r.number("prefill_ep", required=False, integer=True),
                "prefill_dp_attention": r.flag("prefill_dp_attention"),
                "prefill_num_workers": r.number("prefill_num_workers", required=False, positive=False),
                "decode_num_workers": r.number("decode_num_workers", required=False, positive=False),
                "num_prefill_gpu": r.number("num_prefill_gpu", required=False, integer=True),
                "num_decode_gpu": r.number("num_decode_gpu", required=False, integer=True),
            }
        else:
            tp = r.number("tp", required=False, integer=True)
            ep = r.number("ep", required=False, integer=True)
            dpa = r.flag("dp_attention")
            prefill = {"prefill_tp": tp, "prefill_ep": ep, "prefill_dp_attention": dpa,
                       "prefill_num_workers": 0.0, "decode_num_workers": 0.0,
                       "num_prefill_gpu": tp, "num_decode_gpu": tp}
        prefix = raw.get("infmax_model_prefix")  # the runner's own key for the model wins where present
        prefix = r.text("infmax_model_prefix") if prefix not in (None, "") else ""
        model_id = r.text("model", required=not prefix)
        records.append({
            "model": prefix or model_id, "model_id": model_id or prefix,
            "hardware": names.hardware_key(r.text("hw")),
            "framework": names.framework_key(r.text("framework")),
            "precision": names.precision_key(r.text("precision")),
            "spec_method": names.spec_key(r.text("spec_decoding", required=False)),
            "isl": r.number("isl", integer=True),
            "osl": r.number("osl", integer=True),
            "conc": r.number("conc", integer=True, required=False),
            "disagg": r.flag("disagg"),
            "is_multinode": multinode,
            "tp": tp, "ep": ep, "dp_attention": dpa,
            **prefill,
            "interactivity": intvty if not math.isnan(intvty) else 1.0 / tpot,
            "throughput_per_gpu": tput,
            "output_throughput_per_gpu": r.number("output_tput_per_gpu", required=False),
            "input_throughput_per_gpu": r.number("input_tput_per_gpu", required=False),
            "median_ttft_s": r.number("median_ttft", required=False),
            "median_e2el_s": r.number("median_e2el", required=False),
            "median_tpot_s": tpot,
            **tail_latencies(r, lambda p, m: f"{p}_{m}"),
            **energy(r, "", tput),
            "date": "",
            "run_id": run_id,
            "image": r.text("image", required=False),
            "row": index,
        })
    return records
