"""LightGBM with cross-validation (time-aware when there is time), SHAP importance and a fold ensemble."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error, mean_squared_error, r2_score, recall_score, \
    roc_auc_score
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

from engine.ml.frame import FeatureCoder


@dataclass
class ModelBundle:
    """The final model, the fold models (for intervals), and how to encode inputs."""

    target: str
    task: str
    coder: FeatureCoder
    final: lgb.Booster
    folds: list[lgb.Booster]
    classes: list = field(default_factory=list)
    residual_q: tuple[float, float] = (0.0, 0.0)  # out-of-fold residual quantiles (5%, 95%)

    @property
    def features(self) -> list[str]:
        return self.coder.features

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.final.predict(self.coder.transform(frame))

    def predict_folds(self, frame: pd.DataFrame) -> np.ndarray:
        x = self.coder.transform(frame)
        return np.vstack([m.predict(x) for m in self.folds])


def lgb_params(task: str, n_estimators: int, learning_rate: float, num_leaves: int, min_child_samples: int,
               seed: int, monotone: list[int] | None, cells: int = 0) -> dict:
    params = {"objective": "binary" if task == "classification" else "regression", "learning_rate": learning_rate,
              "num_leaves": num_leaves, "min_child_samples": min_child_samples, "n_estimators": n_estimators,
              "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "seed": seed, "deterministic": True,
              "force_row_wise": True, "num_threads": _threads(cells), "verbose": -1}
    if monotone and any(monotone):
        params["monotone_constraints"] = monotone
        params["monotone_constraints_method"] = "advanced"
    if task == "classification":
        params["is_unbalance"] = True
    return params


def _threads(cells: int) -> int:
    """One thread for small tables: OpenMP start-up and spin-waiting cost more than they save there, and
    badly so when other runs share the cores."""
    return 1 if cells < 500_000 else (os.cpu_count() or 1)


def fit_booster(x: pd.DataFrame, y: np.ndarray, params: dict, check: Callable[[], None] | None = None) -> lgb.Booster:
    """Train; `check()` runs every 25 rounds so that a cancel request stops a long fit (it raises)."""
    params = dict(params)
    rounds = params.pop("n_estimators")
    callbacks = [lambda env: check() if env.iteration % 25 == 0 else None] if check else None
    return lgb.train(params, lgb.Dataset(x, y, free_raw_data=True), num_boost_round=rounds, callbacks=callbacks)


def splits(n: int, folds: int, seed: int, order: np.ndarray | None, groups: np.ndarray | None,
           y: np.ndarray, task: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Time-ordered expanding-window folds when `order` is given; group or (stratified) shuffled K-fold otherwise."""
    if order is not None:
        ranked = np.argsort(order, kind="stable")
        edges = np.linspace(0, n, folds + 2).astype(int)[1:]
        return [(ranked[: edges[i]], ranked[edges[i]: edges[i + 1]]) for i in range(folds)]
    if groups is not None:
        return list(GroupKFold(n_splits=folds).split(np.zeros(n), y, groups))
    if task == "classification":
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), y))
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))


def fold_metrics(task: str, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    if task == "regression":
        return {"r2": r2_score(y, pred), "rmse": float(np.sqrt(mean_squared_error(y, pred))),
                "mae": mean_absolute_error(y, pred)}
    label = (pred >= 0.5).astype(int)
    bad = 0 if y.mean() >= 0.5 else 1  # the minority class is the one to catch
    auc = roc_auc_score(y, pred) if len(np.unique(y)) == 2 else float("nan")
    return {"auc": auc, "balanced_accuracy": balanced_accuracy_score(y, label),
            "recall_minority": recall_score(y, label, pos_label=bad, zero_division=0)}


def summarize(per_fold: list[dict[str, float]]) -> dict[str, dict]:
    """Each metric's mean, std and per-fold values: the spread is part of the number."""
    out = {}
    for name in per_fold[0]:
        values = np.array([float(f[name]) for f in per_fold])
        out[name] = {"mean": float(np.nanmean(values)), "std": float(np.nanstd(values)),
                     "folds": [round(float(v), 6) for v in values]}
    return out


def shap_importance(booster: lgb.Booster, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(mean |SHAP| per feature, direction +1/-1/0: does a higher value push the prediction up?)."""
    contrib = booster.predict(x, pred_contrib=True)[:, :-1]
    mean_abs = np.abs(contrib).mean(axis=0)
    direction = np.zeros(x.shape[1])
    for j, col in enumerate(x.columns):
        values = x[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            continue
        v = values.to_numpy(dtype=float)
        ok = ~np.isnan(v)
        if ok.sum() > 2 and np.std(v[ok]) > 0 and np.std(contrib[ok, j]) > 0:
            direction[j] = np.sign(np.corrcoef(v[ok], contrib[ok, j])[0, 1])
    return mean_abs, direction


def cross_validate(frame: pd.DataFrame, target: str, y: np.ndarray, task: str, coder: FeatureCoder, params: dict,
                   fold_idx: list, progress: Callable[[float, str], None]) -> dict:
    """Fit one model per fold; returns fold models, out-of-fold predictions, metrics and fold importances."""
    x = coder.transform(frame)
    oof = np.full(len(frame), np.nan)
    models, per_fold, importances, directions = [], [], [], []
    for k, (train, test) in enumerate(fold_idx):
        progress(k / (len(fold_idx) + 1), f"fold {k + 1}/{len(fold_idx)}")
        model = fit_booster(x.iloc[train], y[train], params,
                            check=lambda: progress(k / (len(fold_idx) + 1), f"fold {k + 1}/{len(fold_idx)}"))
        pred = model.predict(x.iloc[test])
        oof[test] = pred
        per_fold.append(fold_metrics(task, y[test], pred))
        imp, direc = shap_importance(model, x.iloc[test])
        importances.append(imp)
        directions.append(direc)
        models.append(model)
    return {"models": models, "oof": oof, "per_fold": per_fold, "importances": np.array(importances),
            "directions": np.array(directions)}
