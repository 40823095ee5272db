"""Name normalisation: runner, framework, precision, spec-method and model names to short keys.

Benchmark files spell the same thing many ways (``mi355x-amd_0`` and ``mi355x``,
``deepseek-ai/DeepSeek-R1-0528`` and ``/models/DeepSeek-R1``). Everything downstream groups by
the short keys produced here, and shows the display labels.
"""

from __future__ import annotations

import re

FRAMEWORK_ALIASES = {
    "sglang-disagg": "mori-sglang",
    "trtllm": "trt",
    "dynamo-trtllm": "dynamo-trt",
}

PRECISION_ALIASES = {"nvfp4": "fp4", "mxfp4": "fp4"}

SPEC_ALIASES = {"": "none", "off": "none", "no": "none", "false": "none", "null": "none"}

# (pattern on the lower-cased last path component, short key, display label)
MODEL_TABLE = (
    (r"^(dsr1|deepseek-r1)", "dsr1", "DeepSeek R1"),
    (r"^(dsv3|deepseek-v3)", "dsv3", "DeepSeek V3"),
    (r"^(gptoss|gpt-oss-120b)", "gptoss", "gpt-oss 120B"),
    (r"^(kimik2\.5|kimi-k2\.5)", "kimik2.5", "Kimi K2.5"),
    (r"^(minimaxm2\.5|minimax-m2\.5)", "minimaxm2.5", "MiniMax M2.5"),
    (r"^(qwen3\.5|qwen3\.5-397b)", "qwen3.5", "Qwen 3.5"),
)

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


def model_key(name: object) -> str:
    """Model id or path to a short key: ``/models/DeepSeek-R1`` → ``dsr1``; unknown ids keep their last path part."""
    last = _text(name).rstrip("/").split("/")[-1].lower()
    if last.startswith("models--"):  # a Hugging Face cache directory name: models--org--name
        last = last.split("--")[-1]
    for pattern, key, _label in MODEL_TABLE:
        if re.match(pattern, last):
            return key
    return last


def model_label(key: str) -> str:
    for _pattern, known, label in MODEL_TABLE:
        if known == key:
            return label
    return key


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
