import csv
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specnb import costs
from specnb.errors import CostTableError, UsageError

SEEDS = Path(__file__).parent / "data" / "seed_numbers.csv"
SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed_rows():
    with open(SEEDS) as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def test_spec_example_b200():
    rate = costs.load_cost_table("2026-04").rate("b200")
    assert costs.tok_s_per_mw(rate.kw_per_gpu, 3139.2) == pytest.approx(1446636, abs=1)
    assert costs.cost_per_mtok(rate.usd_per_gpu_hour, 3139.2) == pytest.approx(0.17255, abs=1e-5)  # SPEC rounds this to $0.1726


@pytest.mark.parametrize("row", seed_rows(), ids=lambda r: f"{r['seed'][:3]}-{r['target']}-{r['arm']}")
def test_seed_pages_published_power_and_cost(row):
    """Published throughputs, costed with the 2026-04 hyperscaler rate, give the pages' tok/s/MW and $/M."""
    rate = costs.load_cost_table("2026-04").rate(row["gpu"], "hyperscaler")
    tput = float(row["throughput_per_gpu"])
    mw = costs.tok_s_per_mw(rate.kw_per_gpu, tput)
    published_mw = float(row["tok_s_per_mw"])
    # The page prints throughput to 0.1 tok/s: the published MW must lie within what that rounding allows,
    # and within 0.01 % wherever the rounding itself is finer than 0.01 %.
    lo, hi = costs.tok_s_per_mw(rate.kw_per_gpu, tput - 0.05), costs.tok_s_per_mw(rate.kw_per_gpu, tput + 0.05)
    assert lo <= published_mw <= hi
    if 0.05 / tput < 1e-4:
        assert mw == pytest.approx(published_mw, rel=1e-4)
    # the pages splined cost on its own, hence up to 3 % apart
    assert costs.cost_per_mtok(rate.usd_per_gpu_hour, tput) == pytest.approx(float(row["cost_per_mtok"]), rel=0.03)


def test_seed_numbers_match_shared_pages():
    if not SHARED_SEEDS.exists():
        pytest.skip("../shared/seeds not present")
    from seedparse import parse_seed

    parsed = [r for f in sorted(SHARED_SEEDS.glob("*.txt")) for r in parse_seed(f.read_text())]
    assert len(parsed) == len(seed_rows()) == 30
    for a, b in zip(parsed, seed_rows()):
        assert float(b["throughput_per_gpu"]) == a["throughput_per_gpu"] and b["gpu"] == a["gpu"]


@given(st.floats(0.01, 100), st.floats(0.1, 1e6))
def test_cost_times_throughput_is_constant(usd, tput):
    assert costs.cost_per_mtok(usd, tput) * tput == pytest.approx(usd * 1e6 / 3600, rel=1e-12)
    assert costs.tokens_per_dollar(usd, tput) * costs.cost_per_mtok(usd, tput) == pytest.approx(1e6, rel=1e-12)


def test_bundled_tables_complete():
    tables = costs.bundled_tables()
    assert set(tables) == {"2026-04", "2026-07"}
    for t in tables.values():
        assert set(t.gpus) == {"h100", "h200", "b200", "b300", "gb200", "gb300", "mi300x", "mi325x", "mi355x"}
    assert tables["2026-07"].rate("mi355x", "neocloud").usd_per_gpu_hour == 2.09
    assert tables["2026-04"].rate("b300", "neocloud").usd_per_gpu_hour == 2.808


def test_unknown_gpu_has_no_rate_never_zero():
    rate = costs.load_cost_table().rate("tpu9")
    assert rate.usd_per_gpu_hour is None and rate.kw_per_gpu is None
    assert math.isnan(costs.cost_per_mtok(rate.usd_per_gpu_hour, 100.0))
    assert math.isnan(costs.tok_s_per_mw(rate.kw_per_gpu, 100.0))


def test_override_makes_new_table():
    base = costs.load_cost_table("2026-07")
    new = base.with_override("b200", usd_per_gpu_hour=2.5, kw_per_gpu=2.0)
    assert new.rate("b200").usd_per_gpu_hour == 2.5 and new.rate("b200").kw_per_gpu == 2.0
    assert base.rate("b200").usd_per_gpu_hour == 1.73  # the original is untouched
    assert "override" in new.name


def test_user_csv_and_yaml(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text("gpu,kw_per_gpu,hyperscaler\nb200,1.5,2.0\n")
    t = costs.load_cost_table(p)
    assert t.name == "mine" and t.rate("b200").usd_per_gpu_hour == 2.0 and t.rate("b200", "neocloud").usd_per_gpu_hour is None
    y = tmp_path / "mine.yaml"
    y.write_text("name: q3\ngpus:\n  h200: {kw_per_gpu: 1.2, rental: 1.9}\n")
    assert costs.load_cost_table(y).rate("h200", "rental").usd_per_gpu_hour == 1.9


@pytest.mark.parametrize("text, match", [
    ("gpu,kw_per_gpu,hyperscaler\nb200,1.5,-2\n", r"mine.csv row 1: field 'hyperscaler' is '-2', expected a positive"),
    ("gpu,kw_per_gpu,hyperscaler\n,1.5,2\n", r"mine.csv row 1: field 'gpu' is empty"),
    ("gpu,kw_per_gpu,hyperscaler\nb200,abc,2\n", r"field 'kw_per_gpu' is 'abc'"),
    ("name,rate\nx,1\n", r"mine.csv: cost CSV needs a header with gpu"),
])
def test_bad_cost_files(tmp_path, text, match):
    p = tmp_path / "mine.csv"
    p.write_text(text)
    with pytest.raises(CostTableError, match=match):
        costs.load_cost_table(p)


def test_unknown_table_name_lists_choices():
    with pytest.raises(UsageError, match=r"2026-04, 2026-07"):
        costs.load_cost_table("2025-01")
