"""Predictive maintenance, the parts every task of `model.pdm` shares: the parameters, folds by unit, the fold models
with out-of-fold predictions, the saved bundle, the sensors that drive the risk, per-unit curves and time helpers."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GroupKFold, StratifiedKFold

from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml.frame import FeatureCoder, feature_schema
from engine.ml.lgbm import ModelBundle, fit_booster, lgb_params, shap_importance
from engine.pipeline.context import StepContext
from engine.pipeline.registry import OpParams
from engine.schema.base import ui_field


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
        spec = window.get("spec") or {k: window[k] for k in ("group", "time", "columns", "window")}
        b.prep = [{"op": "pdm.window_features", "created": window["created"], "params": spec}]
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
    health = (window or {}).get("health_index") or {}
    split = np.abs(np.asarray(health.get("weights") or [], float))
    for name, value in zip(features, mean):
        base = name.split("__")[0] if "__" in name else name
        if base == "health_index" and split.sum() > 0:  # the index's share goes back to its sensors by |weight|
            for sensor, part in zip(health["columns"], split / split.sum()):
                sensors[sensor] = sensors.get(sensor, 0.0) + float(value) * float(part)
            continue
        sensors[base] = sensors.get(base, 0.0) + float(value)
    by_sensor = [{"sensor": s, "share": round(v, 6)} for s, v in sorted(sensors.items(), key=lambda kv: -kv[1])]
    return ranked, by_sensor[:top_k]


def rmse(a, b) -> float:
    return float(np.sqrt(mean_squared_error(a, b)))


CURVE_UNITS = 12
CURVE_POINTS = 300


def step_hours(frame: pd.DataFrame, params: PdmParams) -> float | None:
    """Hours per step when time is a date-time (median spacing within units), else None (cycles, counts)."""
    if not params.time or not pd.api.types.is_datetime64_any_dtype(frame[params.time]):
        return None
    gaps = frame.groupby(params.group)[params.time].diff().dropna() if params.group else frame[params.time].diff()
    return float(gaps.median() / pd.Timedelta(hours=1)) if len(gaps) else None


def unit_years(frame: pd.DataFrame, params: PdmParams) -> tuple[float, str]:
    hours = step_hours(frame, params)
    if hours:
        return len(frame) * hours / 8760.0, "year"
    return len(frame) / 365.0, "365 steps"


def time_text(frame: pd.DataFrame, params: PdmParams, rows: np.ndarray) -> list:
    values = frame[params.time].iloc[rows] if params.time else pd.Series(rows)
    return [str(v) for v in values]


def summary(per_fold: list[dict]) -> dict:
    out = {}
    for name in per_fold[0]:
        v = np.array([f[name] for f in per_fold], float)
        out[name] = {"mean": float(np.nanmean(v)), "std": float(np.nanstd(v)), "folds": [round(x, 6) for x in v]}
    return out


def curves(frame, params, values, actual, interval, kind: str) -> list[dict]:
    """Per unit (up to 12: the ones with a failure first), the out-of-fold curve over time, thinned to ≤ 300 points."""
    if not params.group:
        return []
    out = []
    groups = frame.groupby(params.group, sort=False).indices
    names = list(groups)[:CURVE_UNITS]
    for name in names:
        rows = groups[name]
        pick = rows[np.linspace(0, len(rows) - 1, min(len(rows), CURVE_POINTS)).astype(int)]
        item = {"unit": str(name), "kind": kind, "time": time_text(frame, params, pick),
                "value": [None if np.isnan(v) else round(float(v), 4) for v in values[pick]]}
        if actual is not None:
            item["actual"] = [round(float(v), 4) for v in actual[pick]]
        if interval is not None:
            item["low"] = [None if np.isnan(v) else round(max(0.0, float(v) + interval[0]), 4) for v in values[pick]]
            item["high"] = [None if np.isnan(v) else round(float(v) + interval[1], 4) for v in values[pick]]
        out.append(item)
    return out
