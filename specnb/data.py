"""Loading benchmark files into one tidy table, and the "latest run per line" rule.

``load`` reads files and folders in any supported format (see ``specnb.formats``), validates every
row (collecting all problems, loading nothing if there is one), and returns a ``Dataset``:

* ``points``  — the latest row per line and concurrency (what reports use);
* ``history`` — every distinct row read (for history views and provenance);
* ``files``   — what was read, in which format, with a content hash.

Canonical columns (units in the names): see ``CANONICAL_COLUMNS``; tail latencies and measured energy, where the
data has them, in ``OPTIONAL_MEASURES``. A *line* is (model, hardware, framework, precision, spec_method,
topology, isl, osl); "latest" keeps, per line and ``conc``, the newest row by ``date`` then ``run_id``. CI
aggregate rows have no date: they take the date of an API row from the same GitHub run when one was loaded, and
otherwise sort as oldest.

Which rows a comparison uses is decided here, by two pure functions every command shares:
``points_as_of`` (rows dated on or before a day, then "latest") and ``at_percentile`` (the rows that measure a
latency percentile, with interactivity read at it). ``load`` itself is neither dated nor percentile-bound.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import formats, names, resources
from .errors import DataError, FormatError, Problem, UsageError
from .fmt import fmt_limits
from .formats._rows import ENERGY_FIELDS, PERCENTILES, TAIL_PERCENTILES, integer_literal
from .frozen import own_copy

CANONICAL_COLUMNS = (
    "model", "hardware", "framework", "precision", "spec_method", "isl", "osl", "conc", "disagg",
    "tp", "ep", "dp_attention", "num_prefill_gpu", "num_decode_gpu",
    "interactivity", "throughput_per_gpu", "output_throughput_per_gpu", "input_throughput_per_gpu",
    "median_ttft_s", "median_e2el_s", "median_tpot_s", "date", "run_id", "source",
)
TAIL_MEASURES = tuple(f"{p}_{m}" for p in TAIL_PERCENTILES for m in ("interactivity", "tpot_s", "ttft_s", "e2el_s"))
"""Per tail percentile: interactivity (1 / that percentile's TPOT), TPOT, TTFT and E2E latency in seconds."""
OPTIONAL_MEASURES = TAIL_MEASURES + ENERGY_FIELDS
"""Measured where the data has them, NaN elsewhere: tail latencies, average GPU power (W) and J per token."""
EXTRA_COLUMNS = OPTIONAL_MEASURES + ("model_id", "topology", "is_multinode", "prefill_tp", "prefill_ep",
                                     "prefill_dp_attention", "prefill_num_workers", "decode_num_workers", "image",
                                     "format")
LINE_KEY = ("model", "hardware", "framework", "precision", "spec_method", "topology", "isl", "osl")
CONFIG_KEY = ("model", "hardware", "precision", "isl", "osl")
MEASURES = ("interactivity", "throughput_per_gpu", "output_throughput_per_gpu", "input_throughput_per_gpu",
            "median_ttft_s", "median_e2el_s", "median_tpot_s")
REQUIRED_MEASURES = ("interactivity", "throughput_per_gpu")
"""What every point has; any other measure (and ``conc``) may be missing (NaN / NA): "not measured"."""
INT_COLUMNS = ("isl", "osl")
PLAUSIBLE = {
    **dict.fromkeys(("interactivity", "p90_interactivity", "p99_interactivity"), (1e-3, 1e6, "tok/s/user")),
    **dict.fromkeys(("throughput_per_gpu", "output_throughput_per_gpu", "input_throughput_per_gpu"),
                    (1e-3, 1e8, "tok/s/GPU")),
    **dict.fromkeys(("median_tpot_s", "p90_tpot_s", "p99_tpot_s"), (1e-6, 1e3, "s")),
    **dict.fromkeys(("median_ttft_s", "median_e2el_s", "p90_ttft_s", "p90_e2el_s", "p99_ttft_s", "p99_e2el_s"),
                    (1e-6, 1e6, "s")),
    "avg_power_w": (1e-3, 1e6, "W"),
    **dict.fromkeys(("joules_per_total_token", "joules_per_input_token", "joules_per_output_token"),
                    (1e-12, 1e9, "J")),
}
"""Plausible range (low, high, unit) of each measure, in canonical units. Wide enough for any real benchmark, narrow
enough that everything derived from a point (cost, tokens per $, tok/s per MW with the cost table's ranges in
``costs.PLAUSIBLE``, throughput ratios, spline slopes, crossovers) is finite and non-zero in float64. A value
outside is a ``DataError`` naming the file, row and field (see ``implausible``)."""

BUNDLED_DATA = resources.DATA
DEFAULT_MAX_FILE_MB = 100.0
META_KEYS = ("model", "hardware", "framework", "precision", "spec_method", "isl", "osl", "tp", "ep",
             "num_prefill_gpu", "num_decode_gpu", "date")
META_NUMBERS = ("isl", "osl", "tp", "ep", "num_prefill_gpu", "num_decode_gpu")


@dataclass(frozen=True)
class SourceFile:
    """One file that was read: its display path, detected format, row count and sha256."""

    path: str
    format: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Dataset:
    """Validated benchmark points: ``points`` (latest per line and concurrency) and ``history`` (all)."""

    points: pd.DataFrame
    history: pd.DataFrame
    files: tuple[SourceFile, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())  # what loading left out and why (e.g. agentic rows)
    model_aliases: dict = field(default_factory=dict)  # the user's, as ``names.clean_model_aliases`` gives them

    def model_key(self, name: str) -> str:
        """A model name as this dataset's keys spell it (a key it has, else the bundled table and its aliases)."""
        key = str(name).strip().lower()
        return key if (self.points.model == key).any() else names.model_key(name, self.model_aliases)

    def usable_points(self, *, as_of=None, percentile: str = "median") -> pd.DataFrame:
        """The points a comparison reads: the latest as of ``as_of`` (default: all rows), of those the ones that
        measure ``percentile`` (see ``points_as_of`` and ``at_percentile``)."""
        return at_percentile(self.points if as_of is None else points_as_of(self.history, as_of), percentile)

    def configurations(self, *, all_configs: bool = False, arms=("mtp", "none"), as_of=None,
                       percentile: str = "median") -> pd.DataFrame:
        """One row per configuration with the point count of every arm; comparable ones only by default.

        With ``as_of`` or a tail ``percentile``, the counts are of the points a comparison would use."""
        return configurations(self.usable_points(as_of=as_of, percentile=percentile), all_configs=all_configs,
                              arms=arms)

    def history_of(self, model: str, hardware: str, precision: str, isl: int, osl: int) -> pd.DataFrame:
        """Every row read of one configuration (all dates and runs), with its ``dated_by`` day."""
        history = self.history if "dated_by" in self.history else self.history.assign(dated_by=dated_by(self.history))
        return _of_config(history, model, hardware, precision, isl, osl)

    def select(self, model: str, hardware: str, precision: str, isl: int, osl: int, *, as_of=None) -> pd.DataFrame:
        """One configuration's points: the latest row per line and concurrency (as of ``as_of`` when given)."""
        if as_of is None:
            return _of_config(self.points, model, hardware, precision, isl, osl)
        return points_as_of(self.history_of(model, hardware, precision, isl, osl), as_of)


def _of_config(frame: pd.DataFrame, model: str, hardware: str, precision: str, isl: int, osl: int) -> pd.DataFrame:
    mask = (frame.model == model) & (frame.hardware == hardware) & (frame.precision == precision) & \
        (frame.isl == isl) & (frame.osl == osl)
    return frame.loc[mask].reset_index(drop=True)


def default_data_paths() -> list[Path]:
    """The bundled ``data/`` folder, or ``$SPECNB_DATA`` when set."""
    env = os.environ.get("SPECNB_DATA")
    root = Path(env) if env else BUNDLED_DATA
    if not root.exists():
        msg = f"bundled data folder {root} not found; pass --data PATH (or set SPECNB_DATA)"
        raise UsageError(msg)
    return [root]


def display_path(path: Path) -> str:
    """A stable, short name for a file: relative to the bundled data's parent or to the cwd. Always text (what
    JSON and HTML can hold): bytes of the name that are not UTF-8 read as U+FFFD, whatever the locale."""
    resolved = path.resolve()
    shown = resolved.as_posix()
    for base in (BUNDLED_DATA.parent, Path.cwd()):
        try:
            shown = resolved.relative_to(base).as_posix()
            break
        except ValueError:
            continue
    return os.fsencode(shown).decode("utf-8", "replace")


def built_by_specnb(path: Path, root: Path) -> bool:
    """Whether ``path`` (under the folder ``root``) is ``specnb build``'s output: any file of a report folder
    (it holds ``.build.json``) or a suite's ``suite.json``. ``--data .`` never reads back the reports built into
    ``.`` or ``./reports``."""
    if any((root / d / ".build.json").is_file() for d in path.relative_to(root).parents):
        return True
    return path.name == "suite.json" and b'"schema": "specnb.suite/' in path.read_bytes()


def expand_paths(paths) -> list[Path]:
    """Files as given, plus every ``*.json``/``*.csv`` under given folders, in sorted order, but for
    hidden ones and those ``specnb build`` wrote."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".json", ".csv")
                           and not any(part.startswith(".") for part in p.relative_to(path).parts)
                           and not built_by_specnb(p, path))
            if not found:
                msg = f"{path}: folder holds no benchmark files (*.json, *.csv)"
                raise FormatError(msg)
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            msg = f"{path}: no such file or folder"
            raise FormatError(msg)
    return files


def _max_bytes() -> float:
    try:
        return float(os.environ.get("SPECNB_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)) * 1024 * 1024
    except ValueError:
        return DEFAULT_MAX_FILE_MB * 1024 * 1024


def read_file(path: Path, meta: dict, problems: list[Problem]) -> tuple[list[dict], SourceFile]:
    """Read one file in whichever format it is in; bad rows become Problems, bad files FormatErrors."""
    shown = display_path(path)
    size = path.stat().st_size
    if size == 0:
        msg = f"{shown}: file is empty; expected benchmark JSON or CSV"
        raise FormatError(msg)
    if size > _max_bytes():
        msg = (f"{shown}: {size / 2**20:.0f} MB is over the {_max_bytes() / 2**20:.0f} MB limit for one benchmark "
               f"file; split it, or raise the limit with SPECNB_MAX_FILE_MB")
        raise FormatError(msg)
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{shown}: not UTF-8 text (byte {exc.start}); expected benchmark JSON or CSV"
        raise FormatError(msg) from None
    if path.suffix.lower() == ".csv":
        rows = formats.csvfile.parse(text, shown)
        records = formats.csvfile.read(rows, shown, meta, problems)
        return _tag(records, shown, "csv"), SourceFile(shown, "csv", len(records), digest)
    repeated = RepeatedKeys()
    try:
        doc = json.loads(text, object_pairs_hook=repeated, parse_int=integer_literal)
    except json.JSONDecodeError as exc:
        msg = f"{shown}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise FormatError(msg) from None
    except RecursionError:
        msg = f"{shown}: JSON nested too deeply to be benchmark data"
        raise FormatError(msg) from None
    if repeated.found:
        raise DataError.from_problems(repeated.problems(doc, shown))
    for fmt in formats.JSON_FORMATS:
        if fmt.detect(doc, shown):
            records = fmt.read(doc, shown, meta, problems)
            return _tag(records, shown, fmt.NAME), SourceFile(shown, fmt.NAME, len(records), digest)
    kind = f"a JSON {type(doc).__name__}"
    if isinstance(doc, list) and doc:
        kind += f" whose first item has keys {sorted(doc[0])[:6]}" if isinstance(doc[0], dict) else \
            f" of {type(doc[0]).__name__}"
    elif isinstance(doc, dict):
        kind += f" with keys {sorted(doc)[:6]}"
    msg = (f"{shown}: not a known benchmark format ({kind}); expected API rows with 'metrics', "
           f"CI aggregate rows with 'hw' and 'tput_per_gpu', or a benchmark_serving result with 'median_tpot_ms'")
    raise FormatError(msg)


class RepeatedKeys:
    """``json.loads``' ``object_pairs_hook``: builds dicts as usual and records every object that repeats a key,
    which plain ``json.loads`` would resolve silently (the last value wins). ``problems`` then names the row and
    the key; only a file that repeats one pays for that search."""

    def __init__(self):
        self.found: list[tuple[dict, str, list]] = []  # (the object, the key, its values in order)

    def __call__(self, pairs: list) -> dict:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set = set()
            key = next(k for k, _ in pairs if k in seen or seen.add(k))
            self.found.append((obj, key, [v for k, v in pairs if k == key]))
        return obj

    def problems(self, doc, shown: str) -> list[Problem]:
        """One ``Problem`` per object that repeats a key: the row it is in (as the format readers number rows),
        the key's dotted path (``metrics.tput_per_gpu``) and its first two values."""
        where = {id(obj): (key, values) for obj, key, values in self.found}
        rows = list(enumerate(doc)) if isinstance(doc, list) else [(None, doc)]
        out = []
        for row, top in rows:
            stack = [(top, "")]
            while stack:  # iterative: a deep document must not hit the recursion limit here
                node, prefix = stack.pop()
                if isinstance(node, dict):
                    if id(node) in where:
                        key, values = where[id(node)]
                        conc = top.get("conc", top.get("max_concurrency")) if isinstance(top, dict) else None
                        out.append(Problem(shown, row, prefix + key, values[-1],
                                           f"one value per key: {key!r} appears {_times(len(values))} in one JSON "
                                           f"object (first {values[0]!r}); keep one",
                                           conc if isinstance(conc, int) and not isinstance(conc, bool) else None))
                    stack.extend((v, f"{prefix}{k}.") for k, v in reversed(node.items()))
                elif isinstance(node, list):
                    stack.extend((v, prefix) for v in reversed(node))
        return out


def implausible(frame: pd.DataFrame) -> list[Problem]:
    """Every value of ``frame`` outside its ``PLAUSIBLE`` range, as Problems naming the row's file and row (from its
    ``source``), its concurrency and the canonical field. Vectorised: loading checks every row read."""
    problems = []  # (row position, Problem): reported in the rows' order
    for col, (low, high, unit) in PLAUSIBLE.items():
        if col not in frame:
            continue
        values = frame[col].to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero((values < low) | (values > high)):  # NaN (not measured) compares False
            source = str(frame["source"].iat[i]) if "source" in frame else "(data)"
            path, _, row = source.rpartition("#")
            conc = frame["conc"].iat[i] if "conc" in frame else None
            problems.append((i, Problem(path if row.isdigit() else source, int(row) if row.isdigit() else None, col,
                                        float(values[i]), f"{plausible_words(col)} (a plausible range)",
                                        None if conc is None or pd.isna(conc) else int(conc))))
    return [p for _, p in sorted(problems, key=lambda item: item[0])]


def check_plausible(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` when every value lies in its ``PLAUSIBLE`` range, else a ``DataError`` naming the first."""
    problems = implausible(frame)
    if problems:
        raise DataError.from_problems(problems)
    return frame


def plausible_words(col: str) -> str:
    """``0.001 to 100,000,000 tok/s/GPU``: a measure's plausible range, for messages and docs."""
    low, high, unit = PLAUSIBLE[col]
    return fmt_limits(low, high, unit)


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


def _tag(records: list[dict], shown: str, fmt: str) -> list[dict]:
    for rec in records:
        rec["source"] = shown if rec.get("row") is None else f"{shown}#{rec['row']}"
        rec["format"] = fmt
    return records


def topology(rec: dict) -> str:
    """A readable parallelism label, also part of a line's identity."""
    def num(value):
        return "?" if value is None or (isinstance(value, float) and math.isnan(value)) else str(int(value))
    if rec.get("disagg"):
        pre = f"tp{num(rec.get('prefill_tp'))}·ep{num(rec.get('prefill_ep'))}" + \
              ("·dpa" if rec.get("prefill_dp_attention") else "")
        dec = f"tp{num(rec.get('tp'))}·ep{num(rec.get('ep'))}" + ("·dpa" if rec.get("dp_attention") else "")
        return f"P {pre} / D {dec} ({num(rec.get('num_prefill_gpu'))}P+{num(rec.get('num_decode_gpu'))}D GPUs)"
    return f"tp{num(rec.get('tp'))}·ep{num(rec.get('ep'))}" + ("·dpa" if rec.get("dp_attention") else "")


def resolve_models(frame: pd.DataFrame, aliases: dict) -> pd.DataFrame:
    """Model names as read (ids, paths, runner prefixes) to model keys; each distinct name is looked up once."""
    keys = names.model_keys(list(frame["model"].unique()), aliases)
    return frame.assign(model=frame["model"].map(keys), model_id=frame["model_id"].fillna(frame["model"]))


def compact_rows(records: list[dict], shared: dict) -> list[tuple]:
    """Records as row tuples in column order, NaN where a key is missing (as ``DataFrame.from_records`` reads a
    dict), each text value shared through ``shared``: a file's dicts are dropped once it is read, and the frames'
    text columns point at one string per distinct value (3,400 configurations: ~80,000 rows, not ~80,000 dicts
    and a dozen copies of each model, GPU and engine name alive at once)."""
    nan = float("nan")
    rows = []
    for rec in records:
        rec["topology"] = topology(rec)
        rows.append(tuple(shared.setdefault(v, v) if isinstance(v, str) else v
                          for v in (rec.get(c, nan) for c in FRAME_COLUMNS)))
    return rows


FRAME_COLUMNS = CANONICAL_COLUMNS + EXTRA_COLUMNS
ROWS_PER_FRAME = 10_000  # rows held as tuples before they become a typed frame (~10 MB at most)


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The files' frames as one, typed as one frame of all their rows would be: a text column that is empty in
    one file (object there) is text again."""
    if len(frames) == 1:
        return frames[0]
    frame = pd.concat(frames, ignore_index=True)
    loose = [c for c in frame.columns if frame[c].dtype == object]
    return frame.assign(**{c: frame[c].infer_objects() for c in loose}) if loose else frame


def to_frame(rows: list[tuple]) -> pd.DataFrame:
    """The typed frame of rows from ``compact_rows``."""
    columns = list(FRAME_COLUMNS)
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    for col in INT_COLUMNS:
        frame[col] = frame[col].astype("int64")
    frame["conc"] = pd.to_numeric(frame["conc"], errors="coerce").astype("Int64")  # NA: not recorded
    for col in MEASURES + OPTIONAL_MEASURES + ("tp", "ep", "num_prefill_gpu", "num_decode_gpu", "prefill_tp",
                                               "prefill_ep", "prefill_num_workers", "decode_num_workers"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["run_id"] = frame["run_id"].astype("Int64")
    frame["date"] = frame["date"].fillna("").astype(str)
    for col in ("disagg", "dp_attention", "is_multinode", "prefill_dp_attention"):
        frame[col] = frame[col].fillna(False).astype(bool)
    # A copy: the text columns are otherwise views into the rows' 2-D object array, which keeps every number
    # of every row alive as a Python float beside the float64 columns (~40 MB at 3,400 configurations).
    return frame.copy()


def impute_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Give dateless rows the date of a dated row from the same GitHub run, when one was loaded."""
    dated = frame[(frame.date != "") & frame.run_id.notna()]
    if dated.empty or not (frame.date == "").any():
        return frame
    by_run = dated.groupby("run_id")["date"].min()
    fill = frame.run_id.map(by_run)
    missing = (frame.date == "") & fill.notna()
    out = frame.copy()
    out.loc[missing, "date"] = fill[missing].astype(str)
    return out


def drop_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """Identical rows read twice (a snapshot and its history) collapse; conflicting ones are an error.

    A metric one copy carries and the other lacks is no conflict: the snapshot writes p90 latencies and power the
    history leaves out; the point kept has every metric either copy measured."""
    # A point is its line and conc in one run; a point without a conc is told apart by its interactivity.
    keyed = frame.assign(_run=frame.run_id.fillna(-1), _conc=frame.conc.fillna(-1),
                         _x=frame.interactivity.where(frame.conc.isna(), -1.0))
    key = list(LINE_KEY) + ["_conc", "_x", "date", "_run"]
    dup_mask = keyed.duplicated(key, keep=False)
    if not dup_mask.any():
        return frame
    dups = keyed[dup_mask]
    measures = list(MEASURES + OPTIONAL_MEASURES)
    merged = dups.groupby(key, sort=False)[measures].transform("first")  # first value each metric has
    values, firsts = dups[measures].to_numpy(dtype=float), merged.to_numpy(dtype=float)
    same = np.isclose(values, firsts, rtol=1e-9, atol=0) | np.isnan(values)
    problems = []
    for i in np.flatnonzero(~same.all(axis=1)):
        other = dups.iloc[i]
        col_index = int(np.flatnonzero(~same[i])[0])
        col = measures[col_index]
        same_point = dups[(dups[key] == other[key]).all(axis=1)]
        first = same_point[same_point[col].notna()].iloc[0]
        problems.append(Problem(other.source, None, col, float(other[col]),
                                f"{float(first[col])!r} as in {first.source} (same line, conc, date and run: "
                                "conflicting duplicate point; remove one)",
                                None if pd.isna(other.conc) else int(other.conc)))
    if problems:
        raise DataError.from_problems(problems)
    out = frame.copy()
    out.loc[dups.index, measures] = merged
    return out.loc[~keyed.duplicated(key, keep="first")].reset_index(drop=True)


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Per line and concurrency, the newest row by (date, run_id); dateless rows sort as oldest.

    Rows that record no concurrency cannot be matched across runs point by point: of those, a line keeps
    the newest run's (a newer sweep replaces an older one)."""
    if frame.empty:
        return frame.copy()
    ordered = frame.assign(_run=frame.run_id.fillna(-1).astype("int64")).sort_values(
        ["date", "_run", "source"], kind="mergesort")
    has_conc = ordered.conc.notna()
    kept = [ordered[has_conc].drop_duplicates(list(LINE_KEY) + ["conc"], keep="last")]
    if not has_conc.all():
        sweeps = ordered[~has_conc]
        newest = sweeps.drop_duplicates(list(LINE_KEY), keep="last")[list(LINE_KEY) + ["date", "_run"]]
        kept.append(sweeps.merge(newest, on=list(newest.columns), how="inner"))
    out = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
    return out.drop(columns="_run").sort_values(list(LINE_KEY) + ["conc", "interactivity"],
                                                kind="mergesort").reset_index(drop=True)


def dated_by(history: pd.DataFrame) -> pd.Series:
    """The day by which each row is known to have been measured, for ``points_as_of``: the row's own date; for a
    dateless row (a CI aggregate whose run no API row dates), the earliest date of any dated row from a later
    GitHub run — run ids grow with time, so the run had started by then; "" when neither tells (no run id, or no
    later dated run). The "latest" rule still sorts dateless rows as oldest: this only decides the as-of cut."""
    dates = history["date"].astype(str)
    missing = (dates == "") & history["run_id"].notna()
    dated = history[(dates != "") & history["run_id"].notna()]
    if not missing.any() or dated.empty:
        return dates.rename("dated_by")
    by_run = dated.groupby("run_id")["date"].min().sort_index()
    runs = by_run.index.to_numpy(dtype="int64")
    earliest_after = by_run.iloc[::-1].to_numpy(dtype=object)  # newest run first; running minimum below
    for i in range(1, len(earliest_after)):
        earliest_after[i] = min(earliest_after[i], earliest_after[i - 1])
    earliest_after = earliest_after[::-1]
    pos = np.searchsorted(runs, history.loc[missing, "run_id"].to_numpy(dtype="int64"), side="left")
    bound = np.where(pos < len(runs), earliest_after[np.minimum(pos, len(runs) - 1)], "")
    out = dates.copy()
    out[missing] = bound
    return out.rename("dated_by")


def parse_as_of(value) -> str | None:
    """``--as-of``: a day written YYYY-MM-DD (or a ``datetime.date``) → that text; None stays None (no cut)."""
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    text = str(value).strip()
    try:
        if len(text) == 10 and text[4] == text[7] == "-":
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    msg = f"--as-of {text[:40]!r}: not a date; give a day as YYYY-MM-DD, e.g. 2026-05-05"
    raise UsageError(msg)


def rows_as_of(history: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The rows dated on or before ``as_of`` (by ``dated_by``); every row without ``as_of``. A row that cannot be
    dated never counts in an as-of view: it might be newer than the day asked for."""
    as_of = parse_as_of(as_of)
    if as_of is None:
        return history
    by = history["dated_by"] if "dated_by" in history else dated_by(history)
    return history.loc[((by != "") & (by <= as_of)).to_numpy()]


def points_as_of(history: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The points as they stood on ``as_of``: ``rows_as_of``, then the "latest" rule. Without ``as_of``, the
    latest of every row (``Dataset.points``). The one data-selection rule of compare, build, list and export."""
    return latest(rows_as_of(history, as_of))


def check_percentile(percentile: str) -> str:
    """``--percentile``: one of ``PERCENTILES``, else a ``UsageError`` listing them."""
    if percentile not in PERCENTILES:
        raise UsageError.unknown_choice("percentile", percentile, PERCENTILES)
    return percentile


def measuring(frame: pd.DataFrame, percentile: str = "median") -> pd.DataFrame:
    """The rows that measure ``percentile``'s TPOT (every row measures the median), columns unchanged."""
    check_percentile(percentile)
    if percentile == "median":
        return frame
    return frame.loc[frame[f"{percentile}_interactivity"].notna().to_numpy()].reset_index(drop=True)


def at_percentile(points: pd.DataFrame, percentile: str = "median") -> pd.DataFrame:
    """The points that measure ``percentile``'s TPOT, with ``interactivity`` read at it (1 / that TPOT).

    The median view is the points unchanged; at p90 or p99, points without that percentile are left out — never
    mixed with median ones on the same curve."""
    kept = measuring(points, percentile)
    return kept if percentile == "median" else kept.assign(interactivity=kept[f"{percentile}_interactivity"])


def selection_words(as_of=None, percentile: str = "median") -> str:
    """What ``as_of`` and ``percentile`` select, for messages: `` dated on or before 2026-05-05 with a p90 TPOT``."""
    as_of = parse_as_of(as_of)
    return (f" dated on or before {as_of}" if as_of else "") + \
        (f" with a {percentile} TPOT" if percentile != "median" else "")


def latency_columns(percentile: str = "median") -> dict:
    """The TTFT and E2E latency columns read at ``percentile``, e.g. ``{"ttft_s": "p99_ttft_s", ...}``."""
    check_percentile(percentile)
    return {"ttft_s": f"{percentile}_ttft_s", "e2el_s": f"{percentile}_e2el_s"}


def _meta_clean(meta: dict | None) -> dict:
    meta = dict(meta or {})
    unknown = set(meta) - set(META_KEYS)
    if unknown:
        raise UsageError.unknown_choice("--meta key", sorted(unknown)[0], META_KEYS)
    for key in META_NUMBERS:
        value = meta.get(key)
        if value in (None, ""):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number > 0 and number == int(number)):
            msg = f"--meta {key}={value!r}: expected a positive whole number"
            raise UsageError(msg)
    return meta


def skipped_note(left_out: list[dict]) -> str:
    """One line on the rows that were left out: how many, of which benchmark types, from which files."""
    kinds = sorted({r["skipped"] for r in left_out})
    files = sorted({r["source"].split("#")[0] for r in left_out})
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return (f"Left out {len(left_out)} row{'s' if len(left_out) != 1 else ''} of benchmark type "
            f"{', '.join(repr(k[:40]) for k in kinds[:3])}{' and more' if len(kinds) > 3 else ''} ({shown}): "
            "specnb compares fixed-sequence (single_turn) runs, and these have no fixed ISL/OSL.")


_CACHE: dict = {}
_PINNED: dict = {}


def _pin_key(paths, meta) -> tuple:
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths or [])
    return tuple(str(p) for p in paths), tuple(sorted((k, str(v)) for k, v in (meta or {}).items()))


@contextmanager
def pinned(dataset: Dataset, paths=None, meta: dict | None = None):
    """Within the block, ``load(paths, meta=meta)`` returns ``dataset`` and reads no file: a build's workers
    compute each report from the rows the build read and hashed (they need not see the files at all)."""
    key = _pin_key(paths, meta)
    _PINNED[key] = dataset
    try:
        yield dataset
    finally:
        _PINNED.pop(key, None)


def load(paths=None, *, meta: dict | None = None, model_aliases=None) -> Dataset:
    """Load benchmark files/folders (default: the bundled ``data/``) into a validated ``Dataset``.

    ``meta`` supplies configuration fields that raw client results cannot tell (e.g.
    ``{"hardware": "h200", "precision": "fp8", "spec_method": "mtp"}``). ``model_aliases`` maps more model
    names to keys, ``{"my-r1-finetune": "dsr1"}`` (or ``["my-r1-finetune=dsr1"]``, as ``--model-alias`` gives
    them); names map by exact, case-insensitive match, as the bundled ``tables/models.csv`` does. Rows of
    another benchmark type than fixed-sequence runs (agentic traces) are left out and counted in
    ``Dataset.notes``. Raises ``FormatError`` or ``DataError`` naming the file, row and field; nothing is
    loaded partially.
    """
    if _PINNED and _pin_key(paths, meta) in _PINNED:
        return _own(_PINNED[_pin_key(paths, meta)])
    meta = _meta_clean(meta)
    aliases = names.clean_model_aliases(model_aliases)
    if paths is None or (not isinstance(paths, (str, Path)) and len(paths) == 0):
        paths = default_data_paths()
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    files = expand_paths(paths)
    stamp = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    cache_key = (stamp, tuple(sorted((k, str(v)) for k, v in meta.items())), tuple(sorted(aliases.items())))
    if cache_key in _CACHE:
        return _own(_CACHE[cache_key])
    problems: list[Problem] = []
    # A file's records (dicts, a Python object per value) live only while it is read; its rows wait as compact
    # tuples until ROWS_PER_FRAME of them make one frame (a frame per small file costs ~13 ms of pandas each).
    frames: list[pd.DataFrame] = []
    pending: list[tuple] = []
    left_out: list[dict] = []
    sources = []
    shared: dict = {}
    for path in files:
        recs, source = read_file(path, meta, problems)
        left_out += [r for r in recs if "skipped" in r]
        kept = [r for r in recs if "skipped" not in r]
        if kept and not problems:
            pending += compact_rows(kept, shared)
            if len(pending) >= ROWS_PER_FRAME:
                frames.append(to_frame(pending))
                pending = []
        sources.append(source)
    if pending and not problems:
        frames.append(to_frame(pending))
    del shared, pending
    if problems:
        raise DataError.from_problems(problems)
    notes = (skipped_note(left_out),) if left_out else ()
    if not frames:
        msg = f"{', '.join(s.path for s in sources)}: no benchmark points found" + \
            (f"; {notes[0][0].lower()}{notes[0][1:]}" if notes else "")
        raise FormatError(msg)
    history = drop_duplicates(impute_dates(resolve_models(check_plausible(concat_frames(frames)), aliases)))
    del frames
    history = history.assign(dated_by=dated_by(history))
    dataset = Dataset(points=points_as_of(history), history=history, files=tuple(sources), notes=notes,
                      model_aliases=aliases)
    del history
    _CACHE.clear()  # keep one dataset: the build reloads the same inputs many times
    _CACHE[cache_key] = dataset
    release_freed_memory()
    return _own(dataset)


def release_freed_memory() -> None:
    """Hand the memory the files' parsing freed back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    The parse's millions of short-lived objects sat between the frames' long-lived ones, so glibc keeps their
    pages: at 3,400 configurations ~55 MB of a 240 MB process stayed resident for the whole build without this
    (the remedy Dask documents for a worker's "unmanaged memory")."""
    trim = _malloc_trim()
    if trim is not None:
        gc.collect()  # a full collection also empties the interpreter's free lists, so more pages are whole
        trim(0)


@functools.cache
def _malloc_trim():
    import ctypes
    import ctypes.util

    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "malloc_trim", None)
    except OSError:  # no C library by that name (not glibc)
        return None


def _own(dataset: Dataset) -> Dataset:
    """``dataset`` as the caller's own: its frames are lazy copies (see ``frozen.own_copy``), so a caller that edits
    ``points`` or ``history`` changes nothing another caller, or the next ``load``, sees."""
    return replace(dataset, points=own_copy(dataset.points), history=own_copy(dataset.history),
                   model_aliases=dict(dataset.model_aliases))


def configurations(points: pd.DataFrame, *, all_configs: bool = False, arms=("mtp", "none")) -> pd.DataFrame:
    """Configurations with a point count per spec method; only those with every arm in ``arms`` by default."""
    if points.empty:
        return pd.DataFrame(columns=list(CONFIG_KEY) + ["sequence", "points"])
    counts = points.groupby(list(CONFIG_KEY) + ["spec_method"]).size().unstack("spec_method", fill_value=0)
    rows = []
    for key, row in counts.iterrows():
        per_arm = {arm: int(n) for arm, n in row.items() if n > 0}
        if not all_configs and not all(per_arm.get(a, 0) > 0 for a in arms):
            continue
        model, hardware, precision, isl, osl = key
        rows.append({"model": model, "hardware": hardware, "precision": precision, "isl": int(isl),
                     "osl": int(osl), "sequence": names.sequence_label(isl, osl), "points": per_arm})
    return pd.DataFrame(rows, columns=list(CONFIG_KEY) + ["sequence", "points"])
