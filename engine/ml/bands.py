"""The 90 % outcome band of one prediction: the single definition used by the recommendation, the what-if, the
trials, the history and the report, so one run shows one interval everywhere."""

from __future__ import annotations

import math
from typing import Sequence


def containing(value: float, low: float, high: float) -> tuple[float, float]:
    """(low, high) widened to hold `value`: clipping to the observed range, or the 0/1 residual quantiles of a
    classifier, must not leave a prediction outside its own band."""
    return min(value, low), max(value, high)


def outcome_band(value: float, residual_q: Sequence[float], observed_range: Sequence[float] | None = None) -> dict:
    """{value, low, high}: value + out-of-fold residual quantiles (5 %, 95 %), clipped to the target's observed
    range (a band below zero strength helps nobody), then widened to hold the value itself."""
    lo_obs, hi_obs = observed_range or (-math.inf, math.inf)
    q_lo, q_hi = residual_q
    low = min(max(value + q_lo, lo_obs), hi_obs)
    high = min(max(value + q_hi, lo_obs), hi_obs)
    low, high = containing(value, low, high)
    return {"value": float(value), "low": float(low), "high": float(high)}
