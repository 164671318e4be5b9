"""Recipe tuning: best quality within a cost budget, or the cheapest recipe meeting a quality spec, with the
quality-vs-cost Pareto front — each answer an exact MILP over the trained trees (engine.optim.pareto), verified.

A categorical controllable (a raw-material origin or lot) is not a MILP variable: the problem is solved once per
level (per combination of levels) and the best answer kept. That is exact — the optimum is the best of the
per-level optima — and cheap for the few levels such a choice has. The Pareto front is drawn for the chosen level.
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh
from engine.ml.lgbm import ModelBundle
from engine.ml.search import Box
from engine.operators.optimize import _full_point, _plain, _predicted, model_rows, recommendations, setup
from engine.operators.optimize_exact import LinearConstraintParams, _distance, _encoded, _far_from_data, _setting
from engine.optim import Domain, Infeasible, LinearConstraint, NoFeasiblePoint, trust_region
from engine.optim.constraints import TOLERANCE, envelope_text
from engine.optim.pareto import CostModel, RecipeProblem, TunedPoint, best_quality, bracket, cheapest, front, \
    spec_check
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field

MAX_LEVEL_CHOICES = 24  # combinations of categorical levels solved one by one


class TuningParams(OpParams):
    controllable: list[str] = ui_field(en="Controllable columns", zh="可调参数")
    objective: Literal["max_quality", "min_cost"] = ui_field(
        "max_quality", en="Objective", zh="优化目标", widget="radio",
        help_en="maximise quality at cost <= budget, or minimise cost at quality >= spec",
        help_zh="在成本 ≤ 预算下使质量最优，或在质量 ≥ 规格下使成本最低")
    goal: Literal["maximize", "minimize"] = ui_field("maximize", en="Better quality is", zh="质量优化方向",
                                                     help_en="maximize: higher is better (strength, pass rate)")
    costs: dict[str, float] = ui_field({}, en="Prices per unit", zh="单位价格",
                                       help_en="column -> price per unit; 'column=level' -> surcharge of a level")
    composition: list[str] = ui_field([], en="Composition columns", zh="配方组分列",
                                      help_en="columns whose sum is held: at `total`, or in its historical range")
    total: float | None = ui_field(None, en="Composition total", zh="组分总量",
                                   help_en="empty: keep the sum within its historical 1-99% range")
    budget: float | None = ui_field(None, en="Cost budget", zh="成本预算")
    spec: float | None = ui_field(None, en="Quality spec", zh="质量规格")
    pareto_points: int = ui_field(7, en="Pareto points", zh="帕累托点数", ge=0, le=30)
    constraints: list[LinearConstraintParams] = ui_field([], en="Further linear constraints", zh="其他线性约束")
    scenario: Literal["median", "latest"] = ui_field("median", en="Context scenario", zh="工况场景")
    time: str | None = ui_field(None, en="Time column", zh="时间列")
    envelope: tuple[float, float] = ui_field((0.01, 0.99), en="Operating envelope (quantiles)", zh="运行包络(分位数)")
    bounds: dict[str, tuple[float, float]] = ui_field({}, en="Expert bounds", zh="专家设定范围")
    pin: dict[str, float] = ui_field({}, en="Pinned values", zh="固定取值")
    trust: float = ui_field(1.0, en="Trust region (quantile)", zh="可信域(分位数)", gt=0.0, le=1.0)
    window_share: float = ui_field(0.2, en="Window tolerance", zh="操作窗口容差", gt=0.0, le=1.0)
    time_limit: float = ui_field(30.0, en="Solver time limit per solve (s)", zh="单次求解时限(秒)", gt=0.0, le=3600.0)
    mip_gap: float = ui_field(1e-4, en="Target optimality gap", zh="目标最优性间隙", ge=0.0, le=0.5)
    report_seconds: bool = ui_field(True, en="Report solver wall time", zh="报告求解耗时")


def _example() -> tuple[dict, dict]:
    from engine.operators.model import LightGBMParams, lightgbm_cv
    from engine.sim.rubber import COMPOSITION, make_compound

    plant = make_compound(rows=160)
    features = COMPOSITION + ["cure_time_min", "mooney"]
    trained = lightgbm_cv(LightGBMParams(target="tensile_mpa", features=features, folds=3, n_estimators=20,
                                         num_leaves=5), StepContext("example", "train", 0), plant.frame)
    costs = {k: v for k, v in plant.costs().items() if "=" not in k}
    params = {"controllable": COMPOSITION + ["cure_time_min"], "costs": costs, "composition": COMPOSITION,
              "total": 100.0, "budget": 160.0, "pareto_points": 2, "time_limit": 20.0, "report_seconds": False}
    return params, {"frame": plant.frame, "model": trained["model"]}


@operator("optimize.recipe_tuning", version=1, inputs=("frame", "model"),
          outputs=("recommendations", "predicted", "pareto"), example=_example)
def recipe_tuning(params: TuningParams, ctx: StepContext, frame: pd.DataFrame, model: ModelBundle) -> dict:
    """Best recipe for quality within a budget (or cheapest meeting a spec), exact and verified, plus the
    quality-vs-cost Pareto front."""
    controls, scenario_row, baseline, box = setup(frame, model, params)
    _check_params(params, frame, model, box)
    baseline = _typical_recipe(frame, box, baseline) if params.scenario == "median" else baseline
    region = trust_region(frame, list(box.low), box.low, box.high, params.trust, seed=ctx.seed)
    choices = _level_choices(box)
    results = []
    for k, levels in enumerate(choices):
        ctx.progress(0.1 + 0.5 * k / len(choices), Msg(f"solving {_levels_text(levels) or 'the recipe'}", f"求解 {_levels_text(levels) or '配方'}"))
        rp = _recipe_problem(params, frame, model, box, scenario_row, baseline, levels, region)
        try:
            results.append((levels, rp, *_solve(params, rp), None))
        except Infeasible as exc:
            results.append((levels, rp, None, None, exc.msg))
    levels, rp, tuned, entries = _pick(params, results)
    ctx.progress(0.65, Msg("sweeping the budget", "扫描预算"))
    pareto = _front(params, rp, tuned, entries, model, scenario_row, baseline, box, frame)
    best = pd.Series({**{c: _setting(tuned.values[c], c in box.integer) for c in box.low}, **levels})[box.names]
    point = _full_point(scenario_row, best, params.pin)
    base_point = _full_point(scenario_row, baseline[box.names], params.pin)
    predicted = _predicted(model, base_point, point, params, 0, frame[model.target].dropna())
    base_cost = _cost_model(params, model, base_point).at(_numeric(base_point, params))
    predicted.update(method="milp", evaluations=None, objective=params.objective, budget=params.budget,
                     spec=params.spec, cost=_cost_summary(params, base_cost, tuned.cost),
                     solver=_seconds(tuned.solver, params), tie_break=_seconds(tuned.tie_break, params),
                     verification=_verification(tuned, predicted["recommended"]["value"], rp, box),
                     distance_to_data=_distance(frame, box, best, region))
    predicted["constraints"] = predicted["verification"]["checks"]
    predicted["warnings"] += _far_from_data(predicted["distance_to_data"])
    if not params.costs:
        predicted["cost"] = None
        predicted["warnings"].append({
            "en": "No ingredient prices were given (expert knowledge → costs): the recipe is optimised for quality "
                  "alone, without cost or Pareto front.",
            "zh": "未提供原料价格（专家知识 → 成本）：仅按质量优化配方，不计算成本和帕累托前沿。"})
    if choices != [{}]:
        predicted["choices"] = [_choice(lv, t, err) for lv, _, t, _, err in results]
    if not predicted["verification"]["ok"]:
        failed = predicted["verification"]["failed"]
        raise StudioError(Msg(f"the recommended recipe could not be verified ({failed}); "
                              f"not reporting an unverified recommendation",
                              f"推荐配方未通过校验（{failed}）；不输出未经校验的推荐"))
    score = _scorer(params, model, scenario_row, box, best, rp, region, tuned.cost, base_cost)
    return {"recommendations": recommendations(params, frame, box, best, baseline, predicted, score, controls),
            "predicted": predicted, "pareto": pareto}


def _check_params(params: TuningParams, frame: pd.DataFrame, model: ModelBundle, box: Box) -> None:
    if params.objective == "min_cost" and params.spec is None:
        raise StudioError(Msg("objective 'min_cost' needs a quality spec: set params.spec (the quality every "
                              "recommended recipe must reach)",
                              "目标 'min_cost' 需要质量规格：请设置 params.spec（每个推荐配方都必须达到的质量）"))
    if not params.costs and params.objective == "min_cost":
        raise StudioError(Msg("objective 'min_cost' needs ingredient prices: set expert.costs (column: price per unit)",
                              "目标 'min_cost' 需要原料价格：请设置 expert.costs（列：单位价格）"))
    for key in params.costs:
        column, _, level = key.partition("=")
        if column not in frame.columns:
            raise StudioError(Msg(f"expert.costs names '{column}', which is not a column of the table",
                                  f"expert.costs 中的 '{column}' 不是表中的列"))
        if level and column not in model.coder.levels:
            raise StudioError(Msg(f"expert.costs '{key}' prices a level, but '{column}' is not a categorical "
                                  f"controllable; price it per unit as '{column}'",
                                  f"expert.costs 的 '{key}' 是给某个类别定价，但 '{column}' 不是类别型可调参数；"
                                  f"请按单位价格写成 '{column}'"))
        if not level and column in box.levels:
            raise StudioError(Msg(f"'{column}' is categorical: price its levels as '{column}=LEVEL' in expert.costs",
                                  f"'{column}' 是类别型：请在 expert.costs 中按类别定价，写成 '{column}=LEVEL'"))
        if not level and column not in model.features:
            raise StudioError(Msg(f"expert.costs names '{column}', which is not a model input; make it controllable "
                                  f"or context, or remove its price",
                                  f"expert.costs 中的 '{column}' 不是模型输入；请把它设为可调参数或工况，或删除其价格"))
    numeric = set(box.low) | set(params.pin)
    bad = [c for c in params.composition if c not in numeric]
    if bad:
        raise StudioError(Msg(f"composition columns {bad} are not numeric controllables of the model; assign them "
                              f"to the controllable role (or pin them)",
                              f"配方组分列 {bad} 不是模型的数值型可调参数；"
                              f"请把它们指定为“可调参数”角色（或固定其取值）"))


def _typical_recipe(frame: pd.DataFrame, box: Box, baseline: pd.Series) -> pd.Series:
    """The historical batch nearest to the per-column medians: a recipe that was really run (medians of the
    ingredients do not add up to the total); categorical controllables stay at their most frequent level."""
    cols = list(box.low)
    data = frame[cols].dropna()
    if not cols or data.empty:
        return baseline
    values = data[cols].to_numpy(float)
    spread = np.maximum(np.quantile(values, 0.99, axis=0) - np.quantile(values, 0.01, axis=0), 1e-12)
    median = np.median(values, axis=0)
    row = data.iloc[int(np.argmin(np.abs((values - median) / spread).max(axis=1)))]
    out = baseline.copy()
    for c in cols:
        out[c] = row[c]
    return out


def _level_choices(box: Box) -> list[dict]:
    if not box.levels:
        return [{}]
    names = list(box.levels)
    combos = [dict(zip(names, values)) for values in itertools.product(*(box.levels[c] for c in names))]
    if len(combos) > MAX_LEVEL_CHOICES:
        raise StudioError(Msg(f"the categorical controllables {names} have {len(combos)} combinations of levels; at "
                              f"most {MAX_LEVEL_CHOICES} are solved one by one — pin some, or make them context",
                              f"类别型可调参数 {names} 共有 {len(combos)} 种类别组合；最多逐一求解 "
                              f"{MAX_LEVEL_CHOICES} 种——请固定其中一些，或把它们设为工况"))
    return combos


def _recipe_problem(params: TuningParams, frame, model: ModelBundle, box: Box, scenario_row, baseline,
                    levels: dict, region) -> RecipeProblem:
    settings = baseline[box.names].copy()
    for c, v in levels.items():
        settings[c] = v
    raw = _full_point(scenario_row, settings, params.pin)
    encoded = model.coder.transform(raw)
    fixed = {c: _encoded(encoded[c]) for c in model.features if c not in box.low}
    decision = {c: Domain(box.low[c], box.high[c], c in box.integer) for c in box.low}
    return RecipeProblem(model.final, list(model.features), decision, fixed, _cost_model(params, model, raw),
                         params.goal, _constraints(params, frame), region, params.time_limit, params.mip_gap,
                         model.target)


def _cost_model(params: TuningParams, model: ModelBundle, point: pd.DataFrame) -> CostModel:
    """Prices per unit of the numeric columns; the surcharges of the levels the (raw) point holds."""
    coefs = {k: v for k, v in params.costs.items() if "=" not in k}
    levels = {c: str(point.iloc[0][c]) for c in model.coder.levels}
    surcharge = sum(v for k, v in params.costs.items() if "=" in k and levels.get(k.partition("=")[0]) ==
                    k.partition("=")[2])
    return CostModel(coefs, float(surcharge))


def _constraints(params: TuningParams, frame: pd.DataFrame) -> list[LinearConstraint]:
    """The composition sum (fixed total, or its historical 1-99% range) and the recipe's further constraints."""
    out = [LinearConstraint(dict(c.coefs), c.sense, c.rhs, c.name) for c in params.constraints]
    if not params.composition:
        return out
    coefs = {c: 1.0 for c in params.composition}
    if params.total is not None:
        return out + [LinearConstraint(coefs, "==", params.total, f"composition total = {params.total:g}")]
    sums = frame[params.composition].dropna().sum(axis=1)
    lo, hi = (float(v) for v in sums.quantile(list(params.envelope)))
    if hi - lo <= 1e-6 * max(1.0, abs(hi)):
        mid = float(sums.median())
        return out + [LinearConstraint(coefs, "==", mid, f"composition total = {mid:.6g} (as in the data)")]
    return out + [LinearConstraint(coefs, ">=", lo, f"composition total >= {lo:.6g} (historical 1%)"),
                  LinearConstraint(coefs, "<=", hi, f"composition total <= {hi:.6g} (historical 99%)")]


