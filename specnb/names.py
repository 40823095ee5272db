"""Name normalisation: runner, framework, precision, spec-method and model names to short keys.

Benchmark files spell the same thing many ways (``mi355x-amd_0`` and ``mi355x``,
``deepseek-ai/DeepSeek-R1-0528`` and ``/models/DeepSeek-R1``). Everything downstream groups by
the short keys produced here, and shows the display labels. Model keys and labels are data
(``tables/models.csv``): known ids map by exact match only, so distinct models never merge.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

FRAMEWORK_ALIASES = {
    "sglang-disagg": "mori-sglang",
    "trtllm": "trt",
    "dynamo-trtllm": "dynamo-trt",
}

PRECISION_ALIASES = {"nvfp4": "fp4", "mxfp4": "fp4"}

SPEC_ALIASES = {"": "none", "off": "none", "no": "none", "false": "none", "null": "none"}

MODELS_FILE = Path(__file__).with_name("tables") / "models.csv"
ALIAS_SEPARATOR = "|"

GPU_FAMILY = {
    "h100": "NVIDIA Hopper", "h200": "NVIDIA Hopper",
    "b200": "NVIDIA Blackwell", "b300": "NVIDIA Blackwell",
    "gb200": "NVIDIA Blackwell", "gb300": "NVIDIA Blackwell",
    "mi300x": "AMD CDNA 3", "mi325x": "AMD CDNA 3", "mi355x": "AMD CDNA 4",
}

SPEC_LABELS = {"none": "Off", "mtp": "MTP", "eagle": "EAGLE", "draft": "Draft model"}


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def hardware_key(runner: object) -> str:
    """Runner name to GPU key: ``mi355x-amd_0`` → ``mi355x``, ``b200-trt`` → ``b200``."""
    text = _text(runner).lower()
    return re.split(r"[-_]", text, maxsplit=1)[0] if text else text


def framework_key(name: object) -> str:
    text = _text(name).lower()
    return FRAMEWORK_ALIASES.get(text, text)


def precision_key(name: object) -> str:
    text = _text(name).lower()
    return PRECISION_ALIASES.get(text, text)


def spec_key(name: object) -> str:
    text = _text(name).lower()
    return SPEC_ALIASES.get(text, text)


@dataclass(frozen=True)
class Model:
    """A known model: the dashboard's key, its display label and the ids that name it in benchmark files."""

    key: str
    label: str
    aliases: tuple[str, ...]


