"""Normal behaviour (`model.pdm`, task normal): each watched temperature predicted from load and weather on healthy
rows, the alarm on a persistent residual against the unit's own normal, the threshold for a false-alarm budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml import pdm
from engine.operators.pdm_fit import PdmParams, bundle, curves, drivers, fit_cv, time_text, unit_folds
from engine.pipeline.context import StepContext
from engine.operators.pdm_alarm import alarm_metrics, alarms_by_fold



def normal_task(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
    """Model each watched temperature from the other readings on healthy rows (not the H steps before a failure);
    the alarm score is the largest standardised residual, averaged over `persist` steps."""
    watch = [c for c in params.watch if c in frame.columns]
    if not watch:
        raise StudioError(Msg("the normal-behaviour model needs the temperatures to watch (parameter watch)",
                              "正常行为模型需要指定要监测的温度（参数 watch）"))
    to_fail = pdm.steps_to_failure(frame, params.group, params.target) if params.group else np.full(len(frame), np.nan)
    units = frame[params.group].to_numpy()
    healthy = ~((to_fail >= 0) & (to_fail <= params.horizon))
    inputs = [c for c in features if c not in watch and not any(c.startswith(f"{w}__") for w in watch)]
    folds = unit_folds(frame, params.group, np.zeros(len(frame)), params.folds, ctx.seed, False)
    zs, models, importances, fits = [], {}, [], {}
    for col in watch:
        y = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        rows = healthy & ~np.isnan(y)
        fit = fit_cv(frame, np.nan_to_num(y), rows, inputs, "regression", params, ctx, folds)
        resid = y - fit["oof"]
        sd = float(np.nanstd(resid[rows])) or 1.0
        zs.append(_own_baseline(pd.Series(resid / sd), units, params))
        fits[col] = (fit, sd)
        importances.append(fit["importance"])
    score = np.nanmax(np.vstack(zs), axis=0)
    alarms = alarms_by_fold(frame, params, score, fits[watch[0]][0]["fold_of"], folds, units, to_fail)
    first, sd = fits[watch[0]]
    q = (-1.645 * sd, 1.645 * sd)
    model = bundle(frame, watch[0], "regression", first, q, window=window, features=inputs)
    metrics = {"task": "regression", "pdm_task": "normal", "cv": "group", "folds": len(folds),
               "rows": int(healthy.sum()), "watch": watch, "horizon": params.horizon,
               "residual_std": {c: fits[c][1] for c in watch}, **alarm_metrics(alarms, frame, params)}
    importance, _ = drivers(inputs, np.mean(importances, axis=0), window, params.top_k)
    sensors = _watched_share(np.vstack(zs), score, alarms["final_threshold"], watch)
    last = frame.groupby(params.group, sort=False).tail(1).index.to_numpy()
    report = {"pdm": {"task": "normal", "horizon": params.horizon, "threshold": alarms["final_threshold"],
                      "watch": watch, "sensors": sensors, "alarms": alarms["timeline"], "failures": alarms["failures"],
                      "curves": curves(frame, params, score, None, None, "residual"),
                      "ranking": sorted([{"unit": str(units[i]), "risk": round(float(score[i]), 4),
                                          "alarm": bool(score[i] >= alarms["final_threshold"]),
                                          "time": time_text(frame, params, np.array([i]))[0]} for i in last],
                                        key=lambda r: -r["risk"])},
              "features_used": inputs,
              "note": {"en": "scoring new data predicts the first watched temperature (its expected value for the "
                             "load and weather); the alarm needs each unit's residual history",
                       "zh": "对新数据打分时预测第一个监测温度（给定负荷与气象下的期望值）；报警需要每台设备的残差历史"}}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _watched_share(zs: np.ndarray, score: np.ndarray, cut: float, watch: list[str]) -> list[dict]:
    """Which watched temperature raises the alarms: its share of the alarm rows where its residual is the largest
    (of all rows when nothing alarms)."""
    rows = np.nan_to_num(score, nan=-np.inf) >= cut
    pick = zs[:, rows] if rows.any() else zs
    top = np.nanargmax(np.nan_to_num(pick, nan=-np.inf), axis=0)
    counts = np.bincount(top, minlength=len(watch)) / max(1, pick.shape[1])
    return sorted([{"sensor": w, "share": round(float(c), 6)} for w, c in zip(watch, counts)], key=lambda r: -r["share"])


def _own_baseline(r: pd.Series, units: np.ndarray, params: PdmParams) -> np.ndarray:
    """Each unit's residual against its OWN normal: minus the median of its residual over the 4·H rows that ended H
    rows ago (a slow drift then still stands out; a machine that simply runs warmer does not), then averaged over
    `persist` rows. Only past rows are used (an expanding median while the unit's history is short)."""
    h = params.horizon

    def per_unit(s: pd.Series) -> pd.Series:
        base = s.shift(h).rolling(4 * h, min_periods=24).median().fillna(s.expanding().median())
        return (s - base).rolling(params.persist, min_periods=1).mean()

    return r.groupby(units).transform(per_unit).to_numpy()