def _solve(params: TuningParams, rp: RecipeProblem) -> tuple[TunedPoint, list | None]:
    """(the answer, the front when it was drawn on the way).

    Minimising cost under a tree-ensemble spec is the hard direction for the solver: it finds good mixes slowly.
    The front (best quality per budget, the easy direction) is drawn first and its cheapest mix meeting the spec
    is the start the cost MILP improves on; with a spec above the front's best, that is reported as infeasible."""
    if params.objective == "max_quality":
        return best_quality(rp, params.budget), None
    return _cheapest_at_spec(params, rp)


def _cheapest_at_spec(params: TuningParams, rp: RecipeProblem) -> tuple[TunedPoint, list]:
    highest = best_quality(rp)
    sign = 1.0 if rp.goal == "maximize" else -1.0
    if sign * highest.quality < sign * params.spec and highest.solver["status"] == "optimal":
        spec, envelope = rp.spec(params.spec).label(), envelope_text(rp.decision)
        raise Infeasible(Msg(f"the spec '{spec}' cannot be met inside the operating envelope: "
                             f"the best predicted {rp.quality_name} there is {highest.quality:.6g} (proven optimal;"
                             f" {envelope}). Lower the spec, widen the expert bounds, or raise trust towards 1.0.",
                             f"在运行包络内达不到规格 '{spec}'：包络内 {rp.quality_name} 的最佳预测值为 "
                             f"{highest.quality:.6g}（已证明最优；{envelope}）。请降低规格、放宽专家设定范围，"
                             f"或把 trust 调高到接近 1.0。"))
    entries = front(rp, max(params.pareto_points, 3), highest=highest)
    meeting = [e for e in entries if sign * e["quality"] >= sign * params.spec]
    known = meeting[0]["point"] if meeting else None
    if known is not None and entries.index(meeting[0]) > 0:  # narrow the front's bracket around the spec
        known = bracket(rp, params.spec, entries[entries.index(meeting[0]) - 1]["budget"], known)
    try:
        found = cheapest(rp, params.spec, start=dict(known.values) if known else None)
    except NoFeasiblePoint:
        if known is None:
            raise
        found = None
    if found is not None and (known is None or found.cost <= known.cost + 1e-9 * max(1.0, abs(known.cost))):
        return found, entries
    # the start (verified on the front or by bisection) stays the answer: the cost MILP found nothing cheaper
    known.checks = [c for c in known.checks if not c["name"].endswith("(budget)")] + [
        spec_check(rp, known.quality, params.spec)]  # the sweep's budget is not the user's
    known.tie_break = {"status": "skipped", "reason": "the cost MILP found no cheaper mix within its time limit; "
                                                      "the cheapest mix meeting the spec found by the budget sweep"}
    return known, entries


