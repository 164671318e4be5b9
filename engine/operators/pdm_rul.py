"""Remaining useful life (`model.pdm`, task rul): regression on the capped RUL, cross-validated by unit, with RMSE,
MAE and the NASA score; the interval from the out-of-fold residuals; each unit's current RUL."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error

from engine.ml import pdm
from engine.operators.pdm_fit import PdmParams, bundle, curves, drivers, fit_cv, rmse, summary, unit_folds
from engine.pipeline.context import StepContext


def rul_task(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
    target = pd.to_numeric(frame[params.target], errors="coerce").to_numpy(float)
    rows = ~np.isnan(target)
    y = np.minimum(np.nan_to_num(target, nan=0.0), params.rul_cap)
    folds = unit_folds(frame, params.group, y, params.folds, ctx.seed, False)
    fit = fit_cv(frame, y, rows, features, "regression", params, ctx, folds)
    oof = np.clip(fit["oof"], 0.0, params.rul_cap)
    per_fold = []
    for k, (_, test) in enumerate(folds):
        test = test[rows[test]]
        per_fold.append({"rmse": rmse(y[test], oof[test]), "mae": mean_absolute_error(y[test], oof[test]),
                         "nasa_score": pdm.nasa_score(y[test], oof[test]) / max(1, len(test))})
    residual = y[rows] - oof[rows]
    q = (float(np.quantile(residual, 0.05)), float(np.quantile(residual, 0.95)))
    model = bundle(frame, params.target, "regression", fit, q, window=window, features=features)
    metrics = {"task": "regression", "pdm_task": "rul", "cv": "group" if params.group else "shuffled",
               "folds": len(folds), "rows": int(rows.sum()), "rul_cap": params.rul_cap, **summary(per_fold)}
    if params.group:
        last = frame.groupby(params.group, sort=False).tail(1).index.to_numpy()
        last = last[rows[last]]
        metrics["last_row"] = {"rmse": rmse(y[last], oof[last]), "units": int(len(last))}
    importance, sensors = drivers(features, fit["importance"], window, params.top_k)
    now = model.predict(frame.groupby(params.group, sort=False).tail(1)) if params.group else None
    report = {"pdm": {"task": "rul", "cap": params.rul_cap, "interval": list(q), "sensors": sensors,
                      "curves": curves(frame, params, oof, y, q, "rul"),
                      "ranking": _ranking_rul(frame, params, now, q) if now is not None else []},
              "features_used": features}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _ranking_rul(frame, params, now: np.ndarray, q: tuple[float, float]) -> list[dict]:
    """Each unit's RUL at its last row with the out-of-fold residual interval, the shortest first."""
    last = frame.groupby(params.group, sort=False).tail(1)
    items = [{"unit": str(u), "rul": round(float(p), 2), "low": round(max(0.0, float(p) + q[0]), 2),
              "high": round(float(p) + q[1], 2), "time": str(t) if params.time else None}
             for u, p, t in zip(last[params.group], now, last[params.time] if params.time else last.index)]
    return sorted(items, key=lambda r: r["rul"])

