"""A smooth additive model of a pass/fail outcome for wide, few-row tables (SECOM-shaped: ~1,500 units × ~600
sensors, a few % failures, many missing values), to average with the shallow LightGBM of model.lightgbm_cv@3.

Why: with ~100 failures, trees split on chance among hundreds of columns, while a quality that is a sum of smooth
effects of a few settings (saturating ramps, optima) is learnt from few rows by a penalised additive model. The
model, fitted on training rows only (so inside each cross-validation fold the screening never sees the test rows):
1. numeric columns, missing values → the training median, standardised, clipped at ±4 standard deviations;
2. screening: each column's score test (Rao) of adding z, z², z³ to an intercept-only logistic model — a ramp, an
   optimum or a step all score, in one vectorised pass; the `shortlist` best columns are kept;
3. a cubic B-spline basis of each kept column (5 knots at its quantiles), then an L2-penalised logistic regression
   (C fixed, classes balanced like LightGBM's `is_unbalance`, so both give probabilities on the same scale).
Everything is fixed beforehand (no settings chosen on the data), so the cross-validated figure of the average is
not a best-of-N score. Pure numpy/scikit-learn; deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import SplineTransformer
from threadpoolctl import threadpool_limits

from engine.ml.lgbm import ModelBundle, _threads, fit_booster, fold_metrics

SHORTLIST = 90      # most columns kept by the screening (measured 60/70/90/110/130 on three simulated tables) ...
ROWS_PER_COLUMN = 14  # ... and at most one per this many training rows (7 spline terms each: ~rows / 2 terms)
PENALTY_C = 0.03    # inverse L2 penalty of the logistic regression on the spline basis
KNOTS = 5
CLIP = 4.0
WEIGHT = 0.5        # the additive model's share in the average with LightGBM's probability


@dataclass
class AdditiveModel:
    """Screened columns (names), their imputation and scaling, the spline basis and the logistic fit."""

    columns: list[str]
    median: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    splines: SplineTransformer
    logistic: LogisticRegression
    scores: np.ndarray          # the screening score of each kept column (same order)

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """Probability of the positive class (balanced scale) for an encoded frame holding the columns."""
        z = _standardise(x[self.columns].to_numpy(dtype=float), self.median, self.mean, self.scale)
        with threadpool_limits(1):
            return self.logistic.predict_proba(self.splines.transform(z))[:, 1]


def numeric_columns(x: pd.DataFrame) -> list[str]:
    return [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c])]


def fit_additive(x: pd.DataFrame, y: np.ndarray, shortlist: int = SHORTLIST, c: float = PENALTY_C,
                 seed: int = 0) -> AdditiveModel | None:
    """Screen and fit on these rows only; None when no numeric column varies or the rows hold one class (an early
    time-ordered fold without failures: the trees alone predict there). One BLAS thread: on this size the
    threads' start-up and spin-waiting cost more than they save (1.0 s → 0.16 s per fit on 1,567 × 590 on the
    2-core machine; worse when other work shares the cores), and the result does not depend on the machine."""
    if len(np.unique(y)) < 2:
        return None
    with threadpool_limits(1):
        return _fit(x, y, shortlist, c, seed)


def _fit(x: pd.DataFrame, y: np.ndarray, shortlist: int, c: float, seed: int) -> AdditiveModel | None:
    names = numeric_columns(x)
    if not names:
        return None
    raw = x[names].to_numpy(dtype=float)
    present = ~np.isnan(raw).all(axis=0)
    median = np.zeros(raw.shape[1])
    median[present] = np.nanmedian(raw[:, present], axis=0)
    filled = np.where(np.isnan(raw), median, raw)
    mean, scale = filled.mean(axis=0), filled.std(axis=0)
    varies = scale > 1e-12
    if not varies.any():
        return None
    z = _standardise(raw, median, mean, np.where(varies, scale, 1.0))
    scores = np.where(varies, score_test(z, y), -np.inf)
    keep = np.argsort(-scores, kind="stable")[: min(shortlist, max(5, len(y) // ROWS_PER_COLUMN), int(varies.sum()))]
    z_kept = z[:, keep]
    splines = SplineTransformer(n_knots=KNOTS, degree=3, knots=_knots(z_kept), extrapolation="constant")
    basis = splines.fit_transform(z_kept)
    logistic = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed).fit(basis, y)
    return AdditiveModel([names[j] for j in keep], median[keep], mean[keep], scale[keep], splines, logistic,
                         scores[keep])


def score_test(z: np.ndarray, y: np.ndarray, degree: int = 3) -> np.ndarray:
    """Per column: the score statistic U'I⁻¹U of adding z, z², …, z^degree to an intercept-only logistic model
    (χ² with `degree` degrees of freedom under no effect). Vectorised over columns."""
    y = np.asarray(y, dtype=float)
    p = y.mean()
    powers = np.stack([z ** k for k in range(1, degree + 1)], axis=2)        # rows × columns × degree
    powers -= powers.mean(axis=0, keepdims=True)
    u = np.einsum("n,npd->pd", y - p, powers)
    info = p * (1 - p) * np.einsum("npd,npe->pde", powers, powers) + 1e-9 * np.eye(degree)
    return np.einsum("pd,pd->p", u, np.linalg.solve(info, u[:, :, None])[:, :, 0])


def _standardise(raw: np.ndarray, median: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    filled = np.where(np.isnan(raw), median, raw)
    return np.clip((filled - mean) / scale, -CLIP, CLIP)


def _knots(z: np.ndarray) -> np.ndarray:
    """Knots at each column's quantiles; a column with tied quantiles (few distinct values) gets evenly spaced knots
    over its range instead (SplineTransformer needs strictly increasing knots per column)."""
    knots = np.quantile(z, np.linspace(0, 1, KNOTS), axis=0)                  # knots × columns
    for j in range(z.shape[1]):
        if np.any(np.diff(knots[:, j]) <= 1e-9):
            lo, hi = float(z[:, j].min()), float(z[:, j].max())
            knots[:, j] = np.linspace(lo, hi if hi > lo else lo + 1.0, KNOTS)
    return knots


# -- the average with LightGBM, fold by fold --------------------------------------------------------------------
@dataclass
class BlendBundle(ModelBundle):
    """A ModelBundle whose predictions average the LightGBM booster(s) with additive models (`final` and `folds`
    stay the boosters: SHAP importance, fold spreads and saving see LightGBM; `predict` gives the average)."""

    additive: AdditiveModel | None = None
    fold_additive: list = field(default_factory=list)
    weight: float = WEIGHT

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        x = self.coder.transform(frame)
        return average(self.final.predict(x), self.additive, x, self.weight)

    def predict_folds(self, frame: pd.DataFrame) -> np.ndarray:
        x = self.coder.transform(frame)
        return np.vstack([average(m.predict(x), a, x, self.weight) for m, a in zip(self.folds, self.fold_additive)])


def average(trees: np.ndarray, additive: AdditiveModel | None, x: pd.DataFrame, weight: float = WEIGHT) -> np.ndarray:
    return trees if additive is None else weight * additive.predict(x) + (1 - weight) * trees


def blend_folds(x: pd.DataFrame, y: np.ndarray, fold_idx: list, cv: dict, params: dict, seed: int,
                tune_threshold: bool) -> dict:
    """Per outer fold: the additive model screened and fitted on the fold's training rows, averaged with the fold's
    LightGBM prediction; the fold's cut chosen on its training rows only (inner CV of the average) when
    `tune_threshold`, else 0.5 (both models weigh the classes equally, so 0.5 is the balanced cut). Rewrites cv's
    out-of-fold predictions, per-fold metrics and thresholds; returns the fold models and each model's own AUC."""
    own = {"lightgbm": [], "additive": []}
    models, per_fold, cuts = [], [], []
    for (train, test), booster in zip(fold_idx, cv["models"]):
        additive = fit_additive(x.iloc[train], y[train], seed=seed)
        trees = cv["oof"][test]
        pred = average(trees, additive, x.iloc[test])
        cut = blend_threshold(x.iloc[train], y[train], params, seed) if tune_threshold else 0.5
        cv["oof"][test] = pred
        own["lightgbm"].append(_auc(y[test], trees))
        own["additive"].append(_auc(y[test], additive.predict(x.iloc[test])) if additive else float("nan"))
        models.append(additive)
        per_fold.append(class_metrics(y[test], pred, cut))
        cuts.append(cut)
    cv["per_fold"], cv["thresholds"] = per_fold, cuts
    return {"fold_additive": models,
            "models": {name: {"mean": round(float(np.nanmean(v)), 6), "std": round(float(np.nanstd(v)), 6)}
                       for name, v in own.items()}}