@functools.cache
def known_models() -> tuple[Model, ...]:
    """The bundled model table (``specnb/tables/models.csv``), in its order."""
    lines = [ln for ln in MODELS_FILE.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    return tuple(Model(row["key"], row["label"], tuple(a for a in row["aliases"].split(ALIAS_SEPARATOR) if a))
                 for row in csv.DictReader(lines))


@functools.cache
def _bundled_aliases() -> dict[str, str]:
    """Lower-cased id → key for every alias, label and key of the bundled table."""
    out: dict[str, str] = {}
    for m in known_models():
        for name in (m.key, m.label, *m.aliases):
            out[_model_id(name)] = m.key
    return out


def _model_id(name: object) -> str:
    """A model id as compared: trimmed, lower-cased, ``/`` separators, no trailing slash."""
    return _text(name).replace("\\", "/").rstrip("/").lower()


def _id_suffixes(name: object) -> list[str]:
    """The id and its trailing path components, longest first: ``/models/org/m`` → ``models/org/m``, ``org/m``, ``m``.

    A Hugging Face cache path (``…/models--org--m/snapshots/<hash>/``) reads as ``org/m``.
    """
    parts = [p for p in _model_id(name).split("/") if p]
    for i, part in enumerate(parts):
        if part.startswith("models--") and len(part) > len("models--"):
            parts = parts[:i] + [p for p in part[len("models--"):].split("--") if p]
            break
    return ["/".join(parts[i:]) for i in range(len(parts))]


def clean_model_aliases(aliases) -> dict[str, str]:
    """User aliases ``{name: key}`` (or ``["name=key", ...]``) as lower-cased id → key; ``UsageError`` if malformed."""
    items = aliases.items() if isinstance(aliases, Mapping) else \
        (str(a).partition("=")[::2] for a in (aliases or ()))
    out: dict[str, str] = {}
    for name, key in items:
        if not isinstance(name, str) or not isinstance(key, str) or not _model_id(name) or not _model_id(key) \
                or "/" in _model_id(key):
            msg = (f"--model-alias {name!r}={key!r}: expected NAME=KEY with both non-empty and no '/' in the key, "
                   "e.g. my-r1-finetune=dsr1")
            raise UsageError(msg)
        out[_model_id(name)] = _model_id(key)
    return out


def model_key(name: object, aliases: Mapping[str, str] | None = None) -> str:
    """A model id, display name or path to the dashboard's model key (``dsr1``, ``glm5``, ...).

    Exact, case-insensitive match of the whole id or of its last path components against ``aliases``
    (from ``clean_model_aliases``: the user's, which win) and then the bundled table, so
    ``deepseek-ai/DeepSeek-R1-0528`` and ``/models/DeepSeek-R1`` are ``dsr1``. Any other name is its own
    model: its last path component, lower-cased (``Qwen/Qwen3.5-27B`` → ``qwen3.5-27b``); names are never
    merged by a common prefix.
    """
    suffixes = _id_suffixes(name)
    for table in (aliases or {}, _bundled_aliases()):
        for candidate in suffixes:
            if candidate in table:
                return table[candidate]
    return suffixes[-1] if suffixes else ""


def model_keys(names: list, aliases: Mapping[str, str] | None = None) -> dict:
    """``model_key`` of each name, except that unknown names sharing a last path component but not an owner
    (``org-a/m`` and ``org-b/m``) are keyed by ``owner/name``, so two organisations' models never merge."""
    keys = {name: model_key(name, aliases) for name in names}
    known = set((aliases or {}).values()) | {m.key for m in known_models()}
    owners: dict[str, set] = {}
    for name, key in keys.items():
        suffixes = _id_suffixes(name)
        if key not in known and len(suffixes) > 1:
            owners.setdefault(key, set()).add(suffixes[-2])
    for name, key in keys.items():
        if len(owners.get(key, ())) > 1 and len(_id_suffixes(name)) > 1:
            keys[name] = _id_suffixes(name)[-2]
    return keys


def model_label(key: str) -> str:
    """Display label of a known key (``dsr1`` → ``DeepSeek R1``); any other key is shown as it is."""
    return next((m.label for m in known_models() if m.key == key), key)


def hardware_label(key: str) -> str:
    return key.upper()


def spec_label(key: str) -> str:
    return SPEC_LABELS.get(key, key.upper())


def seq_label(tokens: int) -> str:
    """1024 → ``1k``, 8192 → ``8k``; other lengths stay numbers."""
    tokens = int(tokens)
    return f"{tokens // 1024}k" if tokens % 1024 == 0 and tokens >= 1024 else str(tokens)


def sequence_label(isl: int, osl: int) -> str:
    return f"{seq_label(isl)}/{seq_label(osl)}"


def parse_length(text: str) -> int:
    text = text.strip().lower()
    if re.fullmatch(r"\d+k", text):
        return int(text[:-1]) * 1024
    if re.fullmatch(r"\d+", text):
        return int(text)
    raise ValueError(text)


def parse_sequence(text: str) -> tuple[int, int]:
    """``1k/8k`` → (1024, 8192). Raises ValueError on anything else."""
    parts = str(text).replace("-", "/").split("/")
    if len(parts) != 2:
        raise ValueError(text)
    return parse_length(parts[0]), parse_length(parts[1])
