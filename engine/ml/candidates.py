"""The model families the search compares, each able to fit on rows and be scored on the same folds.

- `lightgbm_default`: LightGBM at its library defaults (what a model engineer's ten lines would fit); always run.
- `lightgbm_tuned`: LightGBM whose settings an Optuna TPE study picks, the number of trees by early stopping on
  each inner validation fold, unpromising settings pruned after their first folds. From model.search@3 on, a
  regression's space also has piecewise-linear leaves (`linear_tree`, `linear_lambda`; see linear_allowed).
- `smooth`: a polynomial of degree 1-3 with a ridge penalty (logistic for pass/fail), engine/ml/smooth.py.
- `extra_trees`: scikit-learn's ExtraTrees (optional: only when asked for).
Expert monotone directions bind every LightGBM candidate; the smooth model cannot promise them and is skipped then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import r2_score, roc_auc_score

from engine.ml.lgbm import lgb_names
from engine.ml.smooth import ALPHAS, CLASSIFICATION_ALPHAS, fit_smooth, max_degree

CANDIDATES = ("lightgbm_default", "lightgbm_tuned", "smooth", "extra_trees")
DEFAULT_CANDIDATES = ["lightgbm_default", "lightgbm_tuned", "smooth"]
LABELS = {"lightgbm_default": ("LightGBM, library defaults", "LightGBM（库默认设置）"),
          "lightgbm_tuned": ("LightGBM, tuned (Optuna TPE)", "LightGBM（Optuna TPE 调参）"),
          "smooth": ("Smooth model (polynomial, penalised)", "平滑模型（带惩罚的多项式）"),
          "extra_trees": ("ExtraTrees", "极端随机树 ExtraTrees")}
MAX_TREES = 3000
PATIENCE = 50


class OutOfTime(Exception):
    """The search's deadline passed (checked between trials and folds)."""


@dataclass
class Setup:
    """What every candidate fit needs besides the rows."""

    task: str
    seed: int
    threads: int
    monotone: list[int] | None = None
    wide: bool = False              # many more columns than the rows can support: regularise, screen
    default_trees: int = 100        # the plain LightGBM row's trees and learning rate (a recipe may set them)
    default_rate: float = 0.1
    linear_leaves: bool = False     # model.search@3: the tuned LightGBM may choose piecewise-linear leaves (regression)
    features: int = 0               # columns the model sees (a linear leaf fits one coefficient per column)
    check: Callable[[], None] = field(default=lambda: None)   # raises to cancel


def score(task: str, y: np.ndarray, pred: np.ndarray) -> float:
    """The selection metric: R² (regression) or ROC AUC (classification); higher is better."""
    if task == "regression":
        return float(r2_score(y, pred))
    return float(roc_auc_score(y, pred)) if len(np.unique(y)) == 2 else float("nan")


# -- LightGBM ------------------------------------------------------------------------------------------------
def default_params(setup: Setup) -> dict:
    """LGBMRegressor() / LGBMClassifier() defaults, deterministic, with the expert's monotone directions."""
    params = {"objective": "binary" if setup.task == "classification" else "regression",
              "learning_rate": setup.default_rate, "num_leaves": 31, "min_child_samples": 20,
              "n_estimators": setup.default_trees, "seed": setup.seed,
              "deterministic": True, "force_row_wise": True, "num_threads": setup.threads, "verbose": -1}
    return _with_monotone(params, setup)


def _with_monotone(params: dict, setup: Setup) -> dict:
    if setup.monotone and any(setup.monotone):
        params.update(monotone_constraints=setup.monotone, monotone_constraints_method="advanced")
    return params


