"""Model costs that do not grow with the table for no gain (issue 21).

On a big table the model search's choices — which family, which settings — are made on a sample: each inner search
(the one inside every outer fold, and the final one) runs on at most `SEARCH_ROWS` of its rows, spread evenly
along time (or along the target), so the nested cross-validation costs a few small fits per fold, not 3 × the
plain fit. The outer folds still refit the pick (and the default LightGBM, the plain baseline) on ALL their
training rows and score ALL their test rows: the reported figures are those of full-size models. SHAP importance
and the curves are computed on at most `EXPLAIN_ROWS` test rows in all. When the run trains on a sample of the
bound table (over the memory budget), a learning curve — the default LightGBM's score on one outer fold's test
rows against the training rows used — shows whether more rows would help.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

SEARCH_ROWS = 50_000      # rows an inner search (family and settings) sees at most
EXPLAIN_ROWS = 20_000     # test rows (over all folds) for SHAP importance and sensitivities
BIG_ROWS = 100_000        # from here, an outer fold refits only the pick and the default LightGBM
CURVE_SHARES = (0.125, 0.25, 0.5)   # of an outer fold's training rows (1.0 is that fold's own refit)


def is_big(rows: int) -> bool:
    return rows >= BIG_ROWS


def spread(rows: np.ndarray, cap: int, key: np.ndarray | None) -> np.ndarray:
    """At most `cap` of `rows` (positions), evenly spaced along `key` (time or target) — a stratified sample —
    or along their own order; returned in the order of `rows` (ascending positions keep a time order)."""
    if len(rows) <= cap:
        return rows
    ranked = rows[np.argsort(key[rows], kind="stable")] if key is not None else rows
    picked = ranked[np.linspace(0, len(ranked) - 1, cap).round().astype(int)]
    return np.sort(picked)


def explain_rows(tests: list[np.ndarray], seed: int, cap: int | None = None) -> list[np.ndarray]:
    """Each fold's test rows cut to an equal share of `cap` (default EXPLAIN_ROWS; random, seeded)."""
    cap = EXPLAIN_ROWS if cap is None else cap
    share = max(cap // max(len(tests), 1), 1)
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(t, share, replace=False)) if len(t) > share else t for t in tests]


def learning_curve(fit_score: Callable[[np.ndarray], float], train: np.ndarray, key: np.ndarray | None,
                   full_score: float | None, metric: str, rows_total: int | None,
                   shares=CURVE_SHARES) -> dict:
    """Score against training rows used: `fit_score(rows)` fits the default model on `rows` and scores it on one
    fixed outer fold's test rows; the last point is that fold's own refit (`full_score`, no extra fit)."""
    points = []
    for share in shares:
        rows = spread(train, max(int(len(train) * share), 50), key)
        t = time.perf_counter()
        points.append({"rows": int(len(rows)), "mean": float(fit_score(rows)), "metric": metric,
                       "seconds": round(time.perf_counter() - t, 3)})
    if full_score is not None:
        points.append({"rows": int(len(train)), "mean": float(full_score), "metric": metric})
    gain = points[-1]["mean"] - points[-2]["mean"] if len(points) > 1 else 0.0
    return {"points": points, "metric": metric, "fold": 1, "rows_total": rows_total,
            "last_doubling_gain": round(float(gain), 6), "verdict": verdict(gain, metric)}


def verdict(gain: float, metric: str) -> dict:
    """Plain words for the last doubling of rows: still rising (more rows would help) or flat."""
    if gain > 0.005:
        return {"more_rows_help": True,
                "en": f"the last doubling of rows still raised {metric} by {gain:.3f}: more rows would likely help "
                      "(raise the memory budget, or bind a larger machine's data factory)",
                "zh": f"最近一次行数翻倍仍使 {metric} 提高了 {gain:.3f}：更多数据很可能有帮助（可调高内存预算，或在更大的机器上运行）"}
    return {"more_rows_help": False,
            "en": f"the last doubling of rows changed {metric} by {gain:+.3f}: the curve is flat, more rows would "
                  "add little",
            "zh": f"最近一次行数翻倍使 {metric} 变化 {gain:+.3f}：曲线已平，更多数据帮助不大"}


def final_from_folds(rows: int, time_ordered: bool, family: str, fold_models: list):
    """A big table's final model when the folds are not time-ordered: the default LightGBM of the last outer fold,
    already fitted on (K-1)/K of the rows with the same settings — refitting on every row would cost another
    1.25 fold fits for a quarter more rows of a table whose learning curve is flat by then. With time-ordered folds
    the last fold never saw the newest rows, so the final model is refitted on every row as usual (None)."""
    if not is_big(rows) or time_ordered or family != "lightgbm_default":
        return None
    return fold_models[-1]


def refit_seconds(fit_seconds: float, train_rows: int, inner_folds: int) -> float:
    """A pick's refit time on `train_rows`, from its fit time in the search (on a sample: fit time grows ~ rows)."""
    searched = min(train_rows, SEARCH_ROWS) * (inner_folds - 1) / inner_folds
    return fit_seconds * train_rows / max(searched, 1.0)
