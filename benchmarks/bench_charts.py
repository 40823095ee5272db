"""Median time to build the report's three charts and turn them into Vega-Lite dicts, for one report.

Run: ``python benchmarks/bench_charts.py [model hardware precision sequence] [--runs N]``.
The comparison is computed once, outside the timing; each run builds ``report_charts`` and calls
``to_dict`` on all three, once with Altair's schema validation (``to_dict()``) and once without
(``to_dict(validate=False)``, the report path). One warm-up run is discarded, so imports and caches
do not count. Wall time is the measure; CPU time (this process only) is printed beside it because it
barely moves when other jobs share the machine, and wall time does.
"""

from __future__ import annotations

import argparse
import statistics
import time

import specnb
from specnb import charts


def build_and_dump(c, validate: bool) -> None:
    for chart in charts.report_charts(c).values():
        chart.to_dict(validate=validate)


def median_seconds(c, validate: bool, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``runs`` runs, after one warm-up run."""
    build_and_dump(c, validate)
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        build_and_dump(c, validate)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="*", default=["dsr1", "b200", "fp4", "1k/1k"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    c = specnb.compare(*args.config)
    for validate in (False, True):
        label = "to_dict(validate=True) " if validate else "to_dict(validate=False)"
        wall, cpu = median_seconds(c, validate, args.runs)
        print(f"{' '.join(args.config)}: build 3 charts + {label}: median of {args.runs} = "
              f"{wall * 1000:.1f} ms (CPU {cpu * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
