"""Cost and power constants per GPU (versioned tables, user files, overrides) and the costing formulas.

Formulas (SPEC §3.4), applied to an *interpolated throughput*, never splined on their own:

* cost per million tokens = ``usd_per_gpu_hour × 1e6 / (throughput × 3600)``
* tokens per dollar       = ``1e6 / cost per million tokens``
* tok/s per MW            = ``throughput × 1000 / kw_per_gpu``

A GPU with no constants has no rate: every derived value is NaN and is shown as "no rate", never 0. Every constant
lies in its ``PLAUSIBLE`` range (checked wherever a rate enters: table files, overrides, ``GpuRate``), so, with the
data's own ranges (``data.PLAUSIBLE``), every derived value is finite and non-zero.

User tables are small files: over ``MAX_FILE_BYTES`` is refused before reading; YAML is read by a safe loader
that refuses repeated keys and documents whose aliases expand past ``MAX_YAML_NODES`` nodes (a "billion laughs").
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import CostTableError, UsageError
from .fmt import fmt_limits
from .formats._rows import integer_literal
from .formats.csvfile import repeated_column

PROVIDERS = ("hyperscaler", "neocloud", "rental")
TOKEN_TYPES = ("total", "input", "output")
DEFAULT_TABLE = "2026-07"
DEFAULT_PROVIDER = "hyperscaler"
BUNDLED_FILE = Path(__file__).with_name("tables") / "costs.csv"
MAX_FILE_BYTES = 1 << 20  # a cost table is a few hundred bytes
MAX_YAML_NODES = 10_000  # nodes of a YAML cost table with every alias expanded
PLAUSIBLE = {"kw_per_gpu": (1e-3, 1e3, "kW per GPU"), **dict.fromkeys(PROVIDERS, (1e-3, 1e4, "USD per GPU-hour"))}
"""Plausible range (low, high, unit) of each constant: 1 W to 1 MW of all-in power, $0.001 to $10,000 an hour."""


def rate_problem(field_name: str, value) -> str | None:
    """What is wrong with a constant (``kw_per_gpu`` or a provider's rate), as "expected …" words; None if fine."""
    low, high, unit = PLAUSIBLE[field_name]
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0):
        return f"a positive number ({unit})"
    if not low <= value <= high:
        return f"{fmt_limits(low, high, unit)} (a plausible range)"
    return None


@dataclass(frozen=True)
class GpuRate:
    """One GPU's all-in power (kW) and hourly cost per provider (USD); None where unknown."""

    kw_per_gpu: float | None
    usd_per_gpu_hour: dict = field(default_factory=dict)

    def __post_init__(self):
        given = {"kw_per_gpu": self.kw_per_gpu, **self.usd_per_gpu_hour}
        for name, value in given.items():
            if name not in PLAUSIBLE:
                raise UsageError.unknown_choice("provider", name, PROVIDERS)
            expected = None if value is None else rate_problem(name, value)
            if expected:
                msg = f"GPU rate: {name} is {value!r}, expected {expected}"
                raise CostTableError(msg)


@dataclass(frozen=True)
class CostTable:
    """A named set of per-GPU constants."""

    name: str
    gpus: dict  # gpu key -> GpuRate
    source: str = "bundled"

    def rate(self, gpu: str, provider: str = DEFAULT_PROVIDER) -> Rate:
        if provider not in PROVIDERS:
            raise UsageError.unknown_choice("provider", provider, PROVIDERS)
        entry = self.gpus.get(gpu)
        if entry is None:
            return Rate(self.name, provider, gpu, None, None)
        return Rate(self.name, provider, gpu, entry.usd_per_gpu_hour.get(provider), entry.kw_per_gpu)

    def with_override(self, gpu: str, *, usd_per_gpu_hour: float | None = None, kw_per_gpu: float | None = None,
                      provider: str = DEFAULT_PROVIDER) -> CostTable:
        """A new table with one GPU's rate and/or power replaced (the name records the override)."""
        for option, name, value in (("--gpu-cost", provider, usd_per_gpu_hour), ("--gpu-kw", "kw_per_gpu", kw_per_gpu)):
            expected = None if value is None else rate_problem(name, value)
            if expected:
                msg = f"{option} {gpu}={value!r}: expected {expected}"
                raise CostTableError(msg)
        old = self.gpus.get(gpu, GpuRate(None, {}))
        usd = dict(old.usd_per_gpu_hour)
        if usd_per_gpu_hour is not None:
            usd[provider] = float(usd_per_gpu_hour)
        new = GpuRate(float(kw_per_gpu) if kw_per_gpu is not None else old.kw_per_gpu, usd)
        parts = [f"{gpu} ${usd_per_gpu_hour}/h"] if usd_per_gpu_hour is not None else []
        parts += [f"{gpu} {kw_per_gpu} kW"] if kw_per_gpu is not None else []
        return replace(self, name=f"{self.name} + override ({', '.join(parts)})", gpus={**self.gpus, gpu: new})


