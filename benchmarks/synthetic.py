"""Synthetic suites for ``make bench``: the bundled configurations copied under new model names.

``make_suite(copies, folder)`` writes one canonical CSV per copy (``specnb export``'s format) holding the
bundled data's comparable configurations with the model renamed ``s<k>-<model>``, so a suite of
``34 × copies`` configurations has the bundled data's shape, point counts and numbers in every copy.
"""

from __future__ import annotations

import sys
from pathlib import Path


def make_suite(copies: int, folder: Path) -> Path:
    """Write ``copies`` CSV files into ``folder`` (created); returns the folder."""
    import specnb
    from specnb.csvfiles import write_points_csv

    data = specnb.load()
    comparable = data.configurations()
    keys = set(zip(comparable.model, comparable.hardware, comparable.precision, comparable.isl, comparable.osl,
                   strict=True))
    points = data.points
    mask = [k in keys for k in zip(points.model, points.hardware, points.precision, points.isl, points.osl,
                                   strict=True)]
    base = points.loc[mask]
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(copies):
        copy = base.assign(model=f"s{k:04d}-" + base.model)  # a prefix: names.model_key keeps it
        write_points_csv(copy, folder / f"copy-{k:04d}.csv")
    return folder


if __name__ == "__main__":  # python benchmarks/synthetic.py COPIES FOLDER
    print(make_suite(int(sys.argv[1]), Path(sys.argv[2])))
