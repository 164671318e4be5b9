"""Modelling operators."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml.distributed import fit_final, partitioned
from engine.ml.frame import FeatureCoder, as_target, feature_schema, usable_features
from engine.ml.lgbm import ModelBundle, cross_validate, fit_booster, inner_threshold, lgb_params, splits, \
    summarize
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class LightGBMParams(OpParams):
    target: str = ui_field(en="Target column", zh="目标列")
    features: list[str] = ui_field(en="Feature columns", zh="特征列")
    time: str | None = ui_field(None, en="Time column", zh="时间列",
                                help_en="when given, folds are time-ordered (train on the past, test on the future)")
    group: str | None = ui_field(None, en="Group column", zh="分组列", help_en="rows of one group stay in one fold")
    task: Literal["auto", "regression", "classification"] = ui_field("auto", en="Task", zh="任务类型")
    folds: int = ui_field(5, en="Cross-validation folds", zh="交叉验证折数", ge=2, le=20)
    n_estimators: int = ui_field(300, en="Trees", zh="树的数量", ge=10, le=5000)
    learning_rate: float = ui_field(0.05, en="Learning rate", zh="学习率", gt=0.0, le=1.0)
    num_leaves: int = ui_field(31, en="Leaves per tree", zh="每棵树叶子数", ge=2, le=1024)
    min_child_samples: int = ui_field(20, en="Min rows per leaf", zh="叶子最少样本数", ge=1, le=10000)
    monotone: dict[str, Literal[-1, 0, 1]] = ui_field({}, en="Monotone directions", zh="单调方向")
    top_k: int = ui_field(30, en="Key parameters to list", zh="关键参数个数", ge=1, le=1000)
    tune_threshold: bool = ui_field(True, en="Choose the decision threshold by inner CV", zh="内层交叉验证选择判定阈值",
                                    help_en="classification: the probability cut maximising balanced accuracy, chosen "
                                            "on each fold's training rows only (3 extra fits per fold)",
                                    help_zh="分类：在每折训练行上（内层交叉验证）选择使平衡准确率最高的概率阈值（每折多训练 3 次）")
    bag: int = ui_field(1, en="Models averaged in the final model", zh="最终模型平均的模型个数", ge=1, le=20,
                        help_en="the final model averages this many models fitted with different seeds: smoother, and "
                                "an optimiser exploits its chance peaks less (the fold models stay single: the "
                                "cross-validated metrics are of one model, a conservative figure)",
                        help_zh="最终模型为不同随机种子训练的多个模型的平均：更平滑，优化器更少利用偶然的峰值"
                                "（各折模型仍为单个模型：交叉验证指标按单个模型计算，偏保守）")


def _example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    return ({"target": "yield", "features": ["temp", "speed", "humidity", "shift"], "folds": 3, "n_estimators": 30,
             "monotone": {"speed": 1}}, {"frame": tiny_plant()})


@operator("model.lightgbm_cv", version=1, inputs=("frame",), outputs=("model", "metrics", "importance", "report"),
          example=_example)
def lightgbm_cv(params: LightGBMParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """LightGBM with cross-validated metrics (time-aware when a time column is given) and SHAP importance."""
    return train_cv(params, ctx, frame)


def train_cv(params: LightGBMParams, ctx: StepContext, frame: pd.DataFrame,
             adjust=None, blend=None) -> dict:
    """lightgbm_cv's work; `adjust(lgb params, task, rows, features) -> (lgb params, note | None)` may change the
    LightGBM settings once the task and the table's shape are known (model.lightgbm_cv@2's wide-table rule); when
    it did (a note), `blend(x, y, fold_idx, cv, lgb params, seed)` may average other
    models into the fold predictions and the bundle (model.lightgbm_cv@3): it rewrites cv's out-of-fold
    predictions, per-fold metrics and thresholds and returns {"bundle", "cut", "models", "chosen_by"}."""
    features = [c for c in params.features if c in frame.columns and c != params.target]
    features, skipped = usable_features(frame, features)
    if not features:
        raise StudioError(Msg("no usable feature columns are left after cleaning; assign more columns to the roles",
                              "清洗后没有可用的特征列了；请给角色分配更多列"))
    min_rows = max(params.folds * 5, 20)
    if len(frame) < min_rows:
        raise StudioError(Msg(f"only {len(frame)} rows with a target; at least {min_rows} are needed for "
                              f"{params.folds}-fold cross-validation",
                              f"有目标值的行只有 {len(frame)} 行；{params.folds} 折交叉验证至少需要 {min_rows} 行"))
    if frame[params.target].nunique(dropna=True) < 2:
        raise StudioError(Msg(f"target '{params.target}' has one value in every row: nothing to learn",
                              f"目标 '{params.target}' 每一行都是同一个值：没有可学习的规律"))
    try:
        y, task, classes = as_target(frame[params.target], params.task)
    except ValueError as exc:
        raise StudioError(exc.args[0] if exc.args else str(exc)) from None
    coder = FeatureCoder.fit(frame, features)
    monotone = [int(params.monotone.get(c, 0)) if c not in coder.levels else 0 for c in features]
    lgbp = lgb_params(task, params.n_estimators, params.learning_rate, params.num_leaves,
                      params.min_child_samples, ctx.seed, monotone, cells=len(frame) * len(features))
    note = None
    if adjust is not None:
        lgbp, note = adjust(lgbp, task, len(frame), len(features))
    order = _time_order(frame, params.time)
    groups = frame[params.group].to_numpy() if params.group else None
    fold_idx = splits(len(frame), params.folds, ctx.seed, order, groups, y, task)
    blend = blend if note is not None else None
    cv = cross_validate(frame, params.target, y, task, coder, lgbp, fold_idx, ctx.progress,
                        params.tune_threshold and blend is None)
    ctx.progress(len(fold_idx) / (len(fold_idx) + 1), Msg("final model", "最终模型"))
    x = coder.transform(frame)
    final = fit_final(x, y, lgbp, ctx.seed, params.bag)  # across a Dask cluster's workers when large
    blended = blend(x, y, fold_idx, cv, lgbp, ctx.seed) if blend else None
    if blended:
        cut = blended["cut"]
    else:
        cut = inner_threshold(x, y, lgbp, ctx.seed) if task == "classification" and params.tune_threshold else 0.5
    scored = ~np.isnan(cv["oof"])
    residual = y[scored] - cv["oof"][scored]
    bundle = ModelBundle(params.target, task, coder, final, cv["models"], classes,
                         (float(np.quantile(residual, 0.05)), float(np.quantile(residual, 0.95))), cut,
                         schema=feature_schema(frame, features))
    if blended:
        bundle = blended["bundle"](bundle)
    metrics = {"task": task, "folds": len(fold_idx), "cv": "time-ordered" if order is not None else
               ("group" if groups is not None else "shuffled"), "rows": int(len(frame)), **summarize(cv["per_fold"])}
    metrics["warnings"] = _weak_folds(cv["per_fold"], task)
    if note:
        metrics["settings"] = note
    if blended:
        metrics["models"] = blended["models"]
    if task == "classification":
        metrics["threshold"] = {"final": round(cut, 6), "folds": [round(t, 6) for t in cv["thresholds"]],
                                "chosen_by": "inner cross-validation on training rows" if params.tune_threshold
                                else "fixed at 0.5"}
        if blended:
            metrics["threshold"]["chosen_by"] = blended["chosen_by"]
    importance = _rank(features, cv["importances"], cv["directions"], params.top_k)
    report = {"features_used": features, "features_skipped": skipped, "monotone": params.monotone,
              "final_model_average_of": params.bag, "final_model_across_cluster": partitioned(x),
              "predicted_vs_actual": _sample_pairs(y[scored], cv["oof"][scored], ctx.seed),
              "residual_std": float(np.std(residual)) if len(residual) > 1 else None}
    return {"model": bundle, "metrics": metrics, "importance": importance, "report": report}


def _sample_pairs(actual: np.ndarray, predicted: np.ndarray, seed: int, limit: int = 400) -> dict:
    """Out-of-fold predictions against the truth (a sample), for the predicted-vs-actual chart."""
    pick = np.random.default_rng(seed).permutation(len(actual))[:limit]
    return {"actual": [round(float(v), 6) for v in actual[pick]],
            "predicted": [round(float(v), 6) for v in predicted[pick]]}


def _weak_folds(per_fold: list[dict], task: str) -> list[dict]:
    """Folds where the model learned nothing (R² ≤ 0, AUC ≤ 0.5): often too little history before them."""
    key, floor = ("r2", 0.0) if task == "regression" else ("auc", 0.5)
    weak = [i + 1 for i, f in enumerate(per_fold) if not f[key] > floor]
    if not weak:
        return []
    folds = ", ".join(map(str, weak))
    return [{"en": f"In fold(s) {folds} the model did no better than a constant ({key} ≤ {floor}); "
                   f"treat the metrics and recommendations with care (more data or fewer folds may help).",
             "zh": f"第 {folds} 折中模型不优于常数预测（{key} ≤ {floor}）；请谨慎看待指标和推荐（更多数据或更少折数可能有帮助）。"}]


def _time_order(frame: pd.DataFrame, time: str | None) -> np.ndarray | None:
    if not time:
        return None
    s = frame[time]
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("int64").to_numpy()
    return pd.to_numeric(s, errors="coerce").to_numpy()


def _rank(features: list[str], importances: np.ndarray, directions: np.ndarray, top_k: int) -> list[dict]:
    """Features ranked by mean |SHAP| share; stability = share of folds where it is in the top k."""
    share = importances / np.maximum(importances.sum(axis=1, keepdims=True), 1e-300)
    mean = share.mean(axis=0)
    k = min(top_k, len(features))
    top_sets = [set(np.argsort(-row)[:k]) for row in share]
    ranked = np.argsort(-mean)[:k]
    out = []
    for rank, j in enumerate(ranked, start=1):
        direction = float(np.sign(np.nansum(directions[:, j])))
        out.append({"name": features[j], "rank": rank, "importance": round(float(mean[j]), 6),
                    "importance_std": round(float(share[:, j].std()), 6),
                    "direction": int(direction), "stability": round(sum(j in s for s in top_sets) / len(top_sets), 3)})
    return out