def _pick(params: TuningParams, results: list) -> tuple[dict, RecipeProblem, TunedPoint]:
    """The best level choice: quality first (cost breaks ties) or cost first (quality breaks ties)."""
    solved = [(lv, rp, t, entries) for lv, rp, t, entries, _ in results if t is not None]
    if not solved:
        messages = [err for *_, err in results]
        if len(results) == 1:
            raise Infeasible(messages[0])
        detail = "; ".join(f"{_levels_text(lv)}: {err}" for lv, *_, err in results)
        detail_zh = "；".join(f"{_levels_text(lv)}：{zh(err)}" for lv, *_, err in results)
        raise Infeasible(Msg(f"no level choice meets the constraints — {detail}",
                             f"没有任何类别组合能满足约束——{detail_zh}"))
    sign = 1.0 if params.goal == "maximize" else -1.0
    if params.objective == "min_cost":
        return min(solved, key=lambda r: (round(r[2].cost, 9), -sign * r[2].quality))
    return max(solved, key=lambda r: (round(sign * r[2].quality, 9), -r[2].cost))


def _front(params: TuningParams, rp: RecipeProblem, tuned: TunedPoint, entries: list | None, model: ModelBundle,
           scenario_row, baseline, box: Box, frame) -> list[dict]:
    if params.pareto_points < 1 or not params.costs:
        return []
    highest = tuned if params.objective == "max_quality" and params.budget is None else None
    entries = entries or front(rp, params.pareto_points, highest=highest)
    base_point = _full_point(scenario_row, baseline[box.names], params.pin)
    observed = frame[model.target].dropna()
    out = []
    for e in entries:
        p: TunedPoint = e.pop("point")
        settings = pd.Series({**{c: _setting(p.values[c], c in box.integer) for c in box.low},
                              **{c: _level(rp, model, c) for c in box.levels}})[box.names]
        band = _predicted(model, base_point, _full_point(scenario_row, settings, params.pin), params, 0,
                          observed)["recommended"]
        agrees = abs(band["value"] - p.quality) <= TOLERANCE * max(1.0, abs(p.quality))
        out.append({**e, "quality": band, "verified": bool(e["verified"] and agrees),
                    "values": {k: _plain(v) for k, v in settings.items()}})
    return out


