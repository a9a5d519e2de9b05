"""Summary statistics, said once, so "p95" means the same in every report (evaluation, benchmarks, metrics)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (p from 0 to 100) of values, 0.0 when there are none.

    Linear interpolation between the two nearest ranks: numpy's default method ("linear", Hyndman and Fan's
    type 7, the same as spreadsheets' PERCENTILE.INC), so p50 is the median and p100 the largest value.
    """
    if not values:
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=np.float64), p, method="linear"))


def spread(values: Sequence[float], ndigits: int = 4) -> dict[str, float]:
    """Mean, smallest and largest of values (not empty), rounded: how a figure varies over folds or seeds."""
    return {
        "mean": round(statistics.fmean(values), ndigits),
        "min": round(min(values), ndigits),
        "max": round(max(values), ndigits),
    }
