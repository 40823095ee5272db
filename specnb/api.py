"""The public Python API: ``load``, ``configurations``, ``compare`` (data given as a Dataset or paths)."""

from __future__ import annotations

import pandas as pd

from . import comparison as _compare
from . import costs
from .data import Dataset, load
from .errors import UsageError


def _dataset(data, model_aliases) -> Dataset:
    if not isinstance(data, Dataset):
        return load(data, model_aliases=model_aliases)
    if model_aliases:
        msg = "model_aliases apply when data is loaded: pass them to specnb.load(..., model_aliases=...)"
        raise UsageError(msg)
    return data


def configurations(data=None, *, all_configs: bool = False, arms=("mtp", "none"),
                   model_aliases=None, as_of=None, percentile: str = "median") -> pd.DataFrame:
    """Configurations in ``data`` (default: bundled), comparable ones by default: model, hardware, precision,
    sequence (and its isl, osl), then one point-count column per arm ("MTP points", "Off points", ...).

    ``model_aliases`` (``{"my-r1-finetune": "dsr1"}``) apply when ``data`` is paths, as in ``specnb.load``.
    ``as_of`` and ``percentile`` count the points ``compare`` would use with the same options."""
    configs = _dataset(data, model_aliases).configurations(all_configs=all_configs, arms=arms, as_of=as_of,
                                                           percentile=percentile)
    return _readable(configs, arms)


def _readable(configs: pd.DataFrame, arms=("mtp", "none")) -> pd.DataFrame:
    """``Dataset.configurations``' frame with its ``points`` dicts spread into integer columns, ``arms`` first."""
    from . import names

    found = sorted({a for counts in configs["points"] for a in counts} - set(arms))
    frame = configs[["model", "hardware", "precision", "sequence", "isl", "osl"]].copy()
    for arm in list(arms) + found:
        frame[f"{names.spec_label(arm)} points"] = [int(counts.get(arm, 0)) for counts in configs["points"]]
    return frame


def compare(model: str, hardware: str, precision: str, sequence: str | None = None, *, data=None,
            model_aliases=None, cost_table=None, gpu_cost: dict | None = None, gpu_kw: dict | None = None,
            provider: str = costs.DEFAULT_PROVIDER, **options) -> _compare.Comparison:
    """Compare MTP with Off (or any ``arms``) for one configuration; see ``specnb.compare.compare``.

    ``data`` is a ``Dataset``, a path or a list of paths (default: the bundled data); ``model_aliases``
    (``{"my-r1-finetune": "dsr1"}``) apply when it is paths, as in ``specnb.load``. ``gpu_cost`` and
    ``gpu_kw`` override one or more GPUs' $/GPU-hour (for ``provider``) and kW, e.g. ``{"b200": 2.1}``.
    Which rows are compared is chosen here, not at loading: ``percentile="p99"`` (median, p90, p99) and
    ``as_of="2026-05-05"`` (the data as it stood that day).
    """
    from . import names

    gpu = names.hardware_key(hardware)
    table = costs.with_overrides(costs.load_cost_table(cost_table), gpu,
                                 gpu_cost={names.hardware_key(k): v for k, v in (gpu_cost or {}).items()},
                                 gpu_kw={names.hardware_key(k): v for k, v in (gpu_kw or {}).items()}, provider=provider)
    return _compare.compare(_dataset(data, model_aliases), model, hardware, precision, sequence, cost_table=table,
                            provider=provider, **options)


def trend(model: str, hardware: str, precision: str, sequence: str | None = None, *, data=None,
          model_aliases=None, **options) -> pd.DataFrame:
    """MTP/Off (or any ``arms``) throughput ratio at fixed interactivities on every day the configuration's data
    changed: one row per date and target (``date``, ``interactivity``, ``ratio``, ``grade``, ...), dates ascending;
    see ``specnb.trends.compute``. ``targets`` default to those of ``compare`` on the newest data, and the newest
    date's ratios are ``compare``'s. ``charts.chart_trend`` draws the frame.
    """
    from . import trends

    return trends.compute(_dataset(data, model_aliases), model, hardware, precision, sequence, **options).to_frame()
