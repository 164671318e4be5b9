"""Sanity before success: is a recommendation physically and logically possible before it is shown as a benefit?

`check_result(result)` reads a run's result (result.json shape) and returns
`{"actionable": bool, "findings": [{check, reason{en,zh}, fix{en,zh}}], "checked": [...]}`. A result with any
finding is NOT actionable: screens and the report show the reason and the fix instead of a green number with money
per year. Checks:
- sign: the target was never negative but the recommendation predicts a negative value (−0.23 kWh);
- range: the recommended prediction lies well outside everything observed (more than 10 % of the range beyond);
- saving: a saving above 100 %, or more energy saved per hour than is used (the entered use, or the baseline);
- direction: every model predicts the recommendation is WORSE than today (the uplift interval excludes zero on the
  wrong side);
- solver: the optimiser stopped far from the proven best (relative gap above 25 %);
- consequence: a controllable is a consequence of the target (engine.ml.consequences): the answer is read off a meter.
Pure: a dict in, a dict out.
"""

from __future__ import annotations

import re

from engine.core.i18n import Msg

GAP_LIMIT = 0.25        # relative optimality gap above which a recommendation is not trusted
RANGE_SLACK = 0.10      # share of the observed range a prediction may lie beyond it


ENERGY_USE = re.compile(r"(?i)(kwh|mwh|gwh|consumption|usage|energy.?use|能耗|电耗|单耗|耗电|用电|煤耗|气耗|热耗)")


def is_energy_use(name: str) -> bool:
    """An amount of energy used (to minimise), not an efficiency (to maximise)."""
    return bool(ENERGY_USE.search(name)) and not re.search(r"(?i)effic|效率", name)


def _finding(check: str, reason: Msg, fix: Msg) -> dict:
    return {"check": check, "reason": reason.to_dict(), "fix": fix.to_dict()}


def _fmt(x: float) -> str:
    return f"{x:,.4g}" if abs(x) >= 1e-3 or x == 0 else "0"


def _range_findings(pred: dict) -> list[dict]:
    rec, observed = (pred.get("recommended") or {}).get("value"), pred.get("observed_range")
    if rec is None or not observed or None in observed:
        return []
    lo, hi = float(observed[0]), float(observed[1])
    target = pred.get("target", "")
    fix = Msg("the model extrapolates here: narrow the controllables' bounds (expert → safe ranges), lower the trust "
              "region, and check the roles (a meter of the target among the controllables lets the optimiser push "
              "it to an impossible corner)",
              "模型在此处外推：请收窄可调参数的安全范围、降低可信域，并检查角色（可调参数中若有目标的计量表，优化器会把它推到不可能的角落）")
    if lo >= 0 and rec < 0:
        return [_finding("sign", Msg(f"the recommendation predicts {target} = {_fmt(rec)}, but {target} was never "
                                     f"negative (observed {_fmt(lo)} – {_fmt(hi)}): impossible",
                                     f"推荐点预测 {target} = {_fmt(rec)}，但 {target} 从未为负（观测 {_fmt(lo)} – {_fmt(hi)}）：不可能"),
                         fix)]
    slack = RANGE_SLACK * max(hi - lo, 1e-12)
    if rec < lo - slack or rec > hi + slack:
        return [_finding("range", Msg(f"the recommendation predicts {target} = {_fmt(rec)}, far outside everything "
                                      f"observed ({_fmt(lo)} – {_fmt(hi)})",
                                      f"推荐点预测 {target} = {_fmt(rec)}，远超历史观测范围（{_fmt(lo)} – {_fmt(hi)}）"), fix)]
    return []


