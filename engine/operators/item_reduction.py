"""Test-item reduction: which test items can be dropped while bad products still get caught.

Items are dropped greedily (engine/ml/item_reduction.py) and the number dropped is decided on held-out products
(engine/ml/reduction_cv.py); this module checks the inputs and writes what the plant reads: items kept and dropped
(with why), the reduction in items and test cost, the miss rate of bad products with its bounds for the rule
"kept items + guard models" and for "kept items only", the false alarms, and the curve items kept → miss rate.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml import check_items as ti
from engine.ml.item_reduction import Settings
from engine.ml.lgbm import splits, summarize
from engine.ml.reduction_cv import bounds, choose, curve, final_plan, lost_share, run_folds
from engine.operators.model import _time_order
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class ItemReductionParams(OpParams):
    target: str = ui_field(en="Final verdict column", zh="最终判定列")
    items: list[str] = ui_field(en="Test items", zh="测试项")
    time: str | None = ui_field(None, en="Time column", zh="时间列",
                                help_en="when given, folds are time-ordered (decide on the past, check on the future)")
    group: str | None = ui_field(None, en="Group column", zh="分组列", help_en="rows of one lot stay in one fold")
    bad_label: str | None = ui_field(None, en="Value meaning bad", zh="表示不良的取值",
                                     help_en="empty: FAIL/NG/bad/不合格 are recognised, else the rarer value",
                                     help_zh="留空：自动识别 FAIL/NG/bad/不合格 等，否则取较少的取值")
    mandatory: list[str] = ui_field([], en="Mandatory items", zh="必测项",
                                    help_en="safety or regulatory items, never dropped", help_zh="安全或法规要求的测试项，永不删除")
    keep: list[str] = ui_field([], en="Always keep", zh="始终保留", help_en="expert force: never dropped either")
    limits: dict[str, tuple[float, float]] = ui_field({}, en="Test limits", zh="测试上下限",
                                                      help_en="[low, high] per item; items without are given the "
                                                              "range of the good products",
                                                      help_zh="每个测试项的 [下限, 上限]；未给出的按良品取值范围推断")
    max_miss_rate: float = ui_field(0.005, en="Max miss rate of bad products", zh="不良品最大漏检率", ge=0.0, le=0.5,
                                    help_en="share of bad products the reduced test may pass",
                                    help_zh="精简后测试允许放过的不良品比例")
    confidence: float = ui_field(0.95, en="Confidence", zh="置信度", ge=0.5, le=0.999)
    max_false_alarm: float = ui_field(0.05, en="Max false alarms", zh="最大误报率", ge=0.0, le=1.0,
                                      help_en="share of good products the reduced test may flag (sent to the full test)",
                                      help_zh="精简后测试允许误判（送去全测）的良品比例")
    use_model: bool = ui_field(True, en="Predict dropped items from kept ones", zh="用保留项预测被删项",
                               help_en="a product whose predicted value of a dropped item is near its limit is flagged",
                               help_zh="若由保留项预测的被删项取值接近其限值，则标记该产品")
    guard_sigma: float = ui_field(3.0, en="Guard band (σ)", zh="保护带（σ）", ge=0.5, le=10.0)
    max_predictors: int = ui_field(3, en="Predictors per dropped item", zh="每个被删项的预测项数", ge=1, le=20)
    min_corr: float = ui_field(0.5, en="Min correlation of a predictor", zh="预测项最小相关系数", ge=0.05, le=1.0)
    folds: int = ui_field(5, en="Cross-validation folds", zh="交叉验证折数", ge=2, le=20)
    costs: str = ui_field("", en="Cost per item", zh="单项测试成本", max_length=100_000,
                          help_en="'item=cost' pairs separated by commas or new lines (e.g. test seconds)",
                          help_zh="以逗号或换行分隔的“测试项=成本”（如测试秒数）")
    default_cost: float = ui_field(1.0, en="Cost of an item not listed", zh="未列出项的成本", ge=0.0)


def _example() -> tuple[dict, dict]:
    from engine.sim.check_items import make_test_line

    line = make_test_line(n_items=40, products=600, failing_groups=4, quiet_groups=2, singletons=2, rare_modes=1,
                          functional_modes=1, functional_unique=1, safety=1, bad_rate=0.1)
    return ({"target": "verdict", "items": line.item_names, "mandatory": line.truth.mandatory, "folds": 3,
             "max_miss_rate": 0.02}, {"frame": line.frame})


@operator("select.test_items", version=1, inputs=("frame",),
          outputs=("plan", "test_reduction", "metrics", "key_parameters"), example=_example)
def reduce_test_items(params: ItemReductionParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Drop the test items whose outcome the others predict, keeping the miss rate of bad products under a limit."""
    frame, names, bad, bad_value = _inputs(params, frame)
    data = ti.items(frame, names, bad)
    protected = set(params.mandatory) | set(params.keep)
    mandatory = np.array([n in protected for n in names])
    cost = _costs(params.costs, params.default_cost, names)
    settings = Settings(params.use_model, params.guard_sigma, params.max_predictors, params.min_corr,
                        params.max_false_alarm, stop_miss=max(0.2, 4 * params.max_miss_rate))
    groups = frame[params.group].to_numpy() if params.group else None
    fold_idx = splits(len(frame), params.folds, ctx.seed, _time_order(frame, params.time), groups,
                      bad.astype(int), "classification")
    folds = run_folds(data, bad, params.limits, mandatory, cost, settings, fold_idx, ctx.progress)
    points = curve(folds, params.confidence)
    n_bad = sum(f.bad for f in folds)
    decision = choose(points, n_bad, params.max_miss_rate, params.confidence, params.max_false_alarm)
    ctx.progress(len(fold_idx) / (len(fold_idx) + 1), Msg("final elimination on every product", "在全部产品上做最终剔除"))
    plan, elim = final_plan(data, bad, params.limits, mandatory, cost, settings, decision["drops"],
                            lost_share(folds, decision["drops"]))
    report = _report(params, data, bad, bad_value, elim, plan, folds, points, decision, cost, protected)
    metrics = _metrics(folds, decision["drops"], len(frame), params.time, groups is not None)
    return {"plan": plan, "test_reduction": report, "metrics": metrics, "key_parameters": _key_items(report)}


