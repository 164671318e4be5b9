"""Failure within H steps (`model.pdm`, task horizon): a classifier of "fails within H", the alarm threshold for a
false-alarm budget (each fold's chosen on the other folds), recall and lead time; shared with the normal-behaviour task
for its alarms."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from engine.ml import pdm
from engine.operators.pdm_fit import (PdmParams, bundle, curves, drivers, fit_cv, step_hours, time_text, unit_folds,
                                      unit_years)
from engine.pipeline.context import StepContext


def horizon_task(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
    to_fail = pdm.steps_to_failure(frame, params.group, params.target)
    units = frame[params.group].to_numpy()
    remaining = frame.groupby(params.group, sort=False).cumcount(ascending=False).to_numpy()
    y = ((to_fail >= 1) & (to_fail <= params.horizon)).astype(float)
    # labelled: not the failure row; a row with no failure ahead is a negative only if H rows of history follow it
    rows = (to_fail != 0) & ~(np.isnan(to_fail) & (remaining < params.horizon))
    folds = unit_folds(frame, params.group, y, params.folds, ctx.seed, True)
    fit = fit_cv(frame, y, rows, features, "classification", params, ctx, folds)
    alarms = alarms_by_fold(frame, params, fit["oof"], fit["fold_of"], folds, units, to_fail)
    model = bundle(frame, params.target, "classification", fit, threshold=alarms["final_threshold"], classes=[0, 1],
                   window=window, features=features)
    auc = [roc_auc_score(y[t[rows[t]]], fit["oof"][t[rows[t]]]) for _, t in folds if len(set(y[t[rows[t]]])) == 2]
    metrics = {"task": "classification", "pdm_task": "horizon", "cv": "group", "folds": len(folds),
               "rows": int(rows.sum()), "horizon": params.horizon,
               "auc": {"mean": float(np.mean(auc)) if auc else None, "std": float(np.std(auc)) if auc else None,
                       "folds": [round(a, 6) for a in auc]},
               **alarm_metrics(alarms, frame, params)}
    importance, sensors = drivers(features, fit["importance"], window, params.top_k)
    prob_now = model.final.predict(model.coder.transform(frame.groupby(params.group, sort=False).tail(1)))
    report = {"pdm": {"task": "horizon", "horizon": params.horizon, "threshold": alarms["final_threshold"],
                      "sensors": sensors, "alarms": alarms["timeline"], "failures": alarms["failures"],
                      "curves": curves(frame, params, fit["oof"], y, None, "risk"),
                      "ranking": _ranking_risk(frame, params, prob_now, alarms["final_threshold"])},
              "features_used": features}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def alarms_by_fold(frame, params, score, fold_of, folds, units, to_fail) -> dict:
    """Each fold's alarm threshold is chosen on the OTHER folds' out-of-fold scores (never on its own rows), for the
    budget of false alarms per unit-year; then its alarms are counted."""
    years, _ = unit_years(frame, params)
    timeline, failures, totals = [], [], {"false_alarms": 0, "failures": 0, "caught": 0, "leads": []}
    cuts = []
    valid = ~np.isnan(score)
    for k in range(len(folds)):
        other = valid & (fold_of != k)
        share = other.sum() / max(1, valid.sum())
        cut = pdm.threshold_for_false_alarms(score[other], units[other], np.nan_to_num(to_fail[other], nan=-1),
                                             params.horizon, params.max_false_alarms * years * share,
                                             params.persist)
        cuts.append(cut)
        mine = np.flatnonzero(valid & (fold_of == k))
        if not len(mine):
            continue
        ev = pdm.evaluate_alarms(score[mine], cut, units[mine], np.nan_to_num(to_fail[mine], nan=-1),
                                 params.horizon, params.persist)
        for key in ("false_alarms", "failures", "caught"):
            totals[key] += ev[key]
        totals["leads"] += ev["leads"]
        alarm = pdm._persistent(score[mine] >= cut, units[mine], params.persist)
        starts = mine[pdm.alarm_episodes(alarm, units[mine], gap=params.persist)]
        timeline += [{"unit": str(units[i]), "time": time_text(frame, params, np.array([i]))[0]} for i in starts]
    fail_rows = np.flatnonzero(np.nan_to_num(to_fail, nan=-1) == 0)
    failures = [{"unit": str(units[i]), "time": time_text(frame, params, np.array([i]))[0]} for i in fail_rows]
    final = pdm.threshold_for_false_alarms(np.nan_to_num(score, nan=0.0), units, np.nan_to_num(to_fail, nan=-1),
                                           params.horizon, params.max_false_alarms * years, params.persist)
    return {**totals, "timeline": timeline, "failures": failures, "final_threshold": final, "fold_thresholds": cuts,
            "unit_years": years}


def alarm_metrics(alarms: dict, frame, params) -> dict:
    hours = step_hours(frame, params)
    years, per = unit_years(frame, params)
    lead = float(np.mean(alarms["leads"])) if alarms["leads"] else None
    return {"alarms": {"failures": alarms["failures"] if isinstance(alarms["failures"], int) else len(alarms["failures"]),
                       "caught": alarms["caught"],
                       "recall": alarms["caught"] / max(1, len(alarms["failures"]) if isinstance(alarms["failures"], list)
                                                        else alarms["failures"]),
                       "false_alarms": alarms["false_alarms"],
                       "false_alarms_per_unit_year": alarms["false_alarms"] / years if years else None,
                       "budget_per_unit_year": params.max_false_alarms, "per": per,
                       "mean_lead_steps": lead, "mean_lead_hours": lead * hours if lead is not None and hours else None,
                       "leads_steps": [round(v, 1) for v in alarms["leads"]],
                       "thresholds": [round(c, 6) for c in alarms["fold_thresholds"]],
                       "chosen_by": "each fold's threshold on the other folds' out-of-fold scores"}}


def _ranking_risk(frame, params, prob_now: np.ndarray, cut: float) -> list[dict]:
    last = frame.groupby(params.group, sort=False).tail(1)
    items = [{"unit": str(u), "risk": round(float(p), 6), "alarm": bool(p >= cut),
              "time": str(t) if params.time else None}
             for u, p, t in zip(last[params.group], prob_now, last[params.time] if params.time else last.index)]
    return sorted(items, key=lambda r: -r["risk"])

