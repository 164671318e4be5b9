"""Exact recommendation: the trained LightGBM model as a mixed-integer program, solved by HiGHS and verified.

Same inputs, outputs and result shape as `optimize.sample_search`; `predicted` adds `method: "milp"`, `solver`
and `verification`. Categorical controllables (not encoded yet) fall back to sampling search, saying so.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh
from engine.ml.lgbm import ModelBundle
from engine.ml.search import Box
from engine.operators.optimize import SampleSearchParams, _full_point, _predicted, model_rows, recommendations, \
    sample_search, setup
from engine.optim import Domain, LinearConstraint, ModelSpec, Problem, UnsupportedModel, solve, trust_region
from engine.optim.constraints import TOLERANCE
from engine.pipeline.registry import operator
from engine.schema.base import Strict, ui_field


class LinearConstraintParams(Strict):
    coefs: dict[str, float] = ui_field(en="Coefficients per column", zh="各列系数")
    sense: Literal["<=", "==", ">="] = ui_field("<=", en="Relation", zh="关系")
    rhs: float = ui_field(en="Right-hand side", zh="右端值")
    name: str = ui_field("", en="Name", zh="名称")


class TreeMilpParams(SampleSearchParams):
    """The sampling operator's parameters (its n_samples/rounds serve the fallback), plus the solver's."""

    constraints: list[LinearConstraintParams] = ui_field(
        [], en="Linear constraints", zh="线性约束",
        help_en="Σ coefficient·column (<=, ==, >=) value, e.g. fractions summing to 1 or a budget",
        help_zh="Σ 系数·列 (<=, ==, >=) 数值，例如配比之和为 1 或成本预算")
    trust: float = ui_field(0.95, en="Trust region (quantile)", zh="可信域(分位数)", gt=0.0, le=1.0,
                            help_en="stay within an L∞ box around one historical setting, sized so the boxes cover "
                                    "this share of the historical points; 1.0 allows the whole envelope",
                            help_zh="推荐点须位于某个历史运行点周围的盒内（盒的大小使其覆盖该比例的历史点）；"
                                    "1.0 表示允许整个包络")
    time_limit: float = ui_field(30.0, en="Solver time limit (s)", zh="求解时限(秒)", gt=0.0, le=3600.0)
    mip_gap: float = ui_field(1e-4, en="Target optimality gap", zh="目标最优性间隙", ge=0.0, le=0.5,
                              help_en="the solver stops once the best point is proven within this relative gap")
    report_seconds: bool = ui_field(True, en="Report solver wall time", zh="报告求解耗时",
                                    help_en="off: identical inputs give byte-identical results (no wall time)")


def _example() -> tuple[dict, dict]:
    from engine.operators.optimize import _example as sampling_example

    params, inputs = sampling_example()
    return {"controllable": params["controllable"], "time_limit": 20.0, "report_seconds": False}, inputs


@operator("optimize.tree_milp", version=1, inputs=("frame", "model"), outputs=("recommendations", "predicted"),
          example=_example)
def tree_milp(params: TreeMilpParams, ctx: StepContext, frame: pd.DataFrame, model: ModelBundle) -> dict:
    """Best settings of the controllables by exact optimisation over the trained trees (MILP, HiGHS), verified."""
    return recommend_exact(params, ctx, frame, model)


def recommend_exact(params: TreeMilpParams, ctx: StepContext, frame: pd.DataFrame, model: ModelBundle,
                    specs: list[ModelSpec] | None = None,
                    meets_specs: Callable[[pd.DataFrame], np.ndarray] | None = None) -> dict:
    """tree_milp's work, with optional model specs (a second model's prediction >= / <= a bound, e.g. output >=
    demand); `meets_specs(full model rows)` marks candidate settings meeting them, for the operating windows."""
    controls, scenario_row, baseline, box = setup(frame, model, params)
    if box.levels:
        return _fallback(params, ctx, frame, model, Msg(f"categorical controllables {sorted(box.levels)}",
                                                         f"可调参数 {sorted(box.levels)} 是类别型"), specs)
    ctx.progress(0.1, Msg("encoding the trees", "编码决策树"))
    problem, region = _problem(params, frame, model, box, scenario_row, baseline, ctx.seed, specs)
    ctx.progress(0.2, Msg(f"searching the best settings (at most {params.time_limit:g} s)",
                          f"搜索最佳设定（最多 {params.time_limit:g} 秒）"))
    try:
        solution = solve(problem)
    except UnsupportedModel as exc:
        return _fallback(params, ctx, frame, model, exc.msg, specs)
    ctx.progress(0.8, Msg("verifying", "复核"))
    best = pd.Series({c: _setting(solution.values[c], c in box.integer) for c in box.names})
    point = _full_point(scenario_row, best, params.pin)
    base_point = _full_point(scenario_row, baseline[box.names], params.pin)
    predicted = _predicted(model, base_point, point, params, 0, frame[model.target].dropna())
    verification = _verification(solution, predicted["recommended"]["value"])
    if not verification["ok"]:
        raise StudioError(Msg(f"the optimised point could not be verified ({verification['failed']}); not reporting "
                              f"an unverified recommendation",
                              f"优化得到的点未能通过复核（{verification['failed']}）；不报告未经复核的推荐"))
    solver = solution.solver()
    if not params.report_seconds:
        solver.update(seconds=None, build_seconds=None)
    distance = _distance(frame, box, best, region)
    predicted.update(method="milp", evaluations=None, solver=solver, verification=verification,
                     constraints=solution.verification["constraints"], distance_to_data=distance)
    predicted["warnings"] = predicted["warnings"] + _far_from_data(distance)
    score = _scorer(model, scenario_row, box, params, problem, region, meets_specs)
    return {"recommendations": recommendations(params, frame, box, best, baseline, predicted, score, controls),
            "predicted": predicted}


def _problem(params: TreeMilpParams, frame, model: ModelBundle, box: Box, scenario_row, baseline, seed: int,
             specs: list[ModelSpec] | None = None):
    """The MILP problem: decision box, every other feature fixed (model-encoded), constraints, trust region."""
    encoded = model.coder.transform(_full_point(scenario_row, baseline[box.names], params.pin))
    fixed = {c: _encoded(encoded[c]) for c in model.features if c not in box.low}
    decision = {c: Domain(box.low[c], box.high[c], c in box.integer) for c in box.low}
    constraints = [LinearConstraint(dict(c.coefs), c.sense, c.rhs, c.name) for c in params.constraints]
    region = trust_region(frame, list(box.low), box.low, box.high, params.trust, seed=seed)
    problem = Problem([(1.0, model.final)], decision, fixed, params.goal, constraints=constraints, trust=region,
                      specs=list(specs or []), feature_names=list(model.features),
                      time_limit=params.time_limit, mip_gap=params.mip_gap)
    return problem, region


def _encoded(column: pd.Series) -> float:
    """One model-encoded value: a category becomes its code (as LightGBM sees it), missing becomes NaN."""
    value = column.iloc[0]
    if isinstance(column.dtype, pd.CategoricalDtype):
        code = int(column.cat.codes.iloc[0])
        return float(code) if code >= 0 else float("nan")
    return float(value)


def _setting(value: float, integer: bool):
    return int(round(value)) if integer else float(value)


def _verification(solution, bundle_value: float) -> dict:
    """The brief's verification record: the model's prediction at the point against the MILP's objective.

    Two re-predictions must agree with the MILP: the boosters on the encoded point (inside solve) and the
    whole ModelBundle (coder + final model) on the recommended settings as a table."""
    objective = solution.objective
    diff = abs(bundle_value - objective)
    check = solution.verification
    failed = [f"the model predicts {bundle_value:.10g}, the MILP said {objective:.10g}"] if not (
        check["objective_ok"] and diff <= TOLERANCE * max(1.0, abs(objective))) else []
    failed += [f"constraint '{c['name']}' is violated" for c in check["constraints"] if not c["ok"]]
    failed += [f"spec '{c['name']}' is not met" for c in check["specs"] if not c["ok"]]
    failed += ["outside the trust region"] if check["trust"] and not check["trust"]["ok"] else []
    out = {"predicted": bundle_value, "objective": objective, "abs_diff": diff, "ok": not failed,
           "tolerance": f"{TOLERANCE:g} relative"}
    if failed:
        out["failed"] = "; ".join(failed)
    if check.get("repaired"):
        out["repaired"] = check["repaired"]
    return out


def _distance(frame: pd.DataFrame, box: Box, best: pd.Series, region) -> dict:
    """How far the recommended combination is from historical operation (L∞, in shares of each 1–99 % range).

    Without a trust region the typical distance (95 % of historical settings are this close to another one) is
    still computed, so a combination far from anything run is named in the warnings, not hidden."""
    cols = list(box.low)
    unit = "L∞ distance to the nearest historical setting, in shares of each column's 1-99% range"
    typical = region or _typical_region(frame, box)
    if typical is None:
        return {"value": None, "trust_radius": None, "unit": unit}
    value = typical.distance(best[cols].to_dict())
    if region is not None:
        return {"value": value, "trust_radius": region.radius, "unit": unit, "trust_region": region.describe()}
    return {"value": value, "trust_radius": None, "typical": typical.radius, "unit": unit,
            "beyond_typical": bool(value > typical.radius)}


def _typical_region(frame: pd.DataFrame, box: Box):
    try:
        return trust_region(frame, list(box.low), box.low, box.high, 0.95)
    except StudioError:  # expert bounds far from all history: no typical distance to compare with
        return None


def _far_from_data(distance: dict) -> list[dict]:
    if not distance.get("beyond_typical"):
        return []
    d, r = distance["value"], distance["typical"]
    return [{"en": f"The recommended combination is farther from any historical setting ({d:.2f} of the ranges) than "
                   f"95% of historical settings are from their nearest neighbour ({r:.2f}): each value is inside its "
                   f"envelope, but this combination was not run. Confirm it with a trial, or set trust to 0.95 to "
                   f"stay closer to history.",
             "zh": f"推荐组合与最近历史设定的距离（{d:.2f} 个范围）大于 95% 历史设定与其最近邻的距离（{r:.2f}）：每个值都在包络内，"
                   f"但这种组合未曾运行过。请先试验确认，或将可信域设为 0.95 以更贴近历史。"}]


def _scorer(model: ModelBundle, scenario_row: pd.Series, box: Box, params, problem: Problem, region,
            meets_specs: Callable[[pd.DataFrame], np.ndarray] | None = None):
    """score(candidates) for the operating windows: the signed prediction, -inf where a constraint, a spec or the
    trust region is broken (a window never reaches into settings the recommendation itself could not take)."""
    sign = 1.0 if params.goal == "maximize" else -1.0

    def score(candidates: pd.DataFrame) -> np.ndarray:
        full = model_rows(scenario_row, candidates, box, params.pin)
        values = sign * model.predict(full)
        rows = full.to_dict("records")
        ok = np.array([all(c.check(r)["ok"] for c in problem.constraints) and
                       (region is None or region.distance(r) <= region.radius * (1 + 1e-9) + 1e-12) for r in rows])
        if meets_specs is not None:
            ok &= np.asarray(meets_specs(full), dtype=bool)
        return np.where(ok, values, -np.inf)

    return score


def _fallback(params: TreeMilpParams, ctx: StepContext, frame, model, reason: str, specs=None) -> dict:
    """Sampling search instead, with the reason in `predicted.fallback` (en + zh)."""
    if specs:
        raise StudioError(Msg(f"the exact optimiser cannot be used here ({reason}) and sampling search does not "
                              f"support model specs such as an output demand; make the controllables numeric",
                              f"这里无法使用精确优化（{zh(reason)}），而采样搜索不支持产出需求等模型约束；请让可调参数都是数值"))
    if params.constraints:
        raise StudioError(Msg(f"the exact optimiser cannot be used here ({reason}) and sampling search does not "
                              f"support linear constraints; drop the constraints or make the controllables numeric",
                              f"这里无法使用精确优化（{zh(reason)}），而采样搜索不支持线性约束；请去掉约束，或让可调参数都是数值"))
    fields = set(SampleSearchParams.model_fields)
    sampling = SampleSearchParams(**{k: v for k, v in params.model_dump().items() if k in fields})
    out = sample_search(sampling, ctx, frame, model)
    out["predicted"]["fallback"] = {"en": f"Exact optimisation was not possible ({reason}); sampling search was "
                                          f"used instead.",
                                    "zh": f"无法进行精确优化（{zh(reason)}）；已改用采样搜索。"}
    return out
