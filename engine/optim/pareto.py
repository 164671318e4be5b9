"""Recipe tuning: a quality model and a linear cost, traded off exactly.

    rp = RecipeProblem(booster, names, decision, fixed, CostModel({"cement": 0.11, ...}), constraints=[mix])
    best_quality(rp, budget=80.0)   # the best predicted quality at cost <= 80, the cheapest such mix
    cheapest(rp, spec=40.0)         # the cheapest mix predicted to reach quality >= 40, the best such mix
    front(rp, 7)                    # quality vs cost: the budget swept from the cheapest mix to the best one

Tree models are piecewise constant, so many mixes reach the same best quality at different costs: every answer is
lexicographic — the primary objective solved exactly, then the other one optimised with the first held (a second
MILP started from the first answer). The primary stage's status and gap are what the answer claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import lightgbm as lgb
import numpy as np

from engine.core.errors import StudioError
from engine.optim.constraints import LinearConstraint, ModelSpec, TrustRegion
from engine.optim.solve import Infeasible, NoFeasiblePoint, Problem, Solution, solve
from engine.optim.trees import Domain

HOLD = 1e-7  # relative slack when the first stage's optimum is held in the second stage


@dataclass(frozen=True)
class CostModel:
    """cost = constant + Σ coefs[f] · x_f, per unit of product (coefs may name decision or fixed features)."""

    coefs: dict[str, float]
    constant: float = 0.0  # e.g. the surcharge of the chosen raw-material origin

    def at(self, point: dict[str, float]) -> float:
        return float(self.constant + sum(a * point[f] for f, a in self.coefs.items()))

    def within(self, budget: float) -> LinearConstraint:
        return LinearConstraint(dict(self.coefs), "<=", budget - self.constant, f"cost <= {budget:.6g} (budget)")


@dataclass
class RecipeProblem:
    quality: lgb.Booster
    feature_names: list[str]  # column names by booster position
    decision: dict[str, Domain]
    fixed: dict[str, float]
    cost: CostModel
    goal: Literal["maximize", "minimize"] = "maximize"  # the quality's direction
    constraints: list[LinearConstraint] = field(default_factory=list)  # composition sums, ratios
    trust: TrustRegion | None = None
    time_limit: float = 30.0
    mip_gap: float = 1e-4
    quality_name: str = "quality"
    # the tie-break starts from a feasible answer and can only improve on it: it gets a share of the time limit
    tie_break_share: float = 0.34

    def spec(self, bound: float, name: str = "") -> ModelSpec:
        """Quality at least as good as `bound` (>= when higher is better)."""
        sense = ">=" if self.goal == "maximize" else "<="
        return ModelSpec(self.quality, sense, bound, name or f"{self.quality_name} {sense} {bound:.6g} (spec)",
                         self.feature_names)

    def problem(self, primary: str, budget: float | None = None, spec: ModelSpec | None = None,
                start: dict | None = None, share: float = 1.0) -> Problem:
        """`start`: a feasible setting to start from; `share`: of the time limit (the tie-break gets less)."""
        extra = [self.cost.within(budget)] if budget is not None else []
        limit = self.time_limit * share
        common = dict(decision=self.decision, fixed=self.fixed, constraints=self.constraints + extra,
                      specs=[spec] if spec else [], trust=self.trust, time_limit=limit,
                      mip_gap=self.mip_gap, feature_names=self.feature_names, start=start)
        if primary == "quality":
            return Problem([(1.0, self.quality)], goal=self.goal, **common)
        return Problem([], goal="minimize", linear_objective=dict(self.cost.coefs), **common)

    def quality_at(self, point: dict[str, float]) -> float:
        row = np.array([[point[f] for f in self.feature_names]], dtype=np.float64)
        return float(self.quality.predict(row)[0])


@dataclass
class TunedPoint:
    values: dict[str, float]  # decision features
    point: dict[str, float]  # every model input
    quality: float  # re-predicted by the booster at `point`
    cost: float  # recomputed at `point`
    solver: dict  # the primary stage: status, gap, seconds ...
    tie_break: dict  # the second stage (or why it was skipped)
    verification: dict  # engine.optim's check of the final stage (objective, constraints, specs, trust)
    checks: list[dict] = field(default_factory=list)  # budget / spec / constraints as written, at `point`

    @property
    def verified(self) -> bool:
        return bool(self.verification.get("ok")) and all(c["ok"] for c in self.checks)


def best_quality(rp: RecipeProblem, budget: float | None = None, tie_break: bool = True) -> TunedPoint:
    """The best predicted quality at cost <= budget (no budget: anywhere), then the cheapest mix reaching it."""
    first = solve(rp.problem("quality", budget))
    if not rp.cost.coefs or not tie_break:  # nothing to price, or the caller needs no tie broken
        return _point(rp, first, None, "no prices", budget, None, "quality")
    held = rp.spec(_held(first.predicted, rp.goal), f"{rp.quality_name} held at the best value")
    second, note = _second(rp.problem("cost", budget, held, first.values, rp.tie_break_share))
    return _point(rp, first, second, note, budget, None, "quality")


def cheapest(rp: RecipeProblem, spec: float | None = None, budget: float | None = None,
             start: dict | None = None) -> TunedPoint:
    """The cheapest mix predicted to meet the spec (no spec: the cheapest in the envelope), then the best
    quality at that cost. `start`: a mix known to meet the spec (e.g. from the front) for the solver to improve."""
    spec_c = rp.spec(spec) if spec is not None else None
    first = solve(rp.problem("cost", budget, spec_c, start))
    lowest = rp.cost.at(first.point)
    hold = lowest + HOLD * max(1.0, abs(lowest))
    # no spec here: the best quality at the lowest cost is at least the first answer's, which meets the spec
    second, note = _second(rp.problem("quality", hold, None, first.values, rp.tie_break_share))
    return _point(rp, first, second, note, budget, spec, "cost")


def front(rp: RecipeProblem, n: int, lowest: TunedPoint | None = None,
          highest: TunedPoint | None = None) -> list[dict]:
    """Quality vs cost, `n` budgets from the cheapest feasible mix to the cheapest mix of the best quality.

    Each budget is its own exact solve. If a solve stopped short (time limit) below a cheaper budget's quality,
    that cheaper point is reused (it meets the larger budget too), so the front never goes down; `reused` says so."""
    lowest = lowest or cheapest(rp)
    highest = highest or best_quality(rp)
    if highest.cost - lowest.cost <= 1e-9 * max(1.0, abs(highest.cost)) or n <= 1:
        return [_front_entry(highest, highest.cost, False)]
    budgets = np.linspace(lowest.cost, highest.cost, n)
    points = [lowest] + [_within(rp, float(b)) for b in budgets[1:-1]] + [highest]
    sign = 1.0 if rp.goal == "maximize" else -1.0
    out, best = [], None
    for budget, p in zip(budgets, points):
        reused = p is None or (best is not None and sign * p.quality < sign * best.quality - 1e-12)
        best = best if reused else p
        out.append(_front_entry(best, float(budget), reused))
    return out


def bracket(rp: RecipeProblem, spec: float, below: float, above: TunedPoint, steps: int = 3) -> TunedPoint:
    """A cheap mix meeting the spec by bisection on the budget between `below` (a budget whose best quality missed
    the spec) and `above` (a mix meeting it): best-quality solves are the solver's easy direction."""
    sign = 1.0 if rp.goal == "maximize" else -1.0
    for _ in range(steps):
        middle = (below + above.cost) / 2.0
        p = _within(rp, middle, tie_break=False)
        if p is not None and sign * p.quality >= sign * spec:
            above = p
        else:
            below = middle
    return above


