"""Number formatting shared by table, narrative and charts: what a missing value reads as, and why."""

import math

import pytest

from specnb import fmt


@pytest.mark.parametrize("format_", [fmt.fmt_cost, fmt.fmt_power, fmt.fmt_tokens_per_dollar])
def test_missing_priced_value_says_why(format_):
    nan = math.nan
    assert format_(nan, measured=False, rated=True) == fmt.NOT_MEASURED  # outside the arm's range
    assert format_(nan, measured=False, rated=False) == fmt.NOT_MEASURED  # out of range first: no price to miss
    assert format_(nan, measured=True, rated=False) == fmt.NO_RATE  # the cost table lacks the GPU
    assert format_(nan, measured=True, rated=True) == fmt.NOT_MEASURED  # the token type's throughput is absent
    assert format_(None, measured=True, rated=True) == fmt.NOT_MEASURED


def test_present_values():
    assert fmt.fmt_cost(0.17264) == "$0.173" and fmt.fmt_cost(12.345) == "$12.35"
    assert fmt.fmt_power(1446636.4) == "1,446,636" and fmt.fmt_tokens_per_dollar(2e6) == "2,000,000"
    assert fmt.fmt_seconds(math.nan) == fmt.NOT_MEASURED and fmt.fmt_concurrency(None) == fmt.NOT_MEASURED


@pytest.mark.parametrize("low, high, text", [(2.1, 3.4, "between 2.1× and 3.4×"),
                                             (0.36, 2.02, "between 0.36× and 2.0×"),
                                             (0.015, 123.0, "between 0.015× and 123×")])
def test_fmt_ratio_range(low, high, text):
    assert fmt.fmt_ratio_range(low, high) == text


@pytest.mark.parametrize("args, text", [
    ((115, "sparse", 70.39, 308.17), "70–308"), ((93, "measured", 73.2, 93.9), "at 94"),
    ((73.5, "measured", 73.2, 93.9), "at 73"), ((5.0, "interpolated", 4.56, 5.5), "4.6–5.5"),
    ((60, "sparse", None, 70.4), "70 (end)"), ((60, None, None, 70.4), "—"), ((1200, "interpolated", 1100, 1500),
                                                                            "1,100–1,500")])
def test_fmt_support(args, text):
    assert fmt.fmt_support(*args) == text


@pytest.mark.parametrize(("format_", "value", "shown"), [
    (fmt.fmt_cost, 4.2e-7, "$4.2e-07"), (fmt.fmt_cost, 0.0004, "$0.0004"), (fmt.fmt_cost, 0.0005, "$0.001"),
    (fmt.fmt_cost, 3e15, "$3e+15"), (fmt.fmt_tokens_per_dollar, 0.3, "0.3"), (fmt.fmt_power, 2e-5, "2e-05"),
    (fmt.fmt_throughput, 1e-3, "0.001"), (fmt.fmt_seconds, 1e-6, "1e-06 s"), (fmt.fmt_interactivity, 0.001, "0.001"),
])
def test_extreme_values_never_read_as_zero(format_, value, shown):
    """A non-zero value below the format's decimals keeps three significant digits (RELIABILITY.md §11)."""
    assert format_(value) == shown
