"""Input formats, one module each, tried in registration order: API rows, CI aggregate, raw client.

A format module exposes ``NAME``, ``detect(doc, path)`` and ``read(doc, path, meta, problems)``;
CSV is chosen by file extension instead of content.
"""

from __future__ import annotations

from . import api, ci, csvfile, raw

JSON_FORMATS = (api, ci, raw)

__all__ = ["JSON_FORMATS", "api", "ci", "csvfile", "raw"]
