"""specnb: what speculative decoding (MTP) buys over running without it, at matched interactivity.

>>> import specnb
>>> data = specnb.load()                       # the bundled InferenceX data
>>> c = specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=data)
>>> c.to_dict()["schema"]
'specnb.comparison/1'

Importing specnb is cheap: charts, notebooks and exporters are imported only when used.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Comparison", "SpecnbError", "compare", "configurations", "load", "trend", "__version__"]


def __getattr__(name: str):
    if name == "load":
        from .data import load
        return load
    if name in ("compare", "configurations", "trend"):
        from . import api
        return getattr(api, name)
    if name == "Comparison":
        from .comparison import Comparison
        return Comparison
    if name == "SpecnbError":
        from .errors import SpecnbError
        return SpecnbError
    msg = f"module 'specnb' has no attribute {name!r}"
    raise AttributeError(msg)
