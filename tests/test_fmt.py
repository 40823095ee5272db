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
