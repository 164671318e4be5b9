"""Failure classifier (`model.pdm`, task classification): rows without unit and time (e.g. one row per machine
state), the decision threshold the F1-best on the other folds' out-of-fold predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

from engine.operators.pdm_fit import PdmParams, bundle, drivers, fit_cv, summary, unit_folds
from engine.pipeline.context import StepContext


def classify_task(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
    y = (pd.to_numeric(frame[params.target], errors="coerce").fillna(0).to_numpy(float) > 0).astype(float)
    rows = np.ones(len(frame), dtype=bool)
    folds = unit_folds(frame, params.group, y, params.folds, ctx.seed, True)
    fit = fit_cv(frame, y, rows, features, "classification", params, ctx, folds)
    oof = fit["oof"]
    per_fold, cuts = [], []
    for k, (_, test) in enumerate(folds):
        other = fit["fold_of"] != k  # the F1-best cut on the other folds' out-of-fold predictions
        cut = _f1_cut(y[other], oof[other])
        cuts.append(cut)
        pred = (oof[test] >= cut).astype(int)
        per_fold.append({"auc": roc_auc_score(y[test], oof[test]), "f1": f1_score(y[test], pred, zero_division=0)})
    final_cut = _f1_cut(y, oof)
    model = bundle(frame, params.target, "classification", fit, threshold=final_cut, classes=[0, 1], features=features)
    metrics = {"task": "classification", "pdm_task": "classification", "cv": "group" if params.group else "stratified",
               "folds": len(folds), "rows": int(len(frame)), **summary(per_fold),
               "threshold": {"final": round(final_cut, 6), "folds": [round(c, 6) for c in cuts],
                             "chosen_by": "the F1-best cut on the other folds' out-of-fold predictions"}}
    importance, sensors = drivers(features, fit["importance"], {}, params.top_k)
    report = {"pdm": {"task": "classification", "threshold": final_cut, "sensors": sensors, "curves": [],
                      "ranking": []}, "features_used": features}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _f1_cut(y: np.ndarray, p: np.ndarray) -> float:
    grid = np.unique(np.quantile(p, np.linspace(0.80, 0.999, 200)))
    scores = [f1_score(y, (p >= g).astype(int), zero_division=0) for g in grid]
    return float(grid[int(np.argmax(scores))])

