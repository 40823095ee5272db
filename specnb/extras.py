"""Optional dependencies: which packages of one of specnb's extras are missing, read from specnb's own
installed metadata (so the list is pyproject.toml's, never a copy)."""

from __future__ import annotations

import re
from importlib import metadata

from .errors import MissingDependencyError


def missing(extra: str) -> list[str]:
    """Distributions that ``specnb[extra]`` requires and that are not installed (none if specnb's metadata
    is unavailable, e.g. run from a checkout that was never installed)."""
    try:
        requirements = metadata.requires("specnb") or []
    except metadata.PackageNotFoundError:
        return []
    lacking = []
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if not re.search(rf"\bextra\s*==\s*['\"]{re.escape(extra)}['\"]", marker):
            continue
        name = re.match(r"\s*([A-Za-z0-9._-]+)", spec)[1]
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            lacking.append(name)
    return lacking


def require(extra: str, purpose: str) -> None:
    """Raise a one-line ``MissingDependencyError`` naming the extra to install when any of it is missing."""
    lacking = missing(extra)
    if lacking:
        msg = (f"{purpose} needs specnb's {extra!r} extra ({', '.join(lacking)} not installed); "
               f"run: pip install 'specnb[{extra}]'")
        raise MissingDependencyError(msg)
