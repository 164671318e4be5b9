"""model.search: the model step with a search — candidate families on the same folds within a time budget,
nested cross-validation for the reported figures, a leaderboard (engine/ml/model_search.py says how)."""

from __future__ import annotations

import os
import re
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import field_validator
from sklearn.metrics import balanced_accuracy_score

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml import candidates as cand
from engine.ml import model_search, sizing
from engine.core.boosters import has_linear_leaves
from engine.ml.bagging import merge_boosters
from engine.ml.frame import FeatureCoder, as_target, usable_features
from engine.ml.lgbm import ModelBundle, _threads, fold_metrics, shap_importance, splits, summarize
from engine.operators.model import _rank, _sample_pairs, _time_order, _weak_folds
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field

Family = Literal["lightgbm_default", "lightgbm_tuned", "smooth", "extra_trees"]


class ModelSearchParams(OpParams):
    target: str = ui_field(en="Target column", zh="目标列")
    features: list[str] = ui_field(en="Feature columns", zh="特征列")
    time: str | None = ui_field(None, en="Time column", zh="时间列",
                                help_en="when given, outer and inner folds are time-ordered")
    group: str | None = ui_field(None, en="Group column", zh="分组列", help_en="rows of one group stay in one fold")
    task: Literal["auto", "regression", "classification"] = ui_field("auto", en="Task", zh="任务类型")
    folds: int = ui_field(5, en="Cross-validation folds", zh="交叉验证折数", ge=2, le=20)
    candidates: list[Family] = ui_field(
        list(cand.DEFAULT_CANDIDATES), en="Candidate models", zh="候选模型",
        help_en="model families compared on the same folds; the default LightGBM always runs as the baseline",
        help_zh="在相同折上比较的模型族；默认 LightGBM 总作为基线运行")
    time_budget: float | None = ui_field(
        None, en="Search time budget (s)", zh="模型搜索时限(秒)", gt=0.0, le=86400.0,
        help_en="a hard deadline checked between trials and folds; empty: from the table's size",
        help_zh="在试验之间和各折之间检查的硬性时限；留空则按数据表大小确定")
    monotone: dict[str, Literal[-1, 0, 1]] = ui_field({}, en="Monotone directions", zh="单调方向")
    top_k: int = ui_field(30, en="Key parameters to list", zh="关键参数个数", ge=1, le=1000)
    n_estimators: int = ui_field(100, en="Trees of the default LightGBM row", zh="默认 LightGBM 的树数量", ge=10,
                                 le=5000, help_en="the plain baseline every search must beat (LightGBM's own default: 100)",
                                 help_zh="每次搜索都必须超过的朴素基线（LightGBM 自身默认值：100）")
    learning_rate: float = ui_field(0.1, en="Learning rate of the default LightGBM row", zh="默认 LightGBM 的学习率",
                                    gt=0, le=1.0)
    bag: int = ui_field(1, en="Models averaged in the final model", zh="最终模型平均的模型个数", ge=1, le=20,
                        help_en="when LightGBM is chosen, the final model averages this many seeds",
                        help_zh="选中 LightGBM 时，最终模型为这么多个随机种子模型的平均")

    @field_validator("candidates", mode="before")
    @classmethod
    def _split(cls, value):
        """A template's text parameter: 'lightgbm_tuned, smooth' (commas or spaces)."""
        if isinstance(value, str):
            return [v for v in re.split(r"[,\s]+", value) if v]
        return value

    def min_rows(self) -> int:
        return max(self.folds * 5, 20)


BIG_TABLE_BUDGET = 30.0


def default_budget(rows: int, columns: int) -> float:
    """Seconds: 15 for small tables, growing with the cells, at most 180; on a big table (≥ sizing.BIG_ROWS rows)
    at most BIG_TABLE_BUDGET, as its searches run on samples of ≤ sizing.SEARCH_ROWS rows whose needs do not grow
    with the table (the refits on every row are outside the budget). AI_STUDIO_SEARCH_BUDGET caps it (the test
    suite sets a tiny cap; a recipe's own time_budget is never capped)."""
    budget = min(180.0, max(15.0, 5.0 + rows * columns / 2000.0))
    if sizing.is_big(rows):
        budget = min(budget, BIG_TABLE_BUDGET)
    cap = os.environ.get("AI_STUDIO_SEARCH_BUDGET", "").strip()
    try:
        return float(min(budget, float(cap))) if cap and float(cap) > 0 else float(budget)
    except ValueError:
        return float(budget)