def _inputs(params: ItemReductionParams, frame: pd.DataFrame):
    if params.target not in frame.columns:
        raise StudioError(Msg(f"verdict column '{params.target}' is not in the data",
                              f"判定列 '{params.target}' 不在数据中"))
    carry = {params.target, params.time, params.group}
    names = [c for c in dict.fromkeys(params.items) if c in frame.columns and c not in carry]
    missing = [c for c in params.items if c not in frame.columns]
    if missing:
        shown = ", ".join(missing[:10])
        raise StudioError(Msg(f"test items not in the data: {shown}", f"以下测试项不在数据中：{shown}"))
    unknown = [c for c in [*params.mandatory, *params.keep, *params.limits] if c not in names]
    if unknown:
        shown = ", ".join(unknown[:10])
        raise StudioError(Msg(f"mandatory items, kept items and limits must name test items; not test items: {shown}",
                              f"必测项、保留项和限值只能指定测试项；以下不是测试项：{shown}"))
    if len(names) < 2:
        raise StudioError(Msg("at least two test items are needed; assign the item columns to the test-items role",
                              "至少需要两个测试项；请把测试项列指定为“测试项”角色"))
    frame = frame[frame[params.target].notna()]
    bad, bad_value = ti.verdict(frame[params.target], params.bad_label)
    need = 2 * params.folds
    if bad.sum() < need or (~bad).sum() < need:
        n_bad, n_good = int(bad.sum()), int((~bad).sum())
        raise StudioError(Msg(f"{n_bad} bad and {n_good} good products: at least {need} of each are "
                              f"needed for {params.folds}-fold cross-validation; add products or use fewer folds",
                              f"不良品 {n_bad} 个、良品 {n_good} 个：{params.folds} 折交叉验证每类至少需要 {need} 个；"
                              f"请增加产品数据，或减少折数"))
    return frame, names, bad, bad_value


