"""API rows: the public dashboard's JSON array of rows with config fields and a ``metrics`` object.

Examples: ``benchmarks.json`` and ``benchmarks-history.json`` snapshots. Latencies are seconds. Only the
identity fields, ``tput_per_gpu`` and ``median_intvty`` (or ``median_tpot``) are required; p90/p99 latencies
(``metrics.p99_tpot``, ``p99_intvty``, ``p99_ttft``, ``p99_e2el``) and measured energy (``metrics.avg_power_w``,
``joules_per_total_token``, ...) are read where present. Rows whose ``benchmark_type`` is not ``single_turn`` are
left out (see ``_rows.other_workload``).
"""

from __future__ import annotations

import math

from .. import names
from ._rows import RowReader, energy, other_workload, run_id_from, skipped, tail_latencies

NAME = "api"


def detect(doc, path: str) -> bool:
    return isinstance(doc, list) and bool(doc) and isinstance(doc[0], dict) and "metrics" in doc[0]


def read(doc, path: str, meta: dict, problems: list) -> list[dict]:
    records = []
    for index, raw in enumerate(doc):
        if not isinstance(raw, dict):
            problems.append(_not_object(path, index, raw))
            continue
        kind = other_workload(raw)
        if kind:
            records.append(skipped(kind, index))
            continue
        r = RowReader(path, index, raw, problems)
        r.conc = raw.get("conc")
        metrics = raw.get("metrics")
        if not isinstance(metrics, dict):
            r.problem("metrics", metrics if metrics is not None else "missing", "an object of measurements")
            continue
        tpot = r.number("metrics.median_tpot", required=False)
        intvty = r.number("metrics.median_intvty", required=math.isnan(tpot))
        tput = r.number("metrics.tput_per_gpu")
        records.append({
            "model": r.text("model"), "model_id": r.text("model", required=False),
            "hardware": names.hardware_key(r.text("hardware")),
            "framework": names.framework_key(r.text("framework")),
            "precision": names.precision_key(r.text("precision")),
            "spec_method": names.spec_key(r.text("spec_method", required=False)),
            "isl": r.number("isl", integer=True),
            "osl": r.number("osl", integer=True),
            "conc": r.number("conc", integer=True, required=False),
            "disagg": r.flag("disagg"),
            "is_multinode": r.flag("is_multinode"),
            "prefill_tp": r.number("prefill_tp", required=False, integer=True),
            "prefill_ep": r.number("prefill_ep", required=False, integer=True),
            "prefill_dp_attention": r.flag("prefill_dp_attention"),
            "prefill_num_workers": r.number("prefill_num_workers", required=False, positive=False),
            "tp": r.number("decode_tp", required=False, integer=True),
            "ep": r.number("decode_ep", required=False, integer=True),
            "dp_attention": r.flag("decode_dp_attention"),
            "decode_num_workers": r.number("decode_num_workers", required=False, positive=False),
            "num_prefill_gpu": r.number("num_prefill_gpu", required=False, integer=True),
            "num_decode_gpu": r.number("num_decode_gpu", required=False, integer=True),
            "interactivity": intvty if not math.isnan(intvty) else 1.0 / tpot,
            "throughput_per_gpu": tput,
            "output_throughput_per_gpu": r.number("metrics.output_tput_per_gpu", required=False),
            "input_throughput_per_gpu": r.number("metrics.input_tput_per_gpu", required=False),
            "median_ttft_s": r.number("metrics.median_ttft", required=False),
            "median_e2el_s": r.number("metrics.median_e2el", required=False),
            "median_tpot_s": tpot,
            **tail_latencies(r, lambda p, m: f"metrics.{p}_{m}"),
            **energy(r, "metrics.", tput),
            "date": _date(r),
            "run_id": run_id_from(raw.get("run_url")),
            "image": r.text("image", required=False),
            "row": index,
        })
    return records


def _date(r: RowReader) -> str:
    value = r.text("date", required=False)
    if value and not (len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit()):
        r.problem("date", value, "a date like 2026-06-11")
        return ""
    return value[:10]


def _not_object(path, index, raw):
    from ..errors import Problem
    return Problem(path, index, "(row)", raw, "a JSON object")
