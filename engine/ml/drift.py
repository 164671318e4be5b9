"""Input drift of a parameter against its training data, over a sliding window of recent batches.

A drift test on a small window cries wolf when it is read like a large one: a PSI of 0.25 ("significant") is what
30 batches drawn from the very training distribution give on average with 10 bins, and ten columns tested every
batch at p < 0.05 raise an alarm every few batches. So:
- the KS statistic of each window is compared with its exact small-sample distribution (`scipy.stats.kstwo`, with the
  effective size n·m/(n+m) of a two-sample test), and PSI with its chi-square null distribution
  (PSI ≈ (1/n + 1/m)·chi²(bins − 1) when nothing moved; at most window/5 bins and half a count added to each, so
  the law holds on 20 batches) — never with a fixed threshold;
- the significance level is divided by the number of columns tested (Bonferroni) and is small per window (default
  1e-4), because overlapping windows are tested at every batch;
- no test before `min_window` values are in the window.
Vectorised: every window of every batch at once (sorted windows, one searchsorted into the sorted training values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.i18n import Msg

METHODS = ("ks", "psi")


@dataclass(frozen=True)
class DriftSettings:
    method: str = "ks"
    window: int = 20            # batches per window
    min_window: int = 10        # no test on fewer values
    alpha: float = 1e-4         # family-wise level per window, divided among the columns tested
    bins: int = 10              # PSI bins (training quantiles), at most window / 5 of them


DEFAULT_DRIFT = DriftSettings()


def _windows(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions of the observed values, padded windows (NaN where short), window sizes) for every observed value."""
    where = np.flatnonzero(np.isfinite(values))
    obs = values[where]
    padded = np.concatenate([np.full(window - 1, np.nan), obs])
    wins = np.lib.stride_tricks.sliding_window_view(padded, window)
    sizes = np.minimum(np.arange(1, len(obs) + 1), window)
    return where, wins, sizes


def ks_windows(reference: np.ndarray, values: np.ndarray, settings: DriftSettings = DEFAULT_DRIFT,
               threshold: float | None = None):
    """KS statistic of the window ending at each observed batch (NaN before min_window) and its p-value — computed
    exactly (kstwo) only where the statistic passes the critical value of `threshold` and at the last batch: the
    exact small-sample distribution costs about a millisecond per call."""
    from scipy.stats import kstwo

    ref = np.sort(np.asarray(reference, dtype=float)[np.isfinite(reference)])
    values = np.asarray(values, dtype=float)
    stat, pval = np.full(len(values), np.nan), np.full(len(values), np.nan)
    if len(ref) < 2 or not np.isfinite(values).any():
        return stat, pval
    where, wins, sizes = _windows(values, settings.window)
    w = np.sort(wins, axis=1)  # NaN sort last; the first `size` entries are the window's values
    cdf_right = np.searchsorted(ref, w, side="right") / len(ref)
    cdf_left = np.searchsorted(ref, w, side="left") / len(ref)
    j = np.arange(1, settings.window + 1)[None, :]
    valid = j <= sizes[:, None]
    d_plus = np.where(valid, j / sizes[:, None] - cdf_right, -np.inf).max(axis=1)
    d_minus = np.where(valid, cdf_left - (j - 1) / sizes[:, None], -np.inf).max(axis=1)
    d = np.clip(np.maximum(d_plus, d_minus), 0, 1)
    n_eff = np.maximum(1, np.round(sizes * len(ref) / (sizes + len(ref)))).astype(int)
    enough = sizes >= settings.min_window
    crit = np.full(len(d), np.inf)
    if threshold is not None:
        for n in np.unique(n_eff[enough]):
            crit[n_eff == n] = kstwo.isf(threshold, n)
    exact = enough & (d >= crit)
    exact[np.flatnonzero(enough)[-1:]] = True
    p = np.full(len(d), np.nan)
    p[exact] = kstwo.sf(d[exact], n_eff[exact])
    stat[where[enough]], pval[where[enough]] = d[enough], p[enough]
    return stat, pval


def psi_windows(reference: np.ndarray, values: np.ndarray, settings: DriftSettings = DEFAULT_DRIFT):
    """Population stability index of each window against the training data, and its small-window p-value."""
    from scipy.stats import chi2

    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    values = np.asarray(values, dtype=float)
    stat, pval = np.full(len(values), np.nan), np.full(len(values), np.nan)
    n_bins = max(2, min(settings.bins, settings.window // 5))  # >= 5 expected per bin: the chi-square law holds
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1])) if len(ref) else []
    if len(ref) < 2 or len(edges) == 0:
        return stat, pval
    bins = len(edges) + 1
    expected = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=bins) / len(ref)
    where, wins, sizes = _windows(values, settings.window)
    codes = np.where(np.isfinite(wins), np.searchsorted(edges, np.nan_to_num(wins), side="right"), -1)
    counts = np.stack([(codes == b).sum(axis=1) for b in range(bins)], axis=1)
    actual = (counts + 0.5) / (sizes[:, None] + bins * 0.5)  # half a count: an empty bin does not make PSI explode
    exp = np.clip(expected, 0.5 / len(ref), None)[None, :]
    psi = ((actual - exp) * np.log(actual / exp)).sum(axis=1)
    scale = 1 / sizes + 1 / len(ref)
    p = chi2.sf(psi / scale, bins - 1)
    enough = sizes >= settings.min_window
    stat[where[enough]], pval[where[enough]] = psi[enough], p[enough]
    return stat, pval


def drift(reference: np.ndarray, values: np.ndarray, n_columns: int = 1,
          settings: DriftSettings = DEFAULT_DRIFT) -> dict:
    """{"stat", "p", "flags", "threshold"} of one column: flagged where p < alpha / n_columns."""
    if settings.method not in METHODS:
        raise ValueError(Msg(f"unknown drift method {settings.method!r}; known: {list(METHODS)}",
                             f"未知的漂移检验方法 {settings.method!r}；可用：{list(METHODS)}"))
    threshold = settings.alpha / max(1, n_columns)
    stat, p = (ks_windows(reference, values, settings, threshold) if settings.method == "ks"
               else psi_windows(reference, values, settings))
    return {"stat": stat, "p": p, "flags": np.isfinite(p) & (p < threshold), "threshold": threshold}