def class_metrics(y: np.ndarray, pred: np.ndarray, cut: float) -> dict[str, float]:
    """fold_metrics' AUC, balanced accuracy and recall of the rare class, plus its precision and F1 at the cut."""
    out = fold_metrics("classification", y, pred, cut)
    label = (pred >= cut).astype(int)
    bad = 0 if y.mean() >= 0.5 else 1
    out["precision_minority"] = precision_score(y, label, pos_label=bad, zero_division=0)
    out["f1_minority"] = f1_score(y, label, pos_label=bad, zero_division=0)
    return out


def blend_threshold(x: pd.DataFrame, y: np.ndarray, params: dict, seed: int, folds: int = 3) -> float:
    """inner_threshold for the average: the cut maximising balanced accuracy on out-of-fold predictions of the
    average (LightGBM and the additive model both refitted inside) of these rows only. The inner fits take their
    threads by their own size (lgbm._threads: one below 750k cells): 1,045 × 580 on one thread, where two threads
    sharing the 2-core machine with other work made the 18 inner fits of the SECOM-shaped table 2-5× slower."""
    counts = np.bincount(y.astype(int), minlength=2)
    if counts.min() < 2 * folds:
        return 0.5
    oof = np.empty(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        inner = {**params, "num_threads": _threads(len(train) * x.shape[1])}   # the studio's size rule, per fit
        trees = fit_booster(x.iloc[train], y[train], inner).predict(x.iloc[test])
        oof[test] = average(trees, fit_additive(x.iloc[train], y[train], seed=seed), x.iloc[test])
    grid = np.unique(np.quantile(oof, np.linspace(0.0, 1.0, 101)))
    scores = [balanced_accuracy_score(y, (oof >= t).astype(int)) for t in grid]
    return float(grid[int(np.argmax(scores))])


def _auc(y: np.ndarray, pred: np.ndarray) -> float:
    return float(roc_auc_score(y, pred)) if len(np.unique(y)) == 2 else float("nan")


def wide_blend(x: pd.DataFrame, y: np.ndarray, fold_idx: list, cv: dict, params: dict, seed: int,
               tune_threshold: bool = False) -> dict:
    """train_cv's `blend` hook (model.lightgbm_cv@3): the folds averaged (blend_folds), the additive model of all
    rows for the final bundle, and the final cut (inner CV of the average on all rows, or 0.5)."""
    folds = blend_folds(x, y, fold_idx, cv, params, seed, tune_threshold)
    additive = fit_additive(x, y, seed=seed)
    cut = blend_threshold(x, y, params, seed) if tune_threshold else 0.5

    def bundle(plain: ModelBundle) -> BlendBundle:
        fields = {k: getattr(plain, k) for k in plain.__dataclass_fields__}
        return BlendBundle(**fields, additive=additive, fold_additive=folds["fold_additive"])

    models = {**folds["models"], "average": {"weight_additive": WEIGHT,
                                               "shortlist": len(additive.columns) if additive else 0,
                                               "shortlist_stability": _stability(additive, folds["fold_additive"])}}
    chosen_by = ("inner cross-validation of the average on training rows (balanced accuracy)" if tune_threshold
                 else "fixed at 0.5")
    return {"bundle": bundle, "cut": cut, "models": models, "chosen_by": chosen_by}


def _stability(final: AdditiveModel | None, folds: list) -> float | None:
    """Mean share of the final shortlist that each fold's own screening also kept (1: the same columns)."""
    if final is None or not folds or any(f is None for f in folds):
        return None
    kept = set(final.columns)
    return round(float(np.mean([len(kept & set(f.columns)) / len(kept) for f in folds])), 3)
