"""Reading one row's fields with validation: every bad value becomes a Problem, never an exception.

Readers call these helpers for each field they need; problems are collected for the whole input
so a user sees the first of them (with a count) and nothing is loaded partially.
"""

from __future__ import annotations

import math
import re
import sys

from ..errors import Problem

_MISSING = object()
MAX_INTEGER = 2**53  # counts (isl, osl, conc, GPUs) above this cannot be held exactly as float64
MAX_RUN_ID = 2**63 - 1  # run ids are stored as int64
FIXED_SEQUENCE_TYPES = ("", "single_turn", "fixed_seq_len")
"""Benchmark types of fixed input/output-length runs (the dashboard's ``benchmark_type: single_turn``, the
runner's ``fixed-seq-len`` scenario); rows of any other type (``agentic_traces``) have no ISL/OSL."""
TAIL_PERCENTILES = ("p90", "p99")
"""Latency percentiles read besides the median (``--percentile``): the benchmark writes p99 on every row and p90
on newer ones (p99.9 too, on as few rows as p90; not offered)."""
PERCENTILES = ("median", *TAIL_PERCENTILES)
"""What ``--percentile`` accepts; the median is the canonical columns' (``interactivity``, ``median_ttft_s``)."""
ENERGY_FIELDS = ("avg_power_w", "joules_per_total_token", "joules_per_input_token", "joules_per_output_token")
"""Measured power and energy (the runner writes them on newer AMD rows): average GPU power in watts and J per token."""


class RowReader:
    """Typed access to one raw row (a dict, possibly nested) that records Problems."""

    def __init__(self, path: str, row: int | None, raw: dict, problems: list[Problem]):
        self.path, self.row, self.raw, self.problems = path, row, raw, problems
        self.conc = None

    def get(self, field: str, default=_MISSING):
        if "." not in field:  # the common case, kept fast: loading calls this ~150,000 times
            return self.raw.get(field, default)
        node = self.raw
        for part in field.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def problem(self, field: str, value: object, expected: str) -> None:
        conc = self.conc
        if conc is not None and not (isinstance(conc, (int, float, str)) and len(str(conc)) <= 20
                                     and str(conc).isprintable()):
            shown = repr(conc)  # the row's own conc, whatever it holds: keep the message one short line
            conc = shown if len(shown) <= 20 else shown[:17] + "..."
        self.problems.append(Problem(self.path, self.row, field, value, expected, conc))

    def number(self, field: str, *, required: bool = True, positive: bool = True, integer: bool = False,
               scale: float = 1.0, default: float = math.nan) -> float:
        """A finite (by default positive) number, or NaN when optional and absent."""
        value = self.get(field)
        kind_of = type(value)  # fast paths for the common cases: loading reads ~90,000 numbers
        if kind_of is float and not integer and 0.0 < value < math.inf:
            return value * scale
        if kind_of is int and 0 < value <= MAX_INTEGER:
            return float(value) * scale
        if value is _MISSING or value is None:
            if required:
                self.problem(field, "missing", "a number" if not positive else "a positive number")
            return default
        number = _as_number(value)
        kind = "a positive whole number" if integer else ("a positive number" if positive else "a number")
        if number is None:
            self.problem(field, value, kind)
            return math.nan
        if not math.isfinite(number):
            self.problem(field, value, f"a finite number ({kind[2:]})")
            return math.nan
        if positive and number <= 0:
            self.problem(field, value, kind)
            return math.nan
        if integer and (number != int(number) or abs(number) > MAX_INTEGER):
            self.problem(field, value, kind if abs(number) <= MAX_INTEGER else f"{kind} up to 2**53")
            return math.nan
        return number * scale

    def text(self, field: str, *, required: bool = True, default: str = "") -> str:
        value = self.get(field)
        if value is _MISSING or value is None:
            if required:
                self.problem(field, "missing", "a name")
            return default
        if isinstance(value, (dict, list, bool)):
            self.problem(field, value, "a name (text)")
            return default
        return str(value)

    def flag(self, field: str, default: bool = False) -> bool:
        value = self.get(field)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no", ""):
            return False
        self.problem(field, value, "true or false")
        return default