def with_overrides(table: CostTable, gpu: str, *, gpu_cost: dict | None = None, gpu_kw: dict | None = None,
                   provider: str = DEFAULT_PROVIDER) -> CostTable:
    """``table`` with the overrides that concern ``gpu`` applied (others do not change this GPU's report,
    so they are not applied: the table name then says exactly what priced it)."""
    usd = (gpu_cost or {}).get(gpu)
    kw = (gpu_kw or {}).get(gpu)
    if usd is None and kw is None:
        return table
    return table.with_override(gpu, usd_per_gpu_hour=None if usd is None else float(usd),
                               kw_per_gpu=None if kw is None else float(kw), provider=provider)


@dataclass(frozen=True)
class Rate:
    """The constants that price one configuration."""

    table: str
    provider: str
    gpu: str
    usd_per_gpu_hour: float | None
    kw_per_gpu: float | None


def cost_per_mtok(usd_per_gpu_hour: float | None, throughput):
    """USD per million tokens at ``throughput`` tok/s/GPU; NaN when there is no rate."""
    t = np.asarray(throughput, dtype=float)
    if usd_per_gpu_hour is None:
        return np.full(t.shape, np.nan) if t.shape else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        out = usd_per_gpu_hour * 1e6 / (t * 3600.0)
    return out if t.shape else float(out)


def tokens_per_dollar(usd_per_gpu_hour: float | None, throughput):
    """Tokens bought by one USD at ``throughput`` tok/s/GPU; NaN when there is no rate."""
    t = np.asarray(throughput, dtype=float)
    if usd_per_gpu_hour is None:
        return np.full(t.shape, np.nan) if t.shape else math.nan
    out = t * 3600.0 / usd_per_gpu_hour
    return out if t.shape else float(out)


def tok_s_per_mw(kw_per_gpu: float | None, throughput):
    """Tokens per second per megawatt of all-in power; NaN when the power is unknown."""
    t = np.asarray(throughput, dtype=float)
    if kw_per_gpu is None:
        return np.full(t.shape, np.nan) if t.shape else math.nan
    out = t * 1000.0 / kw_per_gpu
    return out if t.shape else float(out)


def _number(text: str, where: str, field_name: str) -> float | None:
    text = (text or "").strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    expected = rate_problem(field_name, value)
    if expected:
        msg = f"{where}: field {field_name!r} is {text[:40]!r}, expected {expected}"
        raise CostTableError(msg)
    return value


def _table_from_rows(rows: list[tuple[str, dict]], name: str, source: str) -> CostTable:
    gpus = {}
    for where, row in rows:
        gpu = str(row.get("gpu") or "").strip().lower()
        if not gpu:
            msg = f"{where}: field 'gpu' is empty, expected a GPU key such as b200"
            raise CostTableError(msg)
        if gpu in gpus:
            msg = f"{where}: GPU {gpu!r} appears twice; keep one row per GPU"
            raise CostTableError(msg)
        kw = _number(str(row.get("kw_per_gpu") or ""), where, "kw_per_gpu")
        usd = {p: v for p in PROVIDERS if (v := _number(str(row.get(p) or ""), where, p)) is not None}
        if kw is None and not usd:
            msg = f"{where}: GPU {gpu!r} has neither kw_per_gpu nor any of {', '.join(PROVIDERS)}"
            raise CostTableError(msg)
        gpus[gpu] = GpuRate(kw, usd)
    if not gpus:
        msg = f"{source}: cost table has no GPU rows; expected columns gpu,kw_per_gpu,{','.join(PROVIDERS)}"
        raise CostTableError(msg)
    return CostTable(name, gpus, source)


def _csv_rows(text: str, source: str) -> list[tuple[str, dict]]:
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines), newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        msg = f"{source}: unreadable cost CSV header ({exc})"
        raise CostTableError(msg) from None
    if not header or "gpu" not in header:
        msg = f"{source}: cost CSV needs a header with gpu,kw_per_gpu and one or more of {', '.join(PROVIDERS)}"
        raise CostTableError(msg)
    repeated = repeated_column(header)
    if repeated is not None:
        msg = f"{source} header: column {repeated!r} appears more than once; keep one"
        raise CostTableError(msg)
    try:
        return [(f"{source} row {i + 1}", row) for i, row in enumerate(reader)]
    except csv.Error as exc:
        msg = f"{source}: unreadable cost CSV ({exc})"
        raise CostTableError(msg) from None


