"""Tidy CSV with specnb's canonical column names (what ``specnb export`` writes).

Only the identity columns, ``interactivity`` and ``throughput_per_gpu`` are required; every other column may
be left out, and any other cell left empty (not measured). Tail latencies (``p99_interactivity``, ``p99_tpot_s``,
``p99_ttft_s``, ``p99_e2el_s``, likewise p90) and energy (``avg_power_w``, ``joules_per_total_token``, ...) are
read where present; a missing ``p99_interactivity`` is 1 / ``p99_tpot_s``. A ``benchmark_type`` column other than
``single_turn`` marks rows that are left out (see ``_rows.other_workload``)."""

from __future__ import annotations

import csv
import io

from .. import names
from ..errors import FormatError
from ._rows import (
    ENERGY_FIELDS,
    MAX_RUN_ID,
    TAIL_PERCENTILES,
    RowReader,
    energy,
    other_workload,
    skipped,
    tail_latencies,
)

NAME = "csv"

REQUIRED = ("model", "hardware", "framework", "precision", "spec_method", "isl", "osl", "interactivity",
            "throughput_per_gpu")
OPTIONAL_NUMBERS = ("output_throughput_per_gpu", "input_throughput_per_gpu", "median_ttft_s", "median_e2el_s",
                    "median_tpot_s")
TAIL_COLUMNS = {"tpot": "{p}_tpot_s", "intvty": "{p}_interactivity", "ttft": "{p}_ttft_s", "e2el": "{p}_e2el_s"}
"""The tail-latency columns (``p90_tpot_s``, ``p99_interactivity``, ...) as ``_rows.tail_latencies`` asks for them."""
TAIL_AND_ENERGY = tuple(c.format(p=p) for p in TAIL_PERCENTILES for c in TAIL_COLUMNS.values()) + ENERGY_FIELDS
OPTIONAL_INTS = ("conc", "tp", "ep", "num_prefill_gpu", "num_decode_gpu", "prefill_tp", "prefill_ep")


def parse(text: str, path: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text, newline=""))  # newline="": a lone \r ends a line, as in a file
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:  # e.g. a stray line break inside the header
        msg = f"{path} row 1: unreadable CSV header ({exc}); expected a specnb CSV"
        raise FormatError(msg) from None
    repeated = repeated_column(header)
    if repeated:
        msg = f"{path} row 1: column {repeated!r} appears more than once in the CSV header; keep one"
        raise FormatError(msg)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        msg = (f"{path}: CSV header lacks required column(s) {', '.join(missing)}; "
               f"a specnb CSV needs: {', '.join(REQUIRED)}")
        raise FormatError(msg)
    rows: list[dict] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
        msg = f"{path} row {len(rows) + 2}: unreadable CSV ({exc}); expected a specnb CSV"
        raise FormatError(msg) from None
    return rows


def repeated_column(header) -> str | None:
    """The first column name a CSV header repeats (``csv.DictReader`` would keep the last one's cells silently)."""
    seen: set = set()
    return next((c for c in header if c in seen or seen.add(c)), None)


def read(rows: list[dict], path: str, meta: dict, problems: list) -> list[dict]:
    records = []
    for index, raw in enumerate(rows):
        line = index + 2  # header is line 1; report spreadsheet line numbers
        raw = {k: None if k in TAIL_AND_ENERGY and v == "" else _unguard(v) for k, v in raw.items()}
        if kind := other_workload(raw):
            records.append(skipped(kind, line))
            continue
        r = RowReader(path, line, raw, problems)
        r.conc = raw.get("conc") or None
        record = {
            "model": r.text("model"), "model_id": raw.get("model_id") or r.text("model"),
            "hardware": names.hardware_key(r.text("hardware")),
            "framework": names.framework_key(r.text("framework")),
            "precision": names.precision_key(r.text("precision")),
            "spec_method": names.spec_key(r.text("spec_method", required=False)),
            "isl": r.number("isl", integer=True), "osl": r.number("osl", integer=True),
            "disagg": r.flag("disagg"), "is_multinode": r.flag("is_multinode"),
            "dp_attention": r.flag("dp_attention"), "prefill_dp_attention": r.flag("prefill_dp_attention"),
            "interactivity": r.number("interactivity"),
            "throughput_per_gpu": r.number("throughput_per_gpu"),
            "date": str(raw.get("date") or "")[:10],
            "run_id": _run_id(raw.get("run_id")),
            "image": raw.get("image") or "",
            "row": line,
        }
        for col in OPTIONAL_NUMBERS:
            record[col] = r.number(col, required=False) if (raw.get(col) or "") != "" else float("nan")
        for col in OPTIONAL_INTS:
            record[col] = r.number(col, required=False, integer=True) if (raw.get(col) or "") != "" else float("nan")
        record.update(tail_latencies(r, lambda p, m: TAIL_COLUMNS[m].format(p=p)))
        record.update(energy(r, "", record["throughput_per_gpu"]))
        record.setdefault("prefill_num_workers", float("nan"))
        record.setdefault("decode_num_workers", float("nan"))
        records.append(record)
    return records


def _unguard(value):
    """Undo ``csvfiles.safe_cell``: ``'=x`` (written so a spreadsheet shows text, not a formula) reads as ``=x``."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _run_id(value) -> int | None:
    text = str(value or "").strip()
    whole, dot, zeros = text.partition(".")
    if dot and zeros.strip("0") == "":  # 27229634079.0, as a spreadsheet or pandas may write a whole number
        text = whole
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_RUN_ID:
        return int(text)
    return None
