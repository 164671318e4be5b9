"""Normal behaviour (`model.pdm`, task normal): each watched temperature predicted from load and weather on healthy
rows, the alarm on a persistent residual against the unit's own normal, the threshold for a false-alarm budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml import pdm
from engine.ml.pdm_normal import NormalBehaviour, own_baseline
from engine.ml.pdm_windows import HEALTH
from engine.operators.pdm_alarm import alarm_metrics, alarms_by_fold
from engine.operators.pdm_fit import PdmParams, bundle, curves, drivers, fit_cv, time_text, unit_folds
from engine.pipeline.context import StepContext


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
    # the inputs: load and weather, never a watched temperature nor what is built from it (the health index mixes
    # every sensor, so it is left out too)
    inputs = [c for c in features if c not in watch and not any(c.startswith(f"{w}__") for w in watch)
              and not c.startswith(HEALTH)]
    folds = unit_folds(frame, params.group, np.zeros(len(frame)), params.folds, ctx.seed, False)
    zs, models, importances, fits = [], {}, [], {}
    for col in watch:
        y = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        rows = healthy & ~np.isnan(y)
        fit = fit_cv(frame, np.nan_to_num(y), rows, inputs, "regression", params, ctx, folds)
        resid = y - fit["oof"]
        sd = float(np.nanstd(resid[rows])) or 1.0
        zs.append(own_baseline(pd.Series(resid / sd), units, params.horizon, params.persist))
        fits[col] = (fit, sd)
        importances.append(fit["importance"])
    score = np.nanmax(np.vstack(zs), axis=0)
    alarms = alarms_by_fold(frame, params, score, fits[watch[0]][0]["fold_of"], folds, units, to_fail)
    model = _normal_model(frame, params, watch, fits, inputs, window, alarms["final_threshold"])
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
              "note": {"en": "scoring new data gives each unit's expected temperatures, residuals, alarm score, alarm "
                             "and state (from its history in the new rows: give at least 5·H rows per unit for the "
                             "unit's own normal)",
                       "zh": "对新数据打分给出每台设备的期望温度、残差、报警分数、是否报警及状态（按新数据中该设备的历史计算："
                             "每台设备至少给 5·H 行以得到它自己的正常水平）"}}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _watched_share(zs: np.ndarray, score: np.ndarray, cut: float, watch: list[str]) -> list[dict]:
    """Which watched temperature raises the alarms: its share of the alarm rows where its residual is the largest
    (of all rows when nothing alarms)."""
    rows = np.nan_to_num(score, nan=-np.inf) >= cut
    pick = zs[:, rows] if rows.any() else zs
    top = np.nanargmax(np.nan_to_num(pick, nan=-np.inf), axis=0)
    counts = np.bincount(top, minlength=len(watch)) / max(1, pick.shape[1])
    return sorted([{"sensor": w, "share": round(float(c), 6)} for w, c in zip(watch, counts)], key=lambda r: -r["share"])


def _normal_model(frame, params: PdmParams, watch: list[str], fits: dict, inputs: list[str], window: dict,
                  threshold: float) -> NormalBehaviour:
    """The final regressions of every watched temperature and the alarm rule, as scoring applies them."""
    models = {}
    for col in watch:
        fit, sd = fits[col]
        models[col] = bundle(frame, col, "regression", fit, (-1.645 * sd, 1.645 * sd), window=window, features=inputs)
    prep = models[watch[0]].prep
    return NormalBehaviour(params.group, params.time, watch, models, {c: fits[c][1] for c in watch}, params.horizon,
                           params.persist, float(threshold), prep)