def tuned_params(trial, setup: Setup) -> dict:
    """One point of the search space (Optuna trial)."""
    params = {"objective": "binary" if setup.task == "classification" else "regression",
              "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
              "num_leaves": trial.suggest_int("num_leaves", 4, 128, log=True),
              "min_child_samples": trial.suggest_int("min_child_samples", 2, 100, log=True),
              "colsample_bytree": trial.suggest_float("colsample_bytree", 0.1 if setup.wide else 0.5, 1.0),
              "subsample": trial.suggest_float("subsample", 0.5, 1.0), "subsample_freq": 1,
              "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
              "max_bin": trial.suggest_categorical("max_bin", [255, 1023]),
              "seed": setup.seed, "deterministic": True, "force_row_wise": True, "num_threads": setup.threads,
              "verbose": -1}
    if setup.task == "classification":
        params["is_unbalance"] = trial.suggest_categorical("is_unbalance", [True, False])
    if linear_allowed(setup) and trial.suggest_categorical("linear_tree", [False, True]):
        params.update(linear_tree=True, linear_lambda=trial.suggest_float("linear_lambda", 0.01, 10.0, log=True))
        # a linear leaf fits a coefficient per column: it needs a few rows per coefficient (else it extrapolates
        # wildly between the rows it saw)
        params["min_child_samples"] = max(params["min_child_samples"], linear_leaf_rows(setup))
    return _with_monotone(params, setup)


def linear_leaf_rows(setup: Setup) -> int:
    """The fewest rows a linear leaf may hold: two per coefficient (the columns and the constant)."""
    return 2 * (setup.features + 1)


def linear_allowed(setup: Setup) -> bool:
    """Piecewise-linear leaves (LightGBM `linear_tree`) are in the tuned space for a regression on a table that is not
    wide and has no monotone directions (LightGBM does not hold the directions inside a linear leaf)."""
    return setup.linear_leaves and setup.task == "regression" and not setup.wide and not (
        setup.monotone and any(setup.monotone))


# good first guesses, tried before TPE proposes its own (small/slow/regularised corners of the space)
FIRST_GUESSES = [
    {"learning_rate": 0.03, "num_leaves": 31, "min_child_samples": 10, "colsample_bytree": 1.0, "subsample": 1.0,
     "reg_lambda": 0.001, "max_bin": 1023, "is_unbalance": False},
    {"learning_rate": 0.02, "num_leaves": 15, "min_child_samples": 2, "colsample_bytree": 0.8, "subsample": 0.8,
     "reg_lambda": 0.01, "max_bin": 255, "is_unbalance": False},
    {"learning_rate": 0.05, "num_leaves": 8, "min_child_samples": 30, "colsample_bytree": 0.5, "subsample": 0.8,
     "reg_lambda": 5.0, "max_bin": 255, "is_unbalance": True},
]
# with piecewise-linear leaves in the space (model.search@3): the subsampled, slow guess again with linear leaves and
# a moderate penalty on their coefficients (linear leaves without row/column subsampling overfit: each leaf's
# regression then sees the same rows every round); the guesses above are tried with constant leaves
LINEAR_GUESS = {**FIRST_GUESSES[1], "linear_tree": True, "linear_lambda": 1.0}


def first_guesses(setup: Setup) -> list[dict]:
    """The settings a study tries first, with only the keys its space has."""
    guesses = [dict(g) for g in FIRST_GUESSES]
    if linear_allowed(setup):
        guesses = [{**g, "linear_tree": False} for g in guesses] + [dict(LINEAR_GUESS)]
    return [{k: v for k, v in g.items() if setup.task == "classification" or k != "is_unbalance"} for g in guesses]


def fit_lgbm(x: pd.DataFrame, y: np.ndarray, params: dict, setup: Setup,
             valid: tuple[pd.DataFrame, np.ndarray] | None = None, stop_at: float | None = None) -> lgb.Booster:
    """Fit; with `valid`, up to MAX_TREES trees and early stopping on it (the number found is best_iteration).
    `stop_at` (time.monotonic()): a search trial's fit raises OutOfTime there (checked every 25 trees)."""
    params = dict(params)
    rounds = params.pop("n_estimators", MAX_TREES)
    names = lgb_names(x.columns)

    def check(env) -> None:
        if env.iteration % 25 == 0:
            setup.check()
            if stop_at is not None and time.monotonic() >= stop_at:
                raise OutOfTime()

    callbacks = [check]
    train = lgb.Dataset(x, y, feature_name=names, free_raw_data=True)
    sets = []
    if valid is not None:
        sets = [lgb.Dataset(valid[0], valid[1], feature_name=names, reference=train)]
        params["metric"] = "auc" if setup.task == "classification" else "l2"
        callbacks.append(lgb.early_stopping(PATIENCE, verbose=False))
        rounds = MAX_TREES
    return lgb.train(params, train, num_boost_round=rounds, valid_sets=sets, callbacks=callbacks)