def _level(rp: RecipeProblem, model: ModelBundle, column: str):
    return model.coder.levels[column][int(rp.fixed[column])]


def _numeric(point: pd.DataFrame, params: TuningParams) -> dict[str, float]:
    return {c: float(point.iloc[0][c]) for c in params.costs if "=" not in c}


def _cost_summary(params: TuningParams, base: float, recommended: float) -> dict:
    return {"baseline": base, "recommended": recommended, "change": recommended - base,
            "pct": 100.0 * (recommended - base) / abs(base) if base else None, "budget": params.budget,
            "prices": dict(params.costs), "unit": "per unit of product, from the prices in expert.costs"}


def _verification(tuned: TunedPoint, bundle_value: float, rp: RecipeProblem, box: Box) -> dict:
    """The final point re-predicted by the whole model bundle and by the booster, and every constraint as
    written checked at it: composition and further constraints, budget, spec, envelope bounds, trust region."""
    diff = abs(bundle_value - tuned.quality)
    checks = [c.check(tuned.point) for c in rp.constraints] + tuned.checks
    outside = [f for f, d in rp.decision.items() if not d.low - 1e-9 <= tuned.values[f] <= d.high + 1e-9]
    checks.append({"name": "operating envelope (1-99% or expert bounds)", "lhs": len(outside), "sense": "==",
                   "rhs": 0, "ok": not outside})
    trust = tuned.verification.get("trust")
    if trust:
        checks.append({"name": "trust region", "lhs": trust["distance"], "sense": "<=", "rhs": trust["radius"],
                       "ok": trust["ok"]})
    failed = [f"the model predicts {bundle_value:.10g}, the booster {tuned.quality:.10g}"] if diff > TOLERANCE * max(
        1.0, abs(tuned.quality)) else []
    failed += [] if tuned.verification.get("objective_ok") else ["the MILP objective differs from the models"]
    failed += [f"'{c['name']}' is not met" for c in checks if not c["ok"]]
    out = {"predicted": bundle_value, "booster": tuned.quality, "abs_diff": diff, "cost": tuned.cost,
           "objective": tuned.verification.get("objective"), "recomputed": tuned.verification.get("recomputed"),
           "checks": checks, "ok": not failed, "tolerance": f"{TOLERANCE:g} relative"}
    if failed:
        out["failed"] = "; ".join(failed)
    return out