def _costs(text: str, default: float, names: list[str]) -> np.ndarray:
    """'item=cost' pairs (commas, semicolons or new lines between them) → cost per item."""
    cost = {n: default for n in names}
    for piece in filter(None, (p.strip() for p in re.split(r"[,;\n]", text or ""))):
        name, sep, value = piece.rpartition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not np.isfinite(number) or number < 0:
            raise StudioError(Msg(f"cost '{piece}' is not 'item=cost' with a cost ≥ 0; write e.g. 'vout_3v3=1.5'",
                                  f"成本 '{piece}' 不是“测试项=成本”（成本 ≥ 0）的格式；例如写 'vout_3v3=1.5'"))
        if name not in cost:
            raise StudioError(Msg(f"cost given for '{name}', which is not a test item",
                                  f"为 '{name}' 设定了成本，但它不是测试项"))
        cost[name] = number
    return np.array([cost[n] for n in names])


def _metrics(folds, drops: int, rows: int, time: str | None, grouped: bool) -> dict:
    per_fold = [{"miss_rate": f.curve[drops]["misses"] / max(f.bad, 1),
                 "miss_rate_kept_only": f.curve[drops]["misses_kept_only"] / max(f.bad, 1),
                 "false_alarm_rate": f.curve[drops]["false_alarms"] / max(f.good, 1)} for f in folds]
    return {"task": "classification", "folds": len(folds), "rows": rows,
            "cv": "time-ordered" if time else ("group" if grouped else "shuffled"), **summarize(per_fold),
            "warnings": []}


def _rate(k: int, n: int, confidence: float) -> dict:
    low, high = bounds(k, n, confidence)
    return {"value": round(k / max(n, 1), 6), "low": round(low, 6), "high": round(high, 6), "count": k, "of": n,
            "confidence": confidence}


def _report(params, data, bad, bad_value, elim, plan, folds, points, decision, cost, protected) -> dict:
    names, drops = data.names, decision["drops"]
    at = points[drops]
    n_bad, n_good = sum(f.bad for f in folds), sum(f.good for f in folds)
    dropped_in_fold = [set(f.dropped[:drops]) for f in folds]
    kept_idx = [j for j in range(len(names)) if elim.kept[j]]
    fails, caught = elim.train.fails, elim.train.caught
    kept_fail_count = fails[:, kept_idx].sum(axis=1)
    kept = [{"name": names[j], "mandatory": names[j] in protected, "fails": int(fails[caught, j].sum()),
             "unique": int((caught & fails[:, j] & (elim.cover == 1)).sum()),
             "stability": round(float(np.mean([j not in s for s in dropped_in_fold])), 3), "cost": float(cost[j])}
            for j in kept_idx]
    dropped = [_why(j, names, elim, kept_fail_count, dropped_in_fold) | {"cost": float(cost[j])}
               for j in (d["item"] for d in elim.dropped)]
    total, kept_cost = float(cost.sum()), float(cost[kept_idx].sum())
    full_misses = sum(f.full_misses for f in folds)
    warnings = _warnings(decision, n_bad, params, full_misses, at)
    return {
        "verdict": {"column": params.target, "bad_value": str(bad_value), "bad": int(bad.sum()),
                    "good": int((~bad).sum())},
        "items_total": len(names), "items_kept": len(kept_idx), "items_dropped": len(names) - len(kept_idx),
        "reduction_pct": round(100 * (len(names) - len(kept_idx)) / len(names), 2),
        "cost": {"total": total, "kept": kept_cost, "saved": total - kept_cost,
                 "saved_pct": round(100 * (total - kept_cost) / total, 2) if total > 0 else 0.0},
        "miss_rate": _rate(at["misses"], n_bad, params.confidence),
        "miss_rate_kept_only": _rate(at["misses_kept_only"], n_bad, params.confidence),
        "false_alarm_rate": _rate(at["false_alarms"], n_good, params.confidence),
        "false_alarm_rate_kept_only": round(at["false_alarm_rate_kept_only"], 6),
        "full_test": {"miss_rate": _rate(full_misses, n_bad, params.confidence),
                      "false_alarm_rate": round(points[0]["false_alarm_rate"], 6)},
        "decision": {"criterion": decision["criterion"], "max_miss_rate": params.max_miss_rate,
                     "confidence": params.confidence, "bad_needed": decision["bad_needed"],
                     "max_false_alarm": params.max_false_alarm, "use_model": params.use_model,
                     "folds": len(folds)},
        "limits": {"given": sorted(set(params.limits)), "inferred": int(sum(
            1 for j, n in enumerate(names) if not data.passfail[j] and n not in params.limits))},
        "kept": sorted(kept, key=lambda k: (-k["unique"], -k["fails"], k["name"])),
        "dropped": dropped,
        "curve": [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in p.items()} for p in points],
        "rule": {"guard_sigma": plan.z, "limits": {n: list(plan.limits[n]) for n in plan.kept},
                 "guards": [{**g, "limits": list(plan.limits[g["item"]])} for g in plan.guards]},
        "warnings": warnings,
    }


