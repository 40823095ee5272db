"""Where specnb's bundled files are: the notebooks, the default data and the export templates.

``notebooks/`` and ``data/`` live at the top of the repository (one copy on disk); building the wheel
copies them into the package as ``specnb/_bundled/`` (hatch_build.py, configured in pyproject.toml). So an installed
wheel finds them inside the package, and a checkout or an editable install finds them beside it. Display
paths stay ``data/...`` in both, since both folders share a parent.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
IN_WHEEL = PACKAGE / "_bundled"
"""Where the wheel build puts ``notebooks/`` and ``data/`` (hatch_build.py; ``bundled`` in pyproject.toml)."""
CHECKOUT = PACKAGE.parent


def bundled(name: str) -> Path:
    """The bundled top-level folder ``name``: inside the package when installed from a wheel, else the
    checkout's. The wheel's copy wins, so a stray ``site-packages/<name>`` of another project is never used."""
    inside = IN_WHEEL / name
    if inside.is_dir() or not (CHECKOUT / name).is_dir():
        return inside
    return CHECKOUT / name


NOTEBOOKS = bundled("notebooks")
DATA = bundled("data")
TEMPLATES = PACKAGE / "templates"


def notebook(name: str) -> Path:
    """A bundled notebook by name: ``report``, ``summary``, ``diff`` or ``explore``."""
    return NOTEBOOKS / f"{name}.ipynb"
