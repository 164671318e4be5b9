"""The pieces of a model search that run as tasks — one inner fold of a family with fixed settings, one inner fold
of a tuned trial — here or on a Dask worker (engine.core.compute), and the plain fit they share. They take plain
arrays and settings, never the search's state, so they pickle to a worker and back."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from engine.core import compute
from engine.ml import candidates as cand
from engine.ml.bagging import merge_boosters


def fit_rows(x_all: pd.DataFrame, y_all: np.ndarray, family: str, settings: dict, setup: cand.Setup,
              rows: np.ndarray):
    x, y = x_all.iloc[rows], y_all[rows]
    if family == "lightgbm_default":
        return cand.fit_lgbm(x, y, cand.default_params(setup), setup)
    if family == "lightgbm_tuned":
        blend = [settings["params"]] + list(settings.get("blend", []))
        return merge_boosters([cand.fit_lgbm(x, y, dict(p), setup) for p in blend])
    if family == "smooth":
        return cand.fit_smooth_model(x, y, settings, setup)
    return cand.fit_extra_trees(x, y, settings, setup)


def no_check() -> None:
    """A task on another machine cannot see this run's cancel button: the run checks between tasks instead."""


def fixed_fold(fold, x: pd.DataFrame, y: np.ndarray, family: str, settings: dict, setup: cand.Setup):
    """(score, fit seconds) of one inner fold — a task, here or on a cluster worker (with that worker's threads)."""
    train, test = fold
    if compute.in_worker():
        setup = replace(setup, threads=compute.worker_threads(setup.threads))
    t = time.perf_counter()
    model = fit_rows(x, y, family, settings, setup, train)
    seconds = time.perf_counter() - t
    return cand.score(setup.task, y[test], model.predict(x.iloc[test])), seconds


def tuned_fold(fold, x: pd.DataFrame, y: np.ndarray, params: dict, setup: cand.Setup, seconds: float):
    """(score, best iteration, fit seconds) of a tuned trial on one inner fold with early stopping — a task; None
    when the search's time ran out during the fit (the time left is passed in: clocks differ between machines)."""
    train, test = fold
    if compute.in_worker():
        setup = replace(setup, threads=compute.worker_threads(setup.threads))
        params = {**params, "num_threads": setup.threads}
    t = time.perf_counter()
    try:
        booster = cand.fit_lgbm(x.iloc[train], y[train], params, setup, valid=(x.iloc[test], y[test]),
                                stop_at=time.monotonic() + seconds)
    except cand.OutOfTime:
        return None
    pred = booster.predict(x.iloc[test], num_iteration=booster.best_iteration or None)
    return cand.score(setup.task, y[test], pred), max(booster.best_iteration, 1), time.perf_counter() - t
