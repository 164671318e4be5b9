"""The optimisation problem and its answer, shared by the exact MILP (engine/optim/solve.py) and the smooth-model
optimiser (engine/optim/smooth.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import lightgbm as lgb

from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.optim.constraints import LinearConstraint, ModelSpec, TrustRegion
from engine.optim.trees import Domain


class Infeasible(StudioError):
    """No point meets the constraints inside the envelope; the message names the set that cannot be met."""


class NoFeasiblePoint(StudioError):
    """The time limit ended before any feasible point was found."""


@dataclass
class Problem:
    objective: list[tuple[float, lgb.Booster]]  # weighted boosters; their raw scores are summed
    decision: dict[str, Domain]
    fixed: dict[str, float] = field(default_factory=dict)
    goal: Literal["maximize", "minimize"] = "maximize"
    linear_objective: dict[str, float] = field(default_factory=dict)  # e.g. -cost per unit, added to the objective
    constraints: list[LinearConstraint] = field(default_factory=list)
    specs: list[ModelSpec] = field(default_factory=list)
    trust: TrustRegion | None = None
    time_limit: float = 30.0
    mip_gap: float = 1e-4
    feature_names: list[str] | None = None  # column names by booster position (boosters fitted under safe names)
    warm_samples: int = 2000  # random candidates (+ historical anchors) for HiGHS's starting point; 0: none
    start: dict[str, float] | None = None  # a known feasible setting of the decision features, tried first


@dataclass
class Solution:
    values: dict[str, float]  # decision features
    point: dict[str, float]  # every model input: decision + fixed
    objective: float  # the MILP's objective (output scale for a single model)
    predicted: float  # re-predicted at `point` by the boosters, same scale
    status: str  # optimal | time_limit | stopped
    gap: float | None
    bound: float | None
    seconds: float  # solver wall time
    build_seconds: float
    time_limit: float
    verification: dict
    size: dict

    def solver(self) -> dict:
        return {"name": "highs", "status": self.status, "seconds": round(self.seconds, 4), "gap": self.gap,
                "time_limit": self.time_limit, "build_seconds": round(self.build_seconds, 4), "size": self.size}


def _check_fixed_constraints(problem: Problem) -> None:
    unknown = sorted({f for c in problem.constraints for f in c.coefs} - set(problem.decision) - set(problem.fixed))
    if unknown:
        raise StudioError(Msg(f"constraints mention {unknown}, which are neither decision variables nor fixed values",
                              f"约束中的 {unknown} 既不是决策变量，也不是固定值"))
    unknown = sorted(set(problem.linear_objective) - set(problem.decision) - set(problem.fixed))
    if unknown:
        raise StudioError(Msg(f"the linear objective mentions {unknown}, which are neither decision nor fixed",
                              f"线性目标中的 {unknown} 既不是决策变量，也不是固定值"))
    for f, d in problem.decision.items():
        lo, hi = d.start()
        if not lo <= hi:
            raise Infeasible(Msg(f"the operating envelope of '{f}' is empty: [{d.low:g}, {d.high:g}]"
                                 + (" holds no integer" if d.integer else ""),
                                 f"'{f}' 的运行包络为空：[{d.low:g}, {d.high:g}]" + (" 中没有整数" if d.integer else "")))
