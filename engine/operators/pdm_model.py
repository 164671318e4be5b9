"""Predictive maintenance model (`model.pdm`): remaining useful life (regression, capped), fails-within-H
(classification, alarm threshold for a false-alarm budget), a normal-behaviour temperature model (alarm on a
persistent residual) when failures are too few, or a plain failure classifier when rows have no unit/time.
Cross-validation is always by unit when there are units. One module, so that its cache key covers all of it."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, mean_absolute_error, mean_squared_error, roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedKFold

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml import pdm
from engine.ml.frame import FeatureCoder, feature_schema, usable_features
from engine.ml.lgbm import ModelBundle, fit_booster, lgb_params, shap_importance
from engine.operators.pdm import _tiny_fleet
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


# ---------------------------------------------------------------- model.pdm

class PdmParams(OpParams):
    target: str = ui_field(en="Target (RUL or failure flag)", zh="目标（剩余寿命或故障标志）")
    features: list[str] = ui_field(en="Features", zh="特征")
    group: str | None = ui_field(None, en="Unit column", zh="设备列")
    time: str | None = ui_field(None, en="Time column", zh="时间列")
    mode: Literal["auto", "rul", "horizon", "normal", "classification"] = ui_field("auto", en="Task", zh="任务")
    rul_cap: float = ui_field(125.0, en="RUL cap (steps)", zh="剩余寿命上限（步）", gt=0)
    horizon: int = ui_field(30, en="Horizon H (steps)", zh="预警期 H（步）", ge=1, le=100_000)
    max_false_alarms: float = ui_field(1.0, en="False alarms per unit per year", zh="每台每年误报次数", ge=0.0)
    persist: int = ui_field(1, en="Alarm persistence (steps)", zh="报警持续（步）", ge=1, le=10_000)
    min_failures: int = ui_field(10, en="Failures needed to learn from", zh="学习所需最少故障数", ge=2)
    watch: list[str] = ui_field([], en="Temperatures for the normal-behaviour model", zh="正常行为模型监测的温度")
    folds: int = ui_field(5, en="Cross-validation folds", zh="交叉验证折数", ge=2, le=20)
    n_estimators: int = ui_field(300, en="Trees", zh="树的数量", ge=10, le=5000)
    learning_rate: float = ui_field(0.05, en="Learning rate", zh="学习率", gt=0.0, le=1.0)
    num_leaves: int = ui_field(31, en="Leaves per tree", zh="每棵树叶子数", ge=2, le=1024)
    min_child_samples: int = ui_field(20, en="Min rows per leaf", zh="叶子最少样本数", ge=1, le=10000)
    top_k: int = ui_field(15, en="Drivers to list", zh="列出的驱动因素个数", ge=1, le=1000)


def _pdm_example() -> tuple[dict, dict]:
    frame = _tiny_fleet()
    return ({"target": "rul", "features": ["s2", "s3", "s7"], "group": "unit", "time": "cycle", "folds": 3,
             "n_estimators": 20}, {"frame": frame, "window": {"created": []}})


@operator("model.pdm", version=1, inputs=("frame", "window"), outputs=("model", "metrics", "importance", "report"),
          example=_pdm_example)
def pdm_model(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, window: dict | None = None) -> dict:
    """Remaining useful life, failure within H steps with an alarm threshold for a false-alarm budget, a
    normal-behaviour model of temperatures, or a failure classifier — cross-validated by unit."""
    frame = _ordered(frame, params)
    window = window or {}
    wanted = list(dict.fromkeys([*params.features, *window.get("created", [])]))
    features = [c for c in wanted if c in frame.columns and c not in (params.target, params.group, params.time)]
    features, _ = usable_features(frame, features)
    if not features:
        raise StudioError(Msg("no usable sensor or setting columns: assign the sensors to Context",
                              "没有可用的传感器或设定列：请把传感器放入“工况”"))
    mode = _mode(params, frame)
    return run_mode(mode, params, ctx, frame, features, window)


def _ordered(frame: pd.DataFrame, params: PdmParams) -> pd.DataFrame:
    keys = [c for c in (params.group, params.time) if c]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame.reset_index(drop=True)


def _mode(params: PdmParams, frame: pd.DataFrame) -> str:
    if params.mode != "auto":
        return params.mode
    y = frame[params.target]
    binary = set(pd.unique(y.dropna())) <= {0, 1, True, False}
    if not binary:
        return "rul"
    if not (params.group and params.time):
        return "classification"
    events = int((y.fillna(0).astype(float) > 0).sum())
    if events < params.min_failures:
        if not params.watch:
            raise StudioError(Msg(f"only {events} failures in the data, fewer than the {params.min_failures} needed to "
                                  f"learn from: name the temperatures to watch (parameter watch) for a normal-behaviour "
                                  f"model, or add failure history",
                                  f"数据中只有 {events} 次故障，少于学习所需的 {params.min_failures} 次：请指定要监测的温度"
                                  f"（参数 watch）以使用正常行为模型，或补充故障历史"))
        return "normal"
    return "horizon"


def unit_folds(frame: pd.DataFrame, group: str | None, y: np.ndarray, folds: int, seed: int, classify: bool):
    """By unit when there are units (a unit is never in train and test at once), else stratified/shuffled."""
    if group:
        n_units = frame[group].nunique()
        if n_units < folds:
            raise StudioError(Msg(f"{n_units} units for {folds} folds: cross-validation by unit needs at least one "
                                  f"unit per fold; lower the folds", f"{n_units} 台设备不够 {folds} 折：按设备交叉验证每折至少需要一台；请减少折数"))
        return list(GroupKFold(n_splits=folds).split(np.zeros(len(frame)), y, frame[group].to_numpy()))
    if classify:
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(frame)), y))
    from sklearn.model_selection import KFold

    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(frame))))


def fit_cv(frame: pd.DataFrame, y: np.ndarray, rows: np.ndarray, features: list[str], task: str, params: PdmParams,
           ctx: StepContext, folds: list) -> dict:
    """Fold models on the labelled rows `rows` (boolean mask); out-of-fold predictions for EVERY row of a test
    unit (so curves and alarms cover the whole history); SHAP importance per fold; the final model on all rows."""
    coder = FeatureCoder.fit(frame, features)
    x = coder.transform(frame)
    lgbp = lgb_params("classification" if task == "classification" else "regression", params.n_estimators,
                      params.learning_rate, params.num_leaves, params.min_child_samples, ctx.seed, None,
                      cells=int(rows.sum()) * len(features))
    lgbp.pop("is_unbalance", None)  # the cut is chosen for F1 or a false-alarm budget: weights would only skew it
    oof = np.full(len(frame), np.nan)
    imps, fold_of = [], np.full(len(frame), -1)
    for k, (train, test) in enumerate(folds):
        ctx.progress(k / (len(folds) + 1), Msg(f"fold {k + 1}/{len(folds)}", f"第 {k + 1}/{len(folds)} 折"))
        train = train[rows[train]]
        model = fit_booster(x.iloc[train], y[train], lgbp)
        oof[test] = model.predict(x.iloc[test])
        fold_of[test] = k
        labelled = test[rows[test]]
        imps.append(shap_importance(model, x.iloc[labelled[:2000]])[0] if len(labelled) else np.zeros(len(features)))
    ctx.progress(len(folds) / (len(folds) + 1), Msg("final model", "最终模型"))
    final = fit_booster(x[rows], y[rows], lgbp)
    return {"coder": coder, "oof": oof, "fold_of": fold_of, "final": final, "importance": np.array(imps),
            "lgbp": lgbp}


def bundle(frame, target, task, fitted, residual_q=(0.0, 0.0), threshold=0.5, classes=None, window=None,
           features=None) -> ModelBundle:
    b = ModelBundle(target, task, fitted["coder"], fitted["final"], [], classes or [], residual_q, threshold,
                    schema=feature_schema(frame, features or fitted["coder"].features))
    if window and window.get("created"):
        b.prep = [{"op": "pdm.window_features", "created": window["created"],
                   "params": {k: window[k] for k in ("group", "time", "columns", "window")}}]
        b.schema = {c: v for c, v in b.schema.items() if c not in window["created"]}
    return b


def drivers(features: list[str], importance: np.ndarray, window: dict, top_k: int) -> tuple[list[dict], list[dict]]:
    """(features ranked by mean |SHAP| share, sensors ranked by the summed share of the features built from them)."""
    share = importance / np.maximum(importance.sum(axis=1, keepdims=True), 1e-300)
    mean = share.mean(axis=0)
    order = np.argsort(-mean)[:top_k]
    ranked = [{"name": features[j], "rank": r + 1, "importance": round(float(mean[j]), 6),
               "importance_std": round(float(share[:, j].std()), 6), "direction": 0,
               "stability": 1.0} for r, j in enumerate(order)]
    sensors: dict[str, float] = {}
    for name, value in zip(features, mean):
        base = name.split("__")[0] if "__" in name else name
        sensors[base] = sensors.get(base, 0.0) + float(value)
    by_sensor = [{"sensor": s, "share": round(v, 6)} for s, v in sorted(sensors.items(), key=lambda kv: -kv[1])]
    return ranked, by_sensor[:top_k]


def rmse(a, b) -> float:
    return float(np.sqrt(mean_squared_error(a, b)))


CURVE_UNITS = 12
CURVE_POINTS = 300


def run_mode(mode: str, params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str],
             window: dict) -> dict:
    return {"rul": _rul, "horizon": _horizon, "normal": _normal, "classification": _classify}[mode](
        params, ctx, frame, features, window)


def _step_hours(frame: pd.DataFrame, params: PdmParams) -> float | None:
    """Hours per step when time is a date-time (median spacing within units), else None (cycles, counts)."""
    if not params.time or not pd.api.types.is_datetime64_any_dtype(frame[params.time]):
        return None
    gaps = frame.groupby(params.group)[params.time].diff().dropna() if params.group else frame[params.time].diff()
    return float(gaps.median() / pd.Timedelta(hours=1)) if len(gaps) else None


def _unit_years(frame: pd.DataFrame, params: PdmParams) -> tuple[float, str]:
    hours = _step_hours(frame, params)
    if hours:
        return len(frame) * hours / 8760.0, "year"
    return len(frame) / 365.0, "365 steps"


def _time_text(frame: pd.DataFrame, params: PdmParams, rows: np.ndarray) -> list:
    values = frame[params.time].iloc[rows] if params.time else pd.Series(rows)
    return [str(v) for v in values]


# ---------------------------------------------------------------- remaining useful life

def _rul(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
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
               "folds": len(folds), "rows": int(rows.sum()), "rul_cap": params.rul_cap, **_summary(per_fold)}
    if params.group:
        last = frame.groupby(params.group, sort=False).tail(1).index.to_numpy()
        last = last[rows[last]]
        metrics["last_row"] = {"rmse": rmse(y[last], oof[last]), "units": int(len(last))}
    importance, sensors = drivers(features, fit["importance"], window, params.top_k)
    now = model.predict(frame.groupby(params.group, sort=False).tail(1)) if params.group else None
    report = {"pdm": {"task": "rul", "cap": params.rul_cap, "interval": list(q), "sensors": sensors,
                      "curves": _curves(frame, params, oof, y, q, "rul"),
                      "ranking": _ranking_rul(frame, params, now) if now is not None else []},
              "features_used": features}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _ranking_rul(frame, params, now: np.ndarray) -> list[dict]:
    last = frame.groupby(params.group, sort=False).tail(1)
    items = [{"unit": str(u), "rul": round(float(p), 2), "time": str(t) if params.time else None}
             for u, p, t in zip(last[params.group], now, last[params.time] if params.time else last.index)]
    return sorted(items, key=lambda r: r["rul"])


# ---------------------------------------------------------------- failure within H steps

def _horizon(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
    to_fail = pdm.steps_to_failure(frame, params.group, params.target)
    units = frame[params.group].to_numpy()
    remaining = frame.groupby(params.group, sort=False).cumcount(ascending=False).to_numpy()
    y = ((to_fail >= 1) & (to_fail <= params.horizon)).astype(float)
    # labelled: not the failure row; a row with no failure ahead is a negative only if H rows of history follow it
    rows = (to_fail != 0) & ~(np.isnan(to_fail) & (remaining < params.horizon))
    folds = unit_folds(frame, params.group, y, params.folds, ctx.seed, True)
    fit = fit_cv(frame, y, rows, features, "classification", params, ctx, folds)
    alarms = _alarms_by_fold(frame, params, fit["oof"], fit["fold_of"], folds, units, to_fail)
    model = bundle(frame, params.target, "classification", fit, threshold=alarms["final_threshold"], classes=[0, 1],
                   window=window, features=features)
    auc = [roc_auc_score(y[t[rows[t]]], fit["oof"][t[rows[t]]]) for _, t in folds if len(set(y[t[rows[t]]])) == 2]
    metrics = {"task": "classification", "pdm_task": "horizon", "cv": "group", "folds": len(folds),
               "rows": int(rows.sum()), "horizon": params.horizon,
               "auc": {"mean": float(np.mean(auc)) if auc else None, "std": float(np.std(auc)) if auc else None,
                       "folds": [round(a, 6) for a in auc]},
               **_alarm_metrics(alarms, frame, params)}
    importance, sensors = drivers(features, fit["importance"], window, params.top_k)
    prob_now = model.final.predict(model.coder.transform(frame.groupby(params.group, sort=False).tail(1)))
    report = {"pdm": {"task": "horizon", "horizon": params.horizon, "threshold": alarms["final_threshold"],
                      "sensors": sensors, "alarms": alarms["timeline"], "failures": alarms["failures"],
                      "curves": _curves(frame, params, fit["oof"], y, None, "risk"),
                      "ranking": _ranking_risk(frame, params, prob_now, alarms["final_threshold"])},
              "features_used": features}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _alarms_by_fold(frame, params, score, fold_of, folds, units, to_fail) -> dict:
    """Each fold's alarm threshold is chosen on the OTHER folds' out-of-fold scores (never on its own rows), for the
    budget of false alarms per unit-year; then its alarms are counted."""
    unit_years, _ = _unit_years(frame, params)
    timeline, failures, totals = [], [], {"false_alarms": 0, "failures": 0, "caught": 0, "leads": []}
    cuts = []
    valid = ~np.isnan(score)
    for k in range(len(folds)):
        other = valid & (fold_of != k)
        share = other.sum() / max(1, valid.sum())
        cut = pdm.threshold_for_false_alarms(score[other], units[other], np.nan_to_num(to_fail[other], nan=-1),
                                             params.horizon, params.max_false_alarms * unit_years * share,
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
        starts = mine[pdm.alarm_episodes(alarm, units[mine])]
        timeline += [{"unit": str(units[i]), "time": _time_text(frame, params, np.array([i]))[0]} for i in starts]
    fail_rows = np.flatnonzero(np.nan_to_num(to_fail, nan=-1) == 0)
    failures = [{"unit": str(units[i]), "time": _time_text(frame, params, np.array([i]))[0]} for i in fail_rows]
    final = pdm.threshold_for_false_alarms(np.nan_to_num(score, nan=0.0), units, np.nan_to_num(to_fail, nan=-1),
                                           params.horizon, params.max_false_alarms * unit_years, params.persist)
    return {**totals, "timeline": timeline, "failures": failures, "final_threshold": final, "fold_thresholds": cuts,
            "unit_years": unit_years}


def _alarm_metrics(alarms: dict, frame, params) -> dict:
    hours = _step_hours(frame, params)
    unit_years, per = _unit_years(frame, params)
    lead = float(np.mean(alarms["leads"])) if alarms["leads"] else None
    return {"alarms": {"failures": alarms["failures"] if isinstance(alarms["failures"], int) else len(alarms["failures"]),
                       "caught": alarms["caught"],
                       "recall": alarms["caught"] / max(1, len(alarms["failures"]) if isinstance(alarms["failures"], list)
                                                        else alarms["failures"]),
                       "false_alarms": alarms["false_alarms"],
                       "false_alarms_per_unit_year": alarms["false_alarms"] / unit_years if unit_years else None,
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


# ---------------------------------------------------------------- normal behaviour

def _normal(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
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
    alarms = _alarms_by_fold(frame, params, score, fits[watch[0]][0]["fold_of"], folds, units, to_fail)
    first, sd = fits[watch[0]]
    q = (-1.645 * sd, 1.645 * sd)
    model = bundle(frame, watch[0], "regression", first, q, window=window, features=inputs)
    metrics = {"task": "regression", "pdm_task": "normal", "cv": "group", "folds": len(folds),
               "rows": int(healthy.sum()), "watch": watch, "horizon": params.horizon,
               "residual_std": {c: fits[c][1] for c in watch}, **_alarm_metrics(alarms, frame, params)}
    importance, sensors = drivers(inputs, np.mean(importances, axis=0), window, params.top_k)
    last = frame.groupby(params.group, sort=False).tail(1).index.to_numpy()
    report = {"pdm": {"task": "normal", "horizon": params.horizon, "threshold": alarms["final_threshold"],
                      "watch": watch, "sensors": sensors, "alarms": alarms["timeline"], "failures": alarms["failures"],
                      "curves": _curves(frame, params, score, None, None, "residual"),
                      "ranking": sorted([{"unit": str(units[i]), "risk": round(float(score[i]), 4),
                                          "alarm": bool(score[i] >= alarms["final_threshold"]),
                                          "time": _time_text(frame, params, np.array([i]))[0]} for i in last],
                                        key=lambda r: -r["risk"])},
              "features_used": inputs,
              "note": {"en": "scoring new data predicts the first watched temperature (its expected value for the "
                             "load and weather); the alarm needs each unit's residual history",
                       "zh": "对新数据打分时预测第一个监测温度（给定负荷与气象下的期望值）；报警需要每台设备的残差历史"}}
    return {"model": model, "metrics": metrics, "importance": importance, "report": report}


def _own_baseline(r: pd.Series, units: np.ndarray, params: PdmParams) -> np.ndarray:
    """Each unit's residual against its OWN normal: minus the median of its residual over the 4·H rows that ended H
    rows ago (a slow drift then still stands out; a machine that simply runs warmer does not), then averaged over
    `persist` rows. Only past rows are used (an expanding median while the unit's history is short)."""
    h = params.horizon

    def per_unit(s: pd.Series) -> pd.Series:
        base = s.shift(h).rolling(4 * h, min_periods=24).median().fillna(s.expanding().median())
        return (s - base).rolling(params.persist, min_periods=1).mean()

    return r.groupby(units).transform(per_unit).to_numpy()


# ---------------------------------------------------------------- failure classifier (rows without unit/time)

def _classify(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str], window: dict) -> dict:
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
               "folds": len(folds), "rows": int(len(frame)), **_summary(per_fold),
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


