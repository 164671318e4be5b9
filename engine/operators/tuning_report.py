"""Recipe tuning, what the answer reports: the Pareto front (each point re-predicted), the cost summary, the
verification of every constraint at the returned point, and the scorer the operating windows are drawn with."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.i18n import zh
from engine.ml.lgbm import ModelBundle
from engine.ml.search import Box
from engine.operators.optimize import _full_point, _plain, _predicted, model_rows
from engine.operators.optimize_exact import _setting
from engine.optim.constraints import TOLERANCE
from engine.operators.tuning_params import TuningParams
from engine.optim.pareto import RecipeProblem, TunedPoint, front


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


def _seconds(solver: dict, params: TuningParams) -> dict:
    if params.report_seconds or "seconds" not in solver:
        return solver
    return {**solver, "seconds": None, "build_seconds": None}