def _within(rp: RecipeProblem, budget: float, tie_break: bool = True) -> TunedPoint | None:
    """One budget of the sweep; None when its solve ran out of time without a point (a cheaper one is reused)."""
    try:
        return best_quality(rp, budget, tie_break)
    except NoFeasiblePoint:
        return None


def _front_entry(p: TunedPoint, budget: float, reused: bool) -> dict:
    return {"budget": budget, "cost": p.cost, "quality": p.quality, "status": p.solver["status"],
            "gap": p.solver["gap"], "verified": p.verified, "reused": reused, "values": dict(p.values),
            "point": p}


def _held(value: float, goal: str) -> float:
    slack = HOLD * max(1.0, abs(value))
    return value - slack if goal == "maximize" else value + slack


def _second(problem: Problem) -> tuple[Solution | None, str]:
    """The tie-break stage; its failure (time limit without a point) keeps the first stage's answer."""
    try:
        return solve(problem), ""
    except Infeasible as exc:  # cannot happen in exact arithmetic (the first answer is feasible): say so
        return None, f"the tie-break found no point ({exc})"
    except StudioError as exc:
        return None, str(exc)


def _point(rp: RecipeProblem, first: Solution, second: Solution | None, note: str, budget: float | None,
           spec: float | None, primary: str) -> TunedPoint:
    if second is not None and not _no_worse(rp, first.point, second.point, primary):
        second, note = None, "the tie-break stopped (time limit) at a point no better than the first answer"
    final = second or first
    point = final.point
    checks = []
    cost = rp.cost.at(point)
    quality = rp.quality_at(point)
    if budget is not None:
        checks.append(_check(f"cost <= {budget:.6g} (budget)", cost, "<=", budget))
    if spec is not None:
        checks.append(spec_check(rp, quality, spec))
    tie = final.solver() if second else {"status": "skipped", "reason": note}
    return TunedPoint(dict(final.values), dict(point), quality, cost, first.solver(), tie, final.verification,
                      checks)


def spec_check(rp: RecipeProblem, quality: float, spec: float) -> dict:
    """The spec as written, checked at a re-predicted quality."""
    return _check(f"{rp.quality_name} {rp.spec(spec).sense} {spec:.6g} (spec)", quality, rp.spec(spec).sense, spec)


def _no_worse(rp: RecipeProblem, first: dict, second: dict, primary: str) -> bool:
    """Is the tie-break's point at least as good as the first answer in both objectives (within HOLD)?"""
    sign = 1.0 if rp.goal == "maximize" else -1.0
    q1, q2, c1, c2 = rp.quality_at(first), rp.quality_at(second), rp.cost.at(first), rp.cost.at(second)
    quality_ok = sign * q2 >= sign * q1 - 2 * HOLD * max(1.0, abs(q1))
    cost_ok = c2 <= c1 + 2 * HOLD * max(1.0, abs(c1))
    return quality_ok and cost_ok


def _check(name: str, value: float, sense: str, bound: float) -> dict:
    slack = bound - value if sense == "<=" else value - bound
    return {"name": name, "lhs": value, "sense": sense, "rhs": bound,
            "ok": bool(slack >= -1e-6 * max(1.0, abs(bound), abs(value)))}
