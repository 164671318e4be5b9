"""LightGBM with cross-validation (time-aware when there is time), SHAP importance and a fold ensemble."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, mean_absolute_error, mean_squared_error, r2_score, recall_score, \
    roc_auc_score
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

from engine.core import compute
from engine.core.i18n import Msg
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
    threshold: float = 0.5  # classification: probability from which a unit is called positive (inner CV)
    schema: dict = field(default_factory=dict)  # feature -> {kind, min, max} of the training rows (scoring checks)
    prep: list = field(default_factory=list)  # how features derive from raw columns at scoring time (e.g. windows)
    # models applied beside this one at scoring time, each adding its own '<target>_prediction' columns (e.g. the
    # energy template's output model, whose demand constraint the recommendation keeps): name -> ModelBundle
    companions: dict = field(default_factory=dict)

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
    """One thread unless the table is large: OpenMP start-up and spin-waiting cost more than they save on small
    tables (on a quiet 2-core machine two threads made the 1,500 × 30 key-parameter fits 3× slower) and badly so
    when other runs share the cores (two threads ran a 2,000 × 300 fit 4× slower than one on a busy machine); from
    about 750k cells they pay (the 1,500 × 600 screening: 15.4 s → 8.5 s, bench/bench_yield.py). A fixed rule, not
    the machine's load: the same table must give the same model. AI_STUDIO_THREADS overrides (1 on a shared machine)."""
    override = os.environ.get("AI_STUDIO_THREADS", "").strip()
    if override.isdigit() and int(override) > 0:
        return int(override)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if cells < 750_000 else cores


def fit_booster(x: pd.DataFrame, y: np.ndarray, params: dict, check: Callable[[], None] | None = None,
                within: Callable[[float], None] | None = None) -> lgb.Booster:
    """Train; `check()` (or `within(share of the rounds done)`, which also reports how far the fit is) runs every
    25 rounds so that a cancel request stops a long fit (it raises)."""
    params = dict(params)
    rounds = params.pop("n_estimators")
    if within is not None:
        callbacks = [lambda env: within(env.iteration / max(rounds, 1)) if env.iteration % 25 == 0 else None]
    else:
        callbacks = [lambda env: check() if env.iteration % 25 == 0 else None] if check else None
    data = lgb.Dataset(x, y, feature_name=lgb_names(x.columns), free_raw_data=True)
    return lgb.train(params, data, num_boost_round=rounds, callbacks=callbacks)


def lgb_names(columns) -> list[str]:
    """Column names LightGBM accepts: it refuses JSON special characters, which plant exports are full of
    ("Torque [Nm]", "T:zone,3"). Position i of the booster is still column i of the coder's features."""
    names, seen = [], set()
    for i, col in enumerate(columns):
        name = re.sub(r'[\[\]{}":,]', "_", str(col)) or f"column_{i}"
        name = name if name not in seen else f"{name}__{i}"
        seen.add(name)
        names.append(name)
    return names


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


def fold_metrics(task: str, y: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    if task == "regression":
        return {"r2": r2_score(y, pred), "rmse": float(np.sqrt(mean_squared_error(y, pred))),
                "mae": mean_absolute_error(y, pred)}
    label = (pred >= threshold).astype(int)
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


def inner_threshold(x: pd.DataFrame, y: np.ndarray, params: dict, seed: int, folds: int = 3) -> float:
    """The probability cut maximising balanced accuracy on out-of-fold predictions of these rows only.

    With a rare bad class 0.5 is seldom the best cut; choosing it on the test fold would flatter the metrics, so
    each fold chooses it by an inner cross-validation of its own training rows (and the final model on all rows)."""
    counts = np.bincount(y.astype(int), minlength=2)
    if counts.min() < 2 * folds:
        return 0.5
    oof = np.empty(len(y))
    inner = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    for train, test in inner:
        oof[test] = fit_booster(x.iloc[train], y[train], params).predict(x.iloc[test])
    grid = np.unique(np.quantile(oof, np.linspace(0.0, 1.0, 101)))
    scores = [balanced_accuracy_score(y, (oof >= t).astype(int)) for t in grid]
    return float(grid[int(np.argmax(scores))])


def cross_validate(frame: pd.DataFrame, target: str, y: np.ndarray, task: str, coder: FeatureCoder, params: dict,
                   fold_idx: list, progress: Callable[[float, str], None], tune_threshold: bool = False) -> dict:
    """Fit one model per fold; returns fold models, out-of-fold predictions, metrics, fold importances and (for
    classification) each fold's decision threshold, chosen on its training rows only. The folds are tasks
    (engine.core.compute): one after the other here, side by side on a Dask cluster when the run opened one."""
    x = coder.transform(frame)
    k_all = len(fold_idx)

    def label(k: int) -> Msg:
        return Msg(f"fold {k + 1}/{k_all}", f"第 {k + 1}/{k_all} 折")

    def here(k: int) -> dict:  # the bar moves inside the fold (and a cancel stops it) when the fold runs here
        progress(k / (k_all + 1), label(k))
        return {"within": lambda share: progress((k + share) / (k_all + 1), label(k))}

    shown = [0.0, Msg(f"{k_all} folds on the cluster", f"{k_all} 折在集群上计算")]  # the last report (a cluster)

    def done(n: int, total: int) -> None:
        shown[:] = [n / (total + 1), Msg(f"folds done {n}/{total}", f"已完成 {n}/{total} 折")]
        progress(*shown)
    task_fn = partial(fit_fold, task=task, params=params, tune_threshold=tune_threshold)
    on_cluster = compute.active() is not None
    folds = compute.map_tasks(task_fn, fold_idx, shared={"x": x, "y": y}, local_extra=here,
                              on_done=done if on_cluster else None,
                              check=(lambda: progress(*shown)) if on_cluster else None)  # a cancel takes effect
    oof = np.full(len(frame), np.nan)
    for (_, test), fold in zip(fold_idx, folds):
        oof[test] = fold["pred"]
    return {"models": [f["model"] for f in folds], "oof": oof, "per_fold": [f["metrics"] for f in folds],
            "importances": np.array([f["importance"] for f in folds]),
            "directions": np.array([f["direction"] for f in folds]), "thresholds": [f["cut"] for f in folds]}


def fit_fold(fold: tuple[np.ndarray, np.ndarray], x: pd.DataFrame, y: np.ndarray, task: str, params: dict,
             tune_threshold: bool, within: Callable[[float], None] | None = None, explain: bool = True) -> dict:
    """One cross-validation fold (a task: runs here or on a cluster worker, with the worker's own threads);
    `explain=False` skips the SHAP importance (bench/bench_cluster.py times the fits alone)."""
    train, test = fold
    if compute.in_worker():
        params = {**params, "num_threads": compute.worker_threads(params.get("num_threads", 1))}
    model = fit_booster(x.iloc[train], y[train], params, within=within)
    pred = model.predict(x.iloc[test])
    cut = inner_threshold(x.iloc[train], y[train], params, params.get("seed", 0)) \
        if task == "classification" and tune_threshold else 0.5
    importance, direction = shap_importance(model, x.iloc[test]) if explain else (None, None)
    return {"model": model, "pred": pred, "cut": cut, "metrics": fold_metrics(task, y[test], pred, cut),
            "importance": importance, "direction": direction}