def bundled_tables() -> dict[str, CostTable]:
    """The versioned tables shipped with specnb, by name."""
    rows = _csv_rows(BUNDLED_FILE.read_text(encoding="utf-8"), "specnb/tables/costs.csv")
    by_name: dict[str, list] = {}
    for where, row in rows:
        by_name.setdefault(row["table"], []).append((where, row))
    return {name: _table_from_rows(r, name, "bundled") for name, r in by_name.items()}


def load_cost_table(spec: str | Path | CostTable | None = None) -> CostTable:
    """A bundled table by name (``2026-07``, ``2026-04``), or a user CSV/YAML file."""
    if isinstance(spec, CostTable):
        return spec
    spec = DEFAULT_TABLE if spec is None else str(spec)
    tables = bundled_tables()
    if spec in tables:
        return tables[spec]
    path = Path(spec)
    if not path.is_file():
        raise UsageError.unknown_choice("cost table (or no such file)", spec, tables)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        msg = (f"{path}: {size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit for a cost table (one row per GPU "
               "is a few hundred bytes); is this the right file?")
        raise CostTableError(msg)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text (byte {exc.start}); expected a cost CSV or YAML file"
        raise CostTableError(msg) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_table(text, path)
    return _table_from_rows(_csv_rows(text, str(path)), path.stem, str(path))


def _yaml_table(text: str, path: Path) -> CostTable:
    doc = read_yaml(text, str(path))
    if isinstance(doc, dict) and "gpus" in doc:
        name, gpus = str(doc.get("name") or path.stem), doc["gpus"]
    else:
        name, gpus = path.stem, doc
    if not isinstance(gpus, dict):
        msg = f"{path}: expected a mapping of GPU key to {{kw_per_gpu, {', '.join(PROVIDERS)}}}"
        raise CostTableError(msg)
    rows = []
    for gpu, values in gpus.items():
        if not isinstance(values, dict):
            msg = f"{path} GPU {gpu!r}: expected a mapping with kw_per_gpu and provider rates"
            raise CostTableError(msg)
        rows.append((f"{path} GPU {gpu!r}", {"gpu": gpu, **{k: "" if v is None else str(v) for k, v in values.items()}}))
    return _table_from_rows(rows, name, str(path))


class _RepeatedKey(Exception):
    """A YAML mapping names one key twice (raised by the loader, worded by ``read_yaml``)."""


@functools.cache
def _loader():
    """PyYAML's SafeLoader (C-accelerated when available) refusing repeated mapping keys; made on first use, so
    importing specnb does not import yaml."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        def construct_mapping(self, node, deep=False):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *defaults`` may be overridden: not a repeat
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        raise _RepeatedKey(key, seen[key], key_node.start_mark.line + 1)
                except TypeError:  # an unhashable key: SafeLoader's own error says so
                    break
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node):  # past Python's digit limit: the literal, for the field check to name
            return integer_literal(str(node.value), lambda _: super(Loader, self).construct_yaml_int(node))

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    return Loader


def expanded_nodes(root, limit: int) -> int:
    """How many nodes a composed YAML document has once every alias is expanded, counted up to ``limit + 1``
    (a recursive alias, which expands forever, counts as ``limit + 1``). Aliases share their anchor's node, so
    each node is sized once."""
    size: dict = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = [n for pair in node.value for n in (pair if isinstance(pair, tuple) else (pair,))] \
            if isinstance(node.value, list) else []
        if done:
            size[id(node)] = min(limit + 1, 1 + sum(size[id(c)] for c in children))
            continue
        if id(node) in size:
            if size[id(node)] is None:  # reached again while being sized: the node contains itself
                return limit + 1
            continue
        size[id(node)] = None
        stack.append((node, True))
        stack.extend((c, False) for c in children)
    return size[id(root)]


def read_yaml(text: str, where: str):
    """A small YAML document, read safely: no custom tags, no repeated keys, at most ``MAX_YAML_NODES`` nodes with
    aliases expanded. Any failure is one ``CostTableError`` line."""
    import yaml

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_nodes(node, MAX_YAML_NODES) > MAX_YAML_NODES:
            msg = (f"{where}: YAML expands to over {MAX_YAML_NODES:,} values through its aliases (&anchor/*alias); "
                   "a cost table needs a few dozen: write the values out")
            raise CostTableError(msg)
        return loader.construct_document(node)
    except _RepeatedKey as exc:
        key, first, again = exc.args
        msg = f"{where} line {again}: key {str(key)[:40]!r} appears twice in one mapping (first on line {first}); keep one"
        raise CostTableError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        msg = (f"{where}: not valid YAML{at} ({getattr(exc, 'problem', None) or exc.__class__.__name__}); "
               "expected gpu: {kw_per_gpu: .., hyperscaler: ..}")
        raise CostTableError(msg) from None
    except RecursionError:
        msg = f"{where}: YAML nested too deeply to be a cost table"
        raise CostTableError(msg) from None
    finally:
        loader.dispose()
