"""The public Python API: ``load``, ``configurations``, ``compare`` (data given as a Dataset or paths)."""

from __future__ import annotations

import pandas as pd

from . import comparison as _compare
from . import costs
from .data import Dataset, load


def _dataset(data) -> Dataset:
    return data if isinstance(data, Dataset) else load(data)


def configurations(data=None, *, all_configs: bool = False, arms=("mtp", "none")) -> pd.DataFrame:
    """Configurations in ``data`` (default: bundled) with point counts per arm; comparable ones by default."""
    return _dataset(data).configurations(all_configs=all_configs, arms=arms)


def compare(model: str, hardware: str, precision: str, sequence: str | None = None, *, data=None,
            cost_table=None, gpu_cost: dict | None = None, gpu_kw: dict | None = None,
            provider: str = costs.DEFAULT_PROVIDER, **options) -> _compare.Comparison:
    """Compare MTP with Off (or any ``arms``) for one configuration; see ``specnb.compare.compare``.

    ``data`` is a ``Dataset``, a path or a list of paths (default: the bundled data). ``gpu_cost`` and
    ``gpu_kw`` override one or more GPUs' $/GPU-hour (for ``provider``) and kW, e.g. ``{"b200": 2.1}``.
    """
    table = costs.load_cost_table(cost_table)
    for gpu, usd in (gpu_cost or {}).items():
        table = table.with_override(gpu, usd_per_gpu_hour=float(usd), provider=provider)
    for gpu, kw in (gpu_kw or {}).items():
        table = table.with_override(gpu, kw_per_gpu=float(kw), provider=provider)
    return _compare.compare(_dataset(data), model, hardware, precision, sequence, cost_table=table,
                            provider=provider, **options)