def tail_latencies(r: RowReader, field, *, scale: float = 1.0, intvty: bool = True) -> dict:
    """p90/p99 TPOT, TTFT and E2E latency (seconds) and interactivity of one row, NaN where not measured.

    ``field(percentile, metric)`` names the row's field, e.g. ``metrics.p99_tpot``; ``scale`` turns its unit into
    seconds. Interactivity is the row's ``<p>_intvty`` where it has one (``intvty``), else 1 / that percentile's
    TPOT: the same rule as the median's."""
    out = {}
    for p in TAIL_PERCENTILES:
        tpot = r.number(field(p, "tpot"), required=False, scale=scale)
        x = r.number(field(p, "intvty"), required=False) if intvty else math.nan
        out[f"{p}_tpot_s"] = tpot
        out[f"{p}_interactivity"] = x if not math.isnan(x) else 1.0 / tpot
        out[f"{p}_ttft_s"] = r.number(field(p, "ttft"), required=False, scale=scale)
        out[f"{p}_e2el_s"] = r.number(field(p, "e2el"), required=False, scale=scale)
    return out


def energy(r: RowReader, prefix: str, throughput_per_gpu: float) -> dict:
    """Measured power and J/token of one row, NaN where not measured. Where a row gives its average power but
    not its J per total token, that is derived as ``avg_power_w / throughput_per_gpu`` (W per GPU over tok/s per
    GPU), the formula the runner's own ``joules_per_total_token`` follows."""
    out = {name: r.number(prefix + name, required=False) for name in ENERGY_FIELDS}
    if math.isnan(out["joules_per_total_token"]):
        out["joules_per_total_token"] = out["avg_power_w"] / throughput_per_gpu
    return out


def other_workload(raw: dict) -> str | None:
    """The ``benchmark_type`` (or the runner's ``scenario_type``) of a row that is not a fixed-sequence run,
    e.g. ``agentic_traces``; None for fixed-sequence rows and rows that do not say."""
    for field in ("benchmark_type", "scenario_type"):
        value = raw.get(field)
        if value is not None and str(value).strip().lower().replace("-", "_") not in FIXED_SEQUENCE_TYPES:
            return str(value).strip()
    return None


def skipped(kind: str, row: int | None) -> dict:
    """The record a reader returns for a row it leaves out (see ``other_workload``); ``load`` counts them."""
    return {"skipped": kind, "row": row}


def integer_literal(digits: str, parse=int) -> int | str:
    """An integer literal of a JSON or YAML file read by ``parse``, or, past the interpreter's limit on digits
    (``sys.get_int_max_str_digits``: 4,300), the literal itself, a string: the field's check then names the file,
    row and field where ``int`` would raise."""
    limit = sys.get_int_max_str_digits()
    return parse(digits) if not limit or len(digits) <= limit else digits


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # a JSON integer with hundreds of digits
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        text = value.strip()
        # float() reads exactly the decimal literals (and nan, inf, infinity) once text is ASCII without "_"
        # (it would also take "1_000" and non-ASCII digits, which are no numbers in a benchmark file)
        if text.isascii() and "_" not in text:
            try:
                return float(text)
            except ValueError:
                return None
    return None


def run_id_from(text: object) -> int | None:
    """GitHub Actions run id from a run URL or a ``run_<id>`` path component."""
    if not text:
        return None
    match = re.search(r"/runs/([0-9]+)", str(text)) or re.search(r"(?:^|[/\\])run_([0-9]+)(?:[/\\]|$)", str(text))
    if not match or len(match.group(1)) > 19 or int(match.group(1)) > MAX_RUN_ID:
        return None
    return int(match.group(1))
