"""CSV writing that is safe to open in a spreadsheet: text cells that start with ``= + - @`` (or a tab/CR)
are prefixed with an apostrophe so they are never evaluated as formulas (CSV injection)."""

from __future__ import annotations

import io
import math

import pandas as pd

from .data import CANONICAL_COLUMNS, EXTRA_COLUMNS

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise a text cell that a spreadsheet would treat as a formula; numbers pass unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def frame_to_csv(frame: pd.DataFrame) -> str:
    """Deterministic CSV text: safe text cells, NaN as empty, floats in repr precision, LF line ends."""
    safe = frame.copy()
    for col in safe.columns:
        if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
            safe[col] = safe[col].map(lambda v: safe_cell(v) if not (isinstance(v, float) and math.isnan(v)) else v)
    buf = io.StringIO()
    safe.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_points_csv(frame: pd.DataFrame, path) -> None:
    """The canonical table (what ``specnb export`` writes and the CSV loader reads)."""
    from .atomic import write_text

    cols = [c for c in list(CANONICAL_COLUMNS) + list(EXTRA_COLUMNS) if c in frame.columns and c != "format"]
    write_text(path, frame_to_csv(frame[cols]))
