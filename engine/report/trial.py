"""How many batches confirm an expected change: a two-sample power calculation (normal approximation)."""

from __future__ import annotations

import math
from statistics import NormalDist


def batches_per_arm(delta: float, sigma: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """n per arm for a two-sided two-sample comparison of means: n = 2 (z₁₋α/₂ + z₁₋β)² σ² / δ².
    None when the change is zero or the noise unknown."""
    if not delta or not sigma or not math.isfinite(delta) or not math.isfinite(sigma):
        return None
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return max(2, math.ceil(2 * (z * sigma / abs(delta)) ** 2))
