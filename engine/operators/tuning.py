"""Recipe tuning: best quality within a cost budget, or the cheapest recipe meeting a quality spec, with the
quality-vs-cost Pareto front — each answer an exact MILP over the trained trees (engine.optim.pareto), verified.

A categorical controllable (a raw-material origin or lot) is not a MILP variable: the problem is solved once per
level (per combination of levels) and the best answer kept. That is exact — the optimum is the best of the
per-level optima — and cheap for the few levels such a choice has. The Pareto front is drawn for the chosen level.
The problem and its solving live in tuning_problem.py; the front, verification and windows in tuning_report.py.
"""

from __future__ import annotations

import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml.lgbm import ModelBundle
from engine.ml.search import Box
from engine.operators.optimize import _full_point, _predicted, recommendations, setup
from engine.operators.optimize_exact import _distance, _far_from_data, _setting
from engine.operators.tuning_problem import (MAX_LEVEL_CHOICES, _cost_model, _level_choices, _levels_text, _pick,
                                             _recipe_problem, _solve, _typical_recipe)
from engine.operators.tuning_report import (_choice, _cost_summary, _front, _numeric, _scorer, _seconds,
                                            _verification)
from engine.optim import Infeasible, trust_region
from engine.operators.tuning_params import TuningParams
from engine.pipeline.registry import operator

__all__ = ["MAX_LEVEL_CHOICES", "TuningParams", "recipe_tuning"]


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