def _scorer(params: TuningParams, model: ModelBundle, scenario_row, box: Box, best: pd.Series,
            rp: RecipeProblem, region, rec_cost: float, base_cost: float):
    """score(candidates) for the operating windows: the signed prediction where every constraint holds, else
    -inf. A composition column moved alone would break the sum, so the other composition columns absorb the
    change in proportion; min_cost windows also keep the cost within window_share of the saving."""
    sign = 1.0 if params.goal == "maximize" else -1.0
    comp = [c for c in params.composition if c in box.low]
    cost_cap = params.budget if params.objective == "max_quality" else (
        rec_cost + params.window_share * abs(base_cost - rec_cost))

    def score(candidates: pd.DataFrame) -> np.ndarray:
        cands = _rebalanced(candidates, best, comp)
        full = model_rows(scenario_row, cands, box, params.pin)
        values = sign * model.predict(full)
        ok = np.ones(len(full), dtype=bool)
        for c in box.low:
            ok &= (cands[c].to_numpy(float) >= box.low[c] - 1e-9) & (cands[c].to_numpy(float) <= box.high[c] + 1e-9)
        rows = full.to_dict("records")
        ok &= np.array([all(c.check(r)["ok"] for c in rp.constraints) for r in rows], dtype=bool)
        if cost_cap is not None:
            ok &= np.array([rp.cost.at(r) <= cost_cap + 1e-9 * max(1.0, abs(cost_cap)) for r in rows], dtype=bool)
        if params.spec is not None:
            ok &= values >= sign * params.spec - 1e-9 * max(1.0, abs(params.spec))
        if region is not None:
            ok &= region.distances(cands[region.columns].to_numpy(float)) <= region.radius * (1 + 1e-9) + 1e-12
        return np.where(ok, values, -np.inf)

    return score


