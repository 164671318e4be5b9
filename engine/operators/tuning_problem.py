"""Recipe tuning, the problem and its solving: the typical recipe to start from, the level choices of categorical
controllables, the MILP problem per choice (decision box, fixed inputs, cost, composition and further constraints),
best quality within a budget or the cheapest recipe meeting a spec, and the best choice among the levels."""

from __future__ import annotations

import itertools
import numpy as np
import pandas as pd

from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh
from engine.ml.lgbm import ModelBundle
from engine.ml.search import Box
from engine.operators.optimize import _full_point
from engine.operators.optimize_exact import _encoded
from engine.optim import Domain, Infeasible, LinearConstraint, NoFeasiblePoint
from engine.optim.constraints import envelope_text
from engine.operators.tuning_params import TuningParams
from engine.optim.pareto import CostModel, RecipeProblem, TunedPoint, best_quality, bracket, cheapest, front, \
    spec_check

MAX_LEVEL_CHOICES = 24  # combinations of categorical levels solved one by one


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


def _levels_text(levels: dict) -> str:
    return ", ".join(f"{c}={v}" for c, v in levels.items())