def _saving_findings(savings: dict | None, params: dict) -> list[dict]:
    if not savings:
        return []
    out = []
    fix = Msg("a saving cannot exceed the energy used: check that the target is the energy use (not a meter computed "
              "from it), the goal (minimise an energy use, maximise an efficiency) and the energy use entered",
              "节能量不可能超过用能量：请检查目标是否为能耗本身（而不是由它算出的计量值）、目标方向（能耗取最小化、效率取最大化）以及输入的当前能耗")
    pct = (savings.get("pct") or {}).get("value")
    if pct is not None and pct > 100:
        out.append(_finding("saving", Msg(f"a saving of {pct:.1f} % of the energy used: more than all of it",
                                          f"节能 {pct:.1f}%：超过了全部用能"), fix))
    per_hour = (savings.get("energy_per_hour") or {}).get("value")
    used = params.get("energy_per_hour")
    if used is None and savings.get("goal") == "minimize":
        used = savings.get("baseline")
    if per_hour is not None and used is not None and used > 0 and per_hour > used and not out:
        out.append(_finding("saving", Msg(f"{_fmt(per_hour)} saved per hour, more than the {_fmt(used)} used per hour",
                                          f"每小时节省 {_fmt(per_hour)}，超过了每小时用能 {_fmt(used)}"), fix))
    return out


def _direction_findings(pred: dict) -> list[dict]:
    up = pred.get("uplift") or {}
    low, high = up.get("low"), up.get("high")
    if low is None or high is None:
        return []
    worse = high < 0 if pred.get("goal", "maximize") == "maximize" else low > 0
    if not worse:
        return []
    return [_finding("direction", Msg("every model predicts the recommended settings are WORSE than today's",
                                      "所有模型都预测推荐设定比当前更差"),
                     Msg("keep today's settings; the search found no improvement (check the goal and the bounds)",
                         "请保持当前设定；搜索没有找到改进（请检查目标方向与范围）"))]


def _solver_findings(pred: dict) -> list[dict]:
    solver = pred.get("solver") or {}
    gap = solver.get("gap")
    if gap is None or gap <= GAP_LIMIT:
        return []
    return [_finding("solver", Msg(f"the optimiser stopped far from the best possible (it could still be {100 * gap:,.0f} % "
                                   "better or worse)", f"优化器在远未达到最优时停止（仍可能相差 {100 * gap:,.0f}%）"),
                     Msg("raise the solver time limit (advanced settings), or use fewer trees or leaves",
                         "请提高求解时限（高级设置），或减少树的数量/叶子数"))]


def _consequence_findings(consequences: dict | None, confirmed: list[str]) -> list[dict]:
    used = [f for f in (consequences or {}).get("found", []) if f.get("role") == "controllable"
            and f["name"] not in confirmed]
    if not used:
        return []
    names = ", ".join(f["name"] for f in used)
    return [_finding("consequence", Msg(f"{names}: measured consequences of the target, used as settings — the "
                                        "recommendation reads the answer off the meter",
                                        f"{names}：是目标的测量结果，却被当作可调参数——推荐只是从计量表上读出答案"),
                     Msg("move them to Ignore (Build → roles) and run again", "请把它们移到“忽略”（搭建 → 角色）后重新运行"))]


def _goal_findings(pred: dict) -> list[dict]:
    """Maximising an energy use (kWh, 能耗 …) 'saves' energy by using more of it."""
    target = pred.get("target") or ""
    if pred.get("goal") != "maximize" or not is_energy_use(target):
        return []
    return [_finding("goal", Msg(f"the goal is to maximise {target}, an energy use: the 'saving' would come from using "
                                 "more energy", f"目标方向是最大化能耗 {target}：所谓“节能”其实是多用能"),
                     Msg("set the goal to minimise (Build → parameters → target kind) and run again",
                         "请把目标类型设为最小化（搭建 → 设置 → 目标类型）后重新运行"))]


def check_result(result: dict) -> dict:
    """Whether a run's recommendation can be acted on; every reason and its fix (both languages)."""
    pred = result.get("predicted") or {}
    params = ((result.get("recipe") or {}).get("content") or {}).get("params") or {}
    confirmed = (((result.get("recipe") or {}).get("content") or {}).get("expert") or {}).get("confirmed_settings") or []
    findings = (_consequence_findings(result.get("consequences"), confirmed) + _range_findings(pred)
                + _saving_findings(result.get("savings"), params) + _direction_findings(pred) + _solver_findings(pred) + _goal_findings(pred))
    return {"actionable": not findings, "findings": findings,
            "checked": ["consequence", "sign", "range", "saving", "direction", "solver", "goal"]}
