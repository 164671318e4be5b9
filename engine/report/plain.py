"""Plain words for a run's numbers, the same on screens and in the report: model quality, the optimiser's status,
the scenario a recommendation holds. Pure: result parts in, bilingual messages out."""

from __future__ import annotations

from typing import Any

from engine.core.i18n import Msg
from engine.core.numbers import people

R2_WORDS = [  # (lowest R², en, zh)
    (0.9, "good enough to read the size of an effect, not only its direction", "足以判断影响的大小，而不仅是方向"),
    (0.7, "reliable for the direction and rough size of an effect: confirm the size with a trial",
     "可靠地给出影响的方向和大致大小：大小请用试验确认"),
    (0.4, "useful for the direction of an effect, rough on its size", "能指出影响的方向，对大小只是粗略估计"),
    (0.1, "useful for direction, not for precise prediction", "可用于判断方向，不能用于精确预测"),
    (float("-inf"), "too weak to act on: more data, or the columns that drive the outcome, are needed",
     "太弱，不宜据此行动：需要更多数据，或补充真正影响结果的列"),
]
AUC_WORDS = [
    (0.9, "separates good from bad very well", "能很好地区分好与坏"),
    (0.8, "separates good from bad well: useful for direction and rough size", "能较好地区分好与坏：可判断方向和大致大小"),
    (0.7, "separates good from bad fairly: useful for direction", "区分好与坏的能力一般：可用于判断方向"),
    (float("-inf"), "barely better than chance: too weak to act on", "仅略好于随机：太弱，不宜据此行动"),
]


def quality_words(metrics: dict[str, Any]) -> Msg | None:
    """e.g. 'explains 30 % of the variation: useful for direction, not for precise prediction'."""
    if isinstance(metrics.get("r2"), dict) and metrics["r2"].get("mean") is not None:
        r2 = float(metrics["r2"]["mean"])
        en, zh = next((e, z) for low, e, z in R2_WORDS if r2 >= low)
        share = people(max(0.0, 100 * r2), 2)
        out = Msg(f"the model explains {share} % of the variation: {en}", f"模型解释了 {share}% 的波动：{zh}")
    elif isinstance(metrics.get("auc"), dict) and metrics["auc"].get("mean") is not None:
        auc = float(metrics["auc"]["mean"])
        en, zh = next((e, z) for low, e, z in AUC_WORDS if auc >= low)
        out = Msg(f"the model {en} (AUC {people(auc, 2)})", f"模型{zh}（AUC {people(auc, 2)}）")
    else:
        return None
    spread = _spread(metrics)
    return Msg(f"{out}{spread}", f"{out.zh}{spread.zh}") if spread else out


def _spread(metrics: dict) -> Msg | None:
    key = "r2" if "r2" in metrics else "auc"
    std = (metrics.get(key) or {}).get("std")
    if std is not None and std > 0.1:
        return Msg("; it varies a lot from one period or group to the next", "；不同时期或分组之间差异很大")
    return None


def solver_words(solver: dict[str, Any] | None) -> Msg | None:
    """The optimiser's status as a plant manager reads it (the raw status and gap go under 'details')."""
    if not solver:
        return None
    status, gap = solver.get("status"), solver.get("gap")
    if status == "optimal" or (gap is not None and gap <= 1e-3):
        return Msg("the best settings the model allows were found and proven best", "已找到并证明是模型允许范围内的最佳设定")
    if gap is not None and gap <= 0.25:
        pct = people(100 * gap, 2)
        return Msg(f"the search stopped at its time limit with settings proven within {pct} % of the best",
                   f"搜索在时限内停止，所得设定已证明与最佳相差不超过 {pct}%")
    if gap is not None:
        return Msg("the search stopped at its time limit far from the proven best: the settings are a rough answer",
                   "搜索在时限内停止，离已证明的最佳还很远：所得设定只是粗略答案")
    return Msg("the search stopped before it could prove how good the settings are", "搜索在证明设定优劣之前就停止了")


SCENARIOS = {"latest": Msg("the latest row (current conditions)", "最新一行（当前工况）"),
             "median": Msg("typical conditions (each column's median or most common value)", "典型工况（各列中位数或最常见值）")}


def scenario_words(predicted: dict[str, Any], context: list[str]) -> Msg | None:
    """'for the latest row (current conditions): Load_Type = Light_Load, NSM = 42,750'."""
    settings = predicted.get("settings") or {}
    shown = ", ".join(f"{c} = {people(settings[c])}" for c in context if c in settings)
    kind = SCENARIOS.get(predicted.get("scenario"), Msg(str(predicted.get("scenario") or "—")))
    if not shown:
        return Msg(f"for {kind}", f"针对{kind.zh}")
    return Msg(f"for {kind}: {shown}", f"针对{kind.zh}：{shown}")
