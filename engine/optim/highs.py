"""Run HiGHS on a Pyomo model with a time limit that is really applied, and say plainly how it ended.

Pyomo's newer solver interface (pyomo.contrib.solver, `Highs`) is used: it passes `time_limit` and `rel_gap` to
HiGHS itself (the legacy `SolverFactory('appsi_highs').solve()` overwrites a time limit set in its config, see
STACK.md), reports the incumbent and the dual bound, and does not raise on a non-optimal end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

# Tolerances tighter than HiGHS's defaults (1e-7 / 1e-6): an integrality slack of 1e-6 on a threshold binary lets
# a leaf weight split, and the objective drift past the 1e-6 verification tolerance on large ensembles.
# Presolve off: on tree ensembles it removes little (3% of rows) but took 6-15 s of probing on 300 trees x 31
# leaves before the first LP bound (2.6 s without it), and under load it ate a whole 60 s budget.
OPTIONS = {"primal_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9, "random_seed": 0,
           "presolve": "off"}


@dataclass
class Run:
    status: str  # optimal | time_limit | infeasible | no_solution | error
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None  # relative: |objective - bound| / max(|objective|, 1e-9)
    seconds: float
    message: str = ""


def run_highs(model, time_limit: float, mip_gap: float = 1e-4, start: dict | None = None) -> Run:
    """Solve `model` (its active objective) and load the best point found, if any, into its variables.

    `start` ({variable data: value}, every variable) is handed to HiGHS as a starting solution."""
    solver = Highs()
    started = time.perf_counter()
    try:
        if start:
            _set_start(solver, model, start)
        results = solver.solve(model, time_limit=max(float(time_limit), 1e-3), rel_gap=mip_gap,
                               load_solutions=False, raise_exception_on_nonoptimal_result=False,
                               solver_options=dict(OPTIONS))
    except Exception as exc:  # a solver crash is reported, not propagated as a stack trace
        return Run("error", False, None, None, None, time.perf_counter() - started, str(exc))
    seconds = time.perf_counter() - started
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_solution:
        results.solution_loader.load_vars()
    term = results.termination_condition
    status = _status(term, has_solution)
    objective, bound = results.incumbent_objective, results.objective_bound
    gap = None
    if objective is not None and bound is not None:
        gap = abs(objective - bound) / max(abs(objective), 1e-9)
    elif status == "optimal":
        gap = 0.0
    return Run(status, has_solution, objective, bound, gap, seconds, str(term.name))


def _set_start(solver: Highs, model, start: dict) -> None:
    """Pyomo's HiGHS interface has no warm start: load the model, then give highspy the values by column.

    Uses the interface's variable-to-column map (a private attribute); the start is only a hint, so if that
    map is missing in another Pyomo version, HiGHS simply starts without it."""
    solver.set_instance(model)
    columns = getattr(solver, "_pyomo_var_to_solver_var_map", None)
    highs = getattr(solver, "_solver_model", None)
    if columns is None or highs is None:
        return
    pairs = [(columns[id(v)], value) for v, value in start.items() if id(v) in columns]
    index = np.array([c for c, _ in pairs], dtype=np.int32)
    highs.setSolution(len(pairs), index, np.array([v for _, v in pairs], dtype=np.float64))


def _status(term: TerminationCondition, has_solution: bool) -> str:
    if term == TerminationCondition.convergenceCriteriaSatisfied:
        return "optimal"
    if term in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        return "infeasible"
    if term in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit):
        return "time_limit" if has_solution else "no_solution"
    return "error" if not has_solution else "stopped"