def _rebalanced(candidates: pd.DataFrame, best: pd.Series, comp: list[str]) -> pd.DataFrame:
    if len(comp) < 2:
        return candidates
    out = candidates.copy()
    x, b = out[comp].to_numpy(float, copy=True), best[comp].to_numpy(float)
    moved = np.abs(x - b) > 1e-12
    for i in np.flatnonzero(moved.any(axis=1)):
        rest = ~moved[i]
        if b[rest].sum() > 0:
            x[i, rest] = b[rest] * (b.sum() - x[i, moved[i]].sum()) / b[rest].sum()
    out[comp] = x
    return out


def _choice(levels: dict, tuned: TunedPoint | None, error: str | None) -> dict:
    if tuned is None:
        return {"levels": levels, "feasible": False, "message": str(error), "message_zh": zh(error)}
    return {"levels": levels, "feasible": True, "quality": tuned.quality, "cost": tuned.cost,
            "status": tuned.solver["status"], "gap": tuned.solver["gap"], "verified": tuned.verified}


def _levels_text(levels: dict) -> str:
    return ", ".join(f"{c}={v}" for c, v in levels.items())


def _seconds(solver: dict, params: TuningParams) -> dict:
    if params.report_seconds or "seconds" not in solver:
        return solver
    return {**solver, "seconds": None, "build_seconds": None}