def binned_dataset(x: pd.DataFrame, y: np.ndarray, params: dict) -> lgb.Dataset:
    """The whole table binned once (big tables: fold fits take row subsets of it instead of copying and binning their
    rows again, as LightGBM's own cv does; the bin edges come from the features, never the target)."""
    dataset_params = {k: v for k, v in params.items() if k != "n_estimators"}
    return lgb.Dataset(x, y, feature_name=lgb_names(x.columns), params=dataset_params, free_raw_data=True).construct()


def fit_binned(full: lgb.Dataset, rows: np.ndarray, params: dict, setup: Setup) -> lgb.Booster:
    """Fit on `rows` of a binned table (same params as it was binned with)."""
    params = dict(params)
    rounds = params.pop("n_estimators", MAX_TREES)

    def check(env) -> None:
        if env.iteration % 25 == 0:
            setup.check()
    train = full if len(rows) == full.num_data() else full.subset(np.sort(rows))
    return lgb.train(params, train, num_boost_round=rounds, callbacks=[check])


# -- smooth and ExtraTrees -------------------------------------------------------------------------------------
def smooth_grid(x: pd.DataFrame, rows: int, task: str) -> list[tuple[int, float]]:
    numeric = sum(1 for j in range(x.shape[1]) if not isinstance(x.iloc[:, j].dtype, pd.CategoricalDtype))
    alphas = ALPHAS if task == "regression" else CLASSIFICATION_ALPHAS
    return [(d, a) for d in range(1, max_degree(numeric, rows) + 1) for a in alphas]


def fit_smooth_model(x: pd.DataFrame, y: np.ndarray, settings: dict, setup: Setup):
    return fit_smooth(x, y, setup.task, settings["degree"], settings["penalty"])


@dataclass
class TreesModel:
    """ExtraTrees behind the same predict(encoded frame) as the others (a probability for classification)."""

    model: object
    task: str
    median: np.ndarray
    kind = "extra_trees"

    def predict(self, x) -> np.ndarray:
        m = _numeric_matrix(x)
        m = np.where(np.isnan(m), self.median, m)
        return self.model.predict(m) if self.task == "regression" else self.model.predict_proba(m)[:, 1]


def fit_extra_trees(x: pd.DataFrame, y: np.ndarray, settings: dict, setup: Setup) -> TreesModel:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    m = _numeric_matrix(x)
    median = np.nan_to_num(np.nanmedian(m, axis=0)) if len(m) else np.zeros(m.shape[1])
    cls = ExtraTreesRegressor if setup.task == "regression" else ExtraTreesClassifier
    extra = {} if setup.task == "regression" else {"class_weight": "balanced"}
    model = cls(n_estimators=settings["trees"], min_samples_leaf=settings["min_leaf"], max_features=1.0 if
                setup.task == "regression" else "sqrt", n_jobs=setup.threads, random_state=setup.seed, **extra)
    model.fit(np.where(np.isnan(m), median, m), y)
    return TreesModel(model, setup.task, median)


def _numeric_matrix(x) -> np.ndarray:
    if isinstance(x, pd.DataFrame):
        return np.column_stack([x.iloc[:, j].cat.codes.to_numpy(float) if isinstance(x.iloc[:, j].dtype,
                                pd.CategoricalDtype) else x.iloc[:, j].to_numpy(float) for j in range(x.shape[1])])
    return np.asarray(x, dtype=float)
