from __future__ import annotations

import pytest

from retrieval.core.statistics import percentile, spread


def test_percentile_interpolates_between_the_nearest_ranks() -> None:
    values = [10.0, 1.0, 4.0, 3.0, 2.0]  # order does not matter
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0  # the median
    assert percentile(values, 100) == 10.0
    assert percentile(values, 95) == pytest.approx(4.0 + 0.8 * 6.0)  # rank 3.8 of 0..4
    assert percentile([1.0, 2.0], 50) == 1.5


def test_percentile_of_nothing_or_one_value() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([7.0], 95) == 7.0


def test_spread_rounds_mean_min_and_max() -> None:
    assert spread([0.1, 0.2, 0.6]) == {"mean": 0.3, "min": 0.1, "max": 0.6}
    assert spread([1 / 3], ndigits=2) == {"mean": 0.33, "min": 0.33, "max": 0.33}