def _example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    # no tuned LightGBM here: its trials run until the wall-clock budget, so their number (and the result) depends
    # on the machine's speed; the default and smooth rows are deterministic with a seed, as the contract asks
    return ({"target": "yield", "features": ["temp", "speed", "humidity", "shift"], "folds": 3,
             "candidates": ["lightgbm_default", "smooth"], "time_budget": 30.0}, {"frame": tiny_plant()})


@operator("model.search", version=1, inputs=("frame",),
          outputs=("model", "metrics", "importance", "report", "leaderboard"), example=_example)
def search_v1(params: ModelSearchParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Model search: candidates on the same folds within a time budget, nested-CV metrics and a leaderboard."""
    return _search(params, ctx, frame, refined=False)


@operator("model.search", version=2, inputs=("frame",),
          outputs=("model", "metrics", "importance", "report", "leaderboard"), example=_example)
def search(params: ModelSearchParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Model search (version 1 plus: 5 inner folds for tables up to 2,000 rows; the tuned LightGBM averages its
    best settings the inner folds cannot tell apart), nested-CV metrics and a leaderboard."""
    return _search(params, ctx, frame, refined=True)


@operator("model.search", version=3, inputs=("frame",),
          outputs=("model", "metrics", "importance", "report", "leaderboard"), example=_example)
def search_v3(params: ModelSearchParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Model search as version 2, plus piecewise-linear leaves in the tuned LightGBM's space (regression).

    The tuned model averages the best of both leaf kinds when the inner folds cannot tell them apart; nested-CV
    metrics and a leaderboard as before."""
    return _search(params, ctx, frame, refined=True, linear=True)


def _search(params: ModelSearchParams, ctx: StepContext, frame: pd.DataFrame, refined: bool,
            linear: bool = False) -> dict:
    features, skipped_features = usable_features(frame, [c for c in params.features if c in frame.columns
                                                         and c != params.target])
    _check_input(params, frame, features)
    try:
        y, task, classes = as_target(frame[params.target], params.task)
    except ValueError as exc:
        raise StudioError(exc.args[0] if exc.args else str(exc)) from None
    coder = FeatureCoder.fit(frame, features)
    x = coder.transform(frame)
    order = _time_order(frame, params.time)
    groups = frame[params.group].to_numpy() if params.group else None
    outer = splits(len(frame), params.folds, ctx.seed, order, groups, y, task)
    monotone = [int(params.monotone.get(c, 0)) if c not in coder.levels else 0 for c in features]
    setup = cand.Setup(task, ctx.seed, _threads(len(frame) * len(features)), monotone,
                       wide=len(features) > len(frame) / 10, check=lambda: _cancel_check(ctx),
                       default_trees=params.n_estimators, default_rate=params.learning_rate, linear_leaves=linear,
                       features=int(x.shape[1]))
    budget = params.time_budget or default_budget(len(frame), len(features))
    families = ["lightgbm_default"] + [f for f in dict.fromkeys(params.candidates) if f != "lightgbm_default"]
    searched = model_search.SearchInput(x, y, task, outer, order, groups, families, budget, setup, ctx.progress,
                                        refined=refined,
                                        share=model_search.search_share(len(frame), 3 if linear else 2))
    found = model_search.run(searched)
    ctx.progress(0.95, Msg("importance and intervals", "重要性与区间"))
    final = _final(found, x, y, setup, params.bag)
    cuts = _thresholds(y, found.oof, outer) if task == "classification" else [0.5] * len(outer)
    per_fold = [fold_metrics(task, y[test], found.oof[test], cut) for (_, test), cut in zip(outer, cuts)]
    scored = ~np.isnan(found.oof)
    residual = y[scored] - found.oof[scored]
    cut = _threshold(y[scored], found.oof[scored]) if task == "classification" else 0.5
    bundle = ModelBundle(params.target, task, coder, final, found.fold_models, classes,
                         (float(np.quantile(residual, 0.05)), float(np.quantile(residual, 0.95))), cut)
    metrics = {"task": task, "folds": len(outer), "cv": "time-ordered" if order is not None else
               ("group" if groups is not None else "shuffled"), "rows": int(len(frame)), **summarize(per_fold),
               "model": found.chosen.family, "nested": True,
               "figures": "nested cross-validation: each outer fold's model was searched and picked on its training "
                          "rows only"}
    metrics["warnings"] = _weak_folds(per_fold, task)
    if task == "classification":
        metrics["threshold"] = {"final": round(cut, 6), "folds": [round(t, 6) for t in cuts],
                                "chosen_by": "out-of-fold predictions of the other outer folds"}
    ctx.progress(0.96, Msg("key parameters (SHAP on a sample of test rows)", "关键参数（在测试行样本上计算 SHAP）"))
    explained = sizing.explain_rows([outer[i][1] for i in found.fold_index], ctx.seed)
    importances, directions = _importance(found.fold_models, x, [(outer[i][0], rows) for i, rows in
                                                                 zip(found.fold_index, explained)], task, y, ctx.seed)
    importance = _rank(features, importances, directions, params.top_k)
    report = {"features_used": features, "features_skipped": skipped_features, "monotone": params.monotone,
              "model": found.chosen.family, "final_model_average_of": params.bag if _is_booster(final) else 1,
              "predicted_vs_actual": _sample_pairs(y[scored], found.oof[scored], ctx.seed),
              "residual_std": float(np.std(residual)) if len(residual) > 1 else None}
    report["sizing"] = _sizing(frame, x, y, outer, order, found, setup, task, explained, ctx, searched.binned)
    searched.binned = None
    leaderboard = {"rows": found.leaderboard, "chosen": found.chosen.family,
                   "metric": "r2" if task == "regression" else "auc", "cv": metrics["cv"], "folds": len(outer),
                   "inner_folds": model_search.inner_count(len(frame)) if refined else model_search.INNER_FOLDS,
                   "budget_seconds": round(budget, 3),
                   "budget_from": "params" if params.time_budget else "table size",
                   "seconds": round(found.seconds, 3), "skipped": found.skipped,
                   "chosen_settings": {k: v for k, v in found.chosen.settings.items() if k not in ("params", "blend")}}
    return {"model": bundle, "metrics": metrics, "importance": importance, "report": report,
            "leaderboard": leaderboard}


def _sizing(frame, x, y, outer, order, found, setup, task, explained, ctx, binned=None) -> dict:
    """What was computed on samples (result.json `scale`), and the learning curve when the run trains on a sample
    of the bound table (the data binding marks such a frame)."""
    sample = frame.attrs.get("sample")
    out = {"rows_trained": int(len(frame)), "final_model_from": found.final_from, "search_rows_max": sizing.SEARCH_ROWS,
           "search_sampled": len(frame) > sizing.SEARCH_ROWS, "explain_rows": int(sum(len(r) for r in explained)),
           "big_table": sizing.is_big(len(frame))}
    if not sample:
        return out
    default = next((r for r in found.leaderboard if r["model"] == "lightgbm_default"), None)
    last = len(outer) - 1
    full = default["folds"][last] if default and len(default.get("folds", [])) == len(outer) else None
    train, test = outer[last]
    params = cand.default_params(setup)
    metric = "r2" if task == "regression" else "auc"

    def fit_score(rows: np.ndarray) -> float:
        ctx.progress(0.97, Msg(f"learning curve: {len(rows):,} rows", f"学习曲线：{len(rows):,} 行"))
        model = (cand.fit_binned(binned, rows, params, setup) if binned is not None else
                 cand.fit_lgbm(x.iloc[rows], y[rows], params, setup))
        return cand.score(task, y[test], model.predict(x.iloc[test]))

    key = order if order is not None else y
    out["learning_curve"] = sizing.learning_curve(fit_score, train, key, full, metric, sample.get("rows_total"))
    out["learning_curve"]["fold"] = last + 1
    return out


def _check_input(params: ModelSearchParams, frame: pd.DataFrame, features: list[str]) -> None:
    if not features:
        raise StudioError(Msg("no usable feature columns are left after cleaning; assign more columns to the roles",
                              "清洗后没有可用的特征列了；请给角色分配更多列"))
    if len(frame) < params.min_rows():
        raise StudioError(Msg(f"only {len(frame)} rows with a target; {params.folds}-fold cross-validation "
                              f"needs at least {params.min_rows()} — lower params.folds or add rows",
                              f"有目标值的行只有 {len(frame)} 行；{params.folds} 折交叉验证至少需要 "
                              f"{params.min_rows()} 行——请减小 params.folds 或增加数据"))
    if frame[params.target].nunique(dropna=True) < 2:
        raise StudioError(Msg(f"target '{params.target}' has one value in every row: nothing to learn",
                              f"目标 '{params.target}' 每一行都是同一个值：没有可学习的规律"))


def _cancel_check(ctx: StepContext) -> None:
    if ctx.cancelled():
        ctx.progress(0.0)  # raises Cancelled


def _is_booster(model) -> bool:
    return isinstance(model, lgb.Booster)


def _final(found, x: pd.DataFrame, y: np.ndarray, setup: cand.Setup, bag: int):
    """The final model; a chosen LightGBM is averaged over `bag` seeds (smoother for the optimiser)."""
    if not _is_booster(found.final) or bag <= 1 or found.chosen.settings.get("blend"):
        return found.final      # a tuned blend is already an average of several models
    params = (cand.default_params(setup) if found.chosen.family == "lightgbm_default"
              else dict(found.chosen.settings["params"]))
    extra = [cand.fit_lgbm(x, y, {**params, "seed": setup.seed + i}, setup) for i in range(1, bag)]
    return merge_boosters([found.final] + extra)


def _threshold(y: np.ndarray, pred: np.ndarray) -> float:
    grid = np.unique(np.quantile(pred, np.linspace(0.0, 1.0, 101)))
    positive = y == 1
    if positive.all() or not positive.any() or not np.isin(y, (0, 1)).all():
        return float(grid[int(np.argmax([balanced_accuracy_score(y, (pred >= t).astype(int)) for t in grid]))])
    # the same balanced accuracy for every cut at once (sorted scores; a million rows take milliseconds, not 101 passes)
    pos, neg = np.sort(pred[positive]), np.sort(pred[~positive])
    recall_pos = 1.0 - np.searchsorted(pos, grid, side="left") / len(pos)
    recall_neg = np.searchsorted(neg, grid, side="left") / len(neg)
    return float(grid[int(np.argmax((recall_pos + recall_neg) / 2.0))])


def _thresholds(y: np.ndarray, oof: np.ndarray, outer: list) -> list[float]:
    """Each outer fold's cut from the other folds' out-of-fold predictions (never its own rows)."""
    out = []
    for _, test in outer:
        other = np.ones(len(y), dtype=bool)
        other[test] = False
        other &= ~np.isnan(oof)
        out.append(_threshold(y[other], oof[other]) if len(np.unique(y[other])) == 2 else 0.5)
    return out


def _importance(models: list, x: pd.DataFrame, outer: list, task: str, y: np.ndarray,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per fold: mean |SHAP| for LightGBM; for other models, the mean |change of prediction| when a column is
    shuffled on the fold's test rows (a model-agnostic sensitivity) with the direction of that change; LightGBM with
    linear leaves is one of the others (LightGBM has no SHAP for it)."""
    rng = np.random.default_rng(seed)
    imps, dirs = [], []
    for model, (_, test) in zip(models, outer):
        xt = x.iloc[test]
        if _is_booster(model) and not has_linear_leaves(model):
            imp, direction = shap_importance(model, xt)
        else:
            base = model.predict(xt)
            imp, direction = np.zeros(x.shape[1]), np.zeros(x.shape[1])
            for j, col in enumerate(x.columns):
                shuffled = xt.copy()
                shuffled[col] = xt[col].to_numpy()[rng.permutation(len(xt))]
                change = base - model.predict(shuffled)
                imp[j] = float(np.mean(np.abs(change)))
                if not isinstance(xt[col].dtype, pd.CategoricalDtype):
                    dx = xt[col].to_numpy(float) - shuffled[col].to_numpy(float)
                    ok = ~np.isnan(dx)
                    if ok.sum() > 2 and np.std(dx[ok]) > 0 and np.std(change[ok]) > 0:
                        direction[j] = np.sign(np.corrcoef(dx[ok], change[ok])[0, 1])
        imps.append(imp)
        dirs.append(direction)
    return np.array(imps), np.array(dirs)
