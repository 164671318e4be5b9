"""Benefit of a recommendation measured on the line, and the model's accuracy on recent batches (pure numpy/scipy).

- `uplift`: mean outcome of the batches run on the recommended settings minus the mean of the baseline period, with
  a Welch confidence interval, and how many more batches on the new settings would confirm the expected change at
  `confidence` with `power` (the report's trial plan uses the same normal approximation).
- `accuracy`: RMSE / MAE / bias of the residuals over the last `window` batches, against the cross-validated RMSE
  of the run, with a chi-square test of "the errors grew" (the residual variance above the CV one).
"""

from __future__ import annotations

import math

import numpy as np


def _clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def uplift(baseline, trials, *, expected: float | None = None, goal: str = "maximize",
           confidence: float = 0.95, power: float = 0.8) -> dict:
    """{trials, baseline_batches, baseline_mean, trial_mean, value, low, high, confidence, expected, confirmed,
    batches_needed, more_batches, verdict} — `more_batches` is None when no number of trial batches can confirm it
    (no expected change, or the baseline's own noise is too large); `verdict` is confirmed, collecting, or not_seen
    (as many batches as would confirm the expected change, yet the interval does not show it)."""
    from scipy.stats import norm, t as student

    b, r = _clean(baseline), _clean(trials)
    out = {"trials": int(len(r)), "baseline_batches": int(len(b)), "baseline_mean": _mean(b), "trial_mean": _mean(r),
           "value": None, "low": None, "high": None, "confidence": confidence, "expected": expected,
           "confirmed": False, "batches_needed": None, "more_batches": None, "verdict": "collecting"}
    if len(b) < 2 or len(r) < 1:
        return out
    sb2 = b.var(ddof=1)
    sr2 = r.var(ddof=1) if len(r) >= 2 else sb2  # one trial batch: assume the baseline's noise
    se = math.sqrt(sb2 / len(b) + sr2 / len(r))
    dof = _welch_dof(sb2, len(b), sr2, len(r)) if len(r) >= 2 else len(b) - 1
    q = student.ppf(0.5 + confidence / 2, max(dof, 1))
    value = float(r.mean() - b.mean())
    sign = 1 if goal == "maximize" else -1
    out.update(value=value, low=value - q * se, high=value + q * se)
    out["confirmed"] = bool(sign * (value - sign * q * se) > 0)
    target = expected if expected not in (None, 0) else (value if value * sign > 0 else None)
    if target is not None and sr2 > 0:
        need = (norm.ppf(0.5 + confidence / 2) + norm.ppf(power)) ** 2
        budget = target ** 2 / need - sb2 / len(b)  # room left for the trials' share of the variance
        if budget > 0:
            out["batches_needed"] = int(math.ceil(sr2 / budget))
            out["more_batches"] = max(0, out["batches_needed"] - len(r))
    if out["confirmed"]:
        out["more_batches"] = 0
    # confirmed | collecting (more batches would settle it) | not_seen (enough batches, no uplift shows)
    out["verdict"] = "confirmed" if out["confirmed"] else (
        "collecting" if out["more_batches"] is None or out["more_batches"] > 0 else "not_seen")
    return out


def _welch_dof(v1: float, n1: int, v2: float, n2: int) -> float:
    a, b = v1 / n1, v2 / n2
    den = (a * a / (n1 - 1) if n1 > 1 else 0) + (b * b / (n2 - 1) if n2 > 1 else 0)
    return (a + b) ** 2 / den if den > 0 else float(n1 + n2 - 2)


def _mean(x: np.ndarray) -> float | None:
    return float(x.mean()) if len(x) else None


def accuracy(residuals, cv_rmse: float | None, window: int = 50) -> dict:
    """Accuracy on the last `window` batches: {batches, rmse, mae, bias, cv_rmse, ratio, p_worse}."""
    from scipy.stats import chi2

    r = _clean(residuals)[-window:]
    out = {"batches": int(len(r)), "rmse": None, "mae": None, "bias": None, "cv_rmse": cv_rmse, "ratio": None,
           "p_worse": None}
    if not len(r):
        return out
    rmse = float(np.sqrt(np.mean(r ** 2)))
    out.update(rmse=rmse, mae=float(np.mean(np.abs(r))), bias=float(r.mean()))
    if cv_rmse:
        out["ratio"] = rmse / cv_rmse
        out["p_worse"] = float(chi2.sf(np.sum(r ** 2) / cv_rmse ** 2, len(r)))
    return out
