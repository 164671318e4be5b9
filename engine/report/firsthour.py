"""The report's share of issue 16: the verdict before any benefit (not actionable: reason and fix), the consequences
of the target the run found, and the scenario and model quality in plain words. Pure: result in, blocks out."""

from __future__ import annotations

from engine.core.i18n import Msg, text_of
from engine.report.plain import quality_words, scenario_words

KINDS = {"computed": Msg("computed from the target", "由目标算出"),
         "identity": Msg("identity (same measurement)", "恒等关系（同一测量）"),
         "same_flow": Msg("meter of the same flow", "同一能流的计量")}
ROLES = {"controllable": Msg("controllable", "可调参数"), "context": Msg("context", "工况"), "ignore": Msg("ignore", "忽略"),
         "unassigned": Msg("unassigned", "未分配")}


def actionable(result: dict) -> bool:
    """The stored verdict (engine.optim.sanity, added by the run or by the service writing the report)."""
    return (result.get("sanity") or {}).get("actionable", True)


def verdict_section(result: dict, lang: str) -> dict:
    """'Not actionable' with every reason and fix, or a one-line 'checked'; then the consequences found."""
    if not result.get("predicted"):
        return {"id": "verdict", "title": "", "blocks": []}
    verdict = result.get("sanity")
    if not verdict:
        return {"id": "verdict", "title": "", "blocks": []}
    if verdict["actionable"]:
        blocks = [{"kind": "text", "text": Msg("Checked: the recommendation is physically possible and the search "
                                               "finished well.", "已检查：推荐结果在物理上可能，搜索正常完成。").text(lang)}]
        title = Msg("Checks before the benefit", "收益前的检查")
    else:
        fix = Msg(" — fix: ", "——处理：").text(lang)
        blocks = [{"kind": "text", "text": Msg("This result is not possible as it stands, so no saving or benefit is "
                                               "stated. Fix the cause and run again:",
                                               "该结果按现状不可能成立，因此不列出节能或收益。请先消除原因再重新运行：").text(lang)},
                  {"kind": "list", "items": [f"{text_of(f['reason'], lang)}{fix}{text_of(f['fix'], lang)}"
                                             for f in verdict["findings"]]}]
        title = Msg("Not actionable", "不可执行")
    found = (result.get("consequences") or {}).get("found") or []
    if found:
        head = Msg("Leakage guard: consequences of the target (not settings)", "泄露检查：目标的结果（不是可调参数）")
        blocks.append({"kind": "table", "title": head.text(lang),
                       "columns": [Msg("Column", "列").text(lang), Msg("Kind", "类型").text(lang),
                                   Msg("Role in the recipe", "配方中的角色").text(lang), Msg("Evidence", "依据").text(lang)],
                       "rows": [[f["name"], KINDS.get(f["kind"], Msg(f["kind"])).text(lang),
                                 ROLES.get(f.get("role"), Msg(str(f.get("role")))).text(lang),
                                 text_of(f["evidence"], lang)] for f in found]})
    return {"id": "verdict", "title": title.text(lang), "blocks": blocks}


def summary_items(result: dict, lang: str) -> list[list[str]]:
    """Extra lines for the summary's key-value block: the scenario held, model quality in words."""
    items = []
    context = ((result.get("recipe") or {}).get("content") or {}).get("roles", {}).get("context") or []
    scenario = scenario_words(result.get("predicted") or {}, context) if result.get("predicted") else None
    if scenario:
        items.append([Msg("Conditions", "工况").text(lang), scenario.text(lang)])
    words = quality_words(result.get("metrics") or {})
    if words:
        items.append([Msg("Model quality in words", "模型精度（通俗）").text(lang), words.text(lang)])
    return items