# ---------------------------------------------------------------- shared

def _summary(per_fold: list[dict]) -> dict:
    out = {}
    for name in per_fold[0]:
        v = np.array([f[name] for f in per_fold], float)
        out[name] = {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v)), "folds": [round(x, 6) for x in v]}
    return out


def _curves(frame, params, values, actual, interval, kind: str) -> list[dict]:
    """Per unit (up to 12: the ones with a failure first), the out-of-fold curve over time, thinned to ≤ 300 points."""
    if not params.group:
        return []
    out = []
    groups = frame.groupby(params.group, sort=False).indices
    names = list(groups)[:CURVE_UNITS]
    for name in names:
        rows = groups[name]
        pick = rows[np.linspace(0, len(rows) - 1, min(len(rows), CURVE_POINTS)).astype(int)]
        item = {"unit": str(name), "kind": kind, "time": _time_text(frame, params, pick),
                "value": [None if np.isnan(v) else round(float(v), 4) for v in values[pick]]}
        if actual is not None:
            item["actual"] = [round(float(v), 4) for v in actual[pick]]
        if interval is not None:
            item["low"] = [None if np.isnan(v) else round(max(0.0, float(v) + interval[0]), 4) for v in values[pick]]
            item["high"] = [None if np.isnan(v) else round(float(v) + interval[1], 4) for v in values[pick]]
        out.append(item)
    return out