def _why(j: int, names: list[str], elim, kept_fail_count: np.ndarray, dropped_in_fold: list[set]) -> dict:
    """Why item j could go: it never failed, its fails are caught by kept items (which), or predicted (from which)."""
    fails, caught = elim.train.fails, elim.train.caught
    rows = caught & fails[:, j]
    n = int(rows.sum())
    entry = {"name": names[j], "fails": n, "stability": round(float(np.mean([j in s for s in dropped_in_fold])), 3)}
    guard = elim.guards.get(j)
    if guard is not None:
        entry["predicted_from"] = {"items": [{"name": names[k], "corr": round(float(elim.corr[j, k]), 4)}
                                             for k in guard.predictors], "r2": round(guard.r2, 4)}
    if n == 0:
        return entry | {"reason": "never_failed", "covered_by": []}
    kept_idx = np.flatnonzero(elim.kept)
    co = fails[rows][:, kept_idx].sum(axis=0)
    top = np.argsort(-co, kind="stable")[:3]
    entry["covered_by"] = [{"name": names[kept_idx[k]], "share": round(float(co[k] / n), 4)} for k in top if co[k]]
    by_kept = float((kept_fail_count[rows] > 0).mean())
    by_rule = float((elim.cover[rows] > 0).mean())
    reason = "covered" if by_kept == 1.0 else ("predicted" if by_rule == 1.0 else "accepted_risk")
    return entry | {"reason": reason, "caught_by_kept": round(by_kept, 4), "caught_by_rule": round(by_rule, 4)}


def _warnings(decision: dict, n_bad: int, params, full_misses: int, at: dict) -> list[dict]:
    out = []
    if decision["criterion"] == "median":
        ub = bounds(0, n_bad, params.confidence)[1]
        out.append({"en": f"With {n_bad} bad products the data cannot confirm a miss rate below "
                          f"{100 * params.max_miss_rate:.2g} %: even no miss at all leaves a "
                          f"{100 * params.confidence:.0f} % upper bound of {100 * ub:.2g} %. Items were dropped on "
                          f"the median estimate of the miss rate; about {decision['bad_needed']} bad products would "
                          f"confirm the limit.",
                    "zh": f"仅有 {n_bad} 个不良品，数据无法证实漏检率低于 {100 * params.max_miss_rate:.2g} %："
                          f"即使零漏检，{100 * params.confidence:.0f} % 置信上限仍为 {100 * ub:.2g} %。"
                          f"本次按漏检率的中位估计删项；约需 {decision['bad_needed']} 个不良品才能证实。"})
    if full_misses:
        out.append({"en": f"The full test itself passes {full_misses} of {n_bad} bad products on held-out data "
                          f"(their verdict is not explained by the items' limits); they are not counted as misses of "
                          f"the reduction.",
                    "zh": f"在留出数据上，完整测试本身就放过了 {n_bad} 个不良品中的 {full_misses} 个"
                          f"（其判定无法由测试项限值解释）；这些不计入精简带来的漏检。"})
    if decision["drops"] == 0:
        out.append({"en": "No item could be dropped within the miss-rate limit and the false-alarm budget.",
                    "zh": "在漏检率上限和误报预算内，没有可删除的测试项。"})
    return out


def _key_items(report: dict) -> list[dict]:
    """Kept items ranked by the bad products only they catch (then by all they catch), as key parameters."""
    n_bad = max(report["verdict"]["bad"], 1)
    return [{"name": k["name"], "rank": i + 1, "importance": round(k["fails"] / n_bad, 6), "importance_std": 0.0,
             "direction": 0, "stability": k["stability"]} for i, k in enumerate(report["kept"])]
