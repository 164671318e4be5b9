"""A feasible starting point for the MILP: the best of cheap candidates, polished by coordinate descent.

HiGHS proves bounds well but can take long to find good points on large ensembles, and with linear equalities
and a trust region it may find none at all in its time (seen: 300 trees, a mix summing to 1, 30 s). Random
points in the box and the historical settings (inside the trust region by construction), the best few projected
onto the linear constraints by a small LP and improved one feature at a time over the cells of the encoding,
cost a fraction of a second: the answer is never worse than that heuristic, and the MILP improves on it and
proves how far the optimum can be.
"""

from __future__ import annotations

import bisect

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from engine.optim.constraints import TOLERANCE, add_linear
from engine.optim.highs import run_highs
from engine.optim.tree_milp import Encoding, cell_centre
from engine.optim.trees import Split, evaluate


def warm_start(enc: Encoding, problem, ensembles: dict, n: int = 2000, seed: int = 0,
               restarts: int = 5) -> ComponentMap | None:
    """HiGHS's starting solution: the best feasible candidates, each improved by coordinate descent over cells."""
    names = list(problem.decision)
    sign = 1.0 if problem.goal == "maximize" else -1.0
    points = _candidates(problem, names, n, np.random.default_rng(seed))
    if problem.constraints:  # random points rarely meet a linear equality: project the best few onto them
        points = points[_feasible(points, problem, names, ensembles, linear=False)]
        if not len(points):
            return None
        top = np.argsort(-sign * _objective(points, problem, ensembles, names))[:restarts]
        projected = [_project(points[i], problem, names) for i in top]
        points = np.array([p for p in projected if p is not None] + _given(problem, names)).reshape(-1, len(names))
    points = points[_feasible(points, problem, names, ensembles)]
    if not len(points):
        return None
    score = sign * _objective(points, problem, ensembles, names)
    top = np.argsort(-score)[:restarts]
    if problem.start and len(points) - 1 not in top:  # the given start is the last row: always polish it too
        top = np.append(top, len(points) - 1) if _is_given(points[-1], problem, names) else top
    polished = [_polish(enc, problem, ensembles, names, points[i], score[i], sign) for i in top]
    best, _ = max(polished, key=lambda pair: pair[1])
    return start_values(enc, problem, dict(zip(names, best.tolist())))


def _project(point: np.ndarray, problem, names: list[str]) -> np.ndarray | None:
    """The point nearest to `point` (L1, in box widths) meeting the linear constraints, inside the box and the
    trust box of its nearest historical setting; None when there is none."""
    low = {f: problem.decision[f].start()[0] for f in names}
    high = {f: problem.decision[f].start()[1] for f in names}
    if problem.trust is not None:
        region = problem.trust
        anchor = int(region.nearest(point[[names.index(f) for f in region.columns]][None, :])[1][0])
        a_low, a_high = region.box(anchor)
        for i, f in enumerate(region.columns):
            low[f], high[f] = max(low[f], float(a_low[i])), min(high[f], float(a_high[i]))
        if any(low[f] > high[f] for f in names):
            return None
    m = pyo.ConcreteModel("projection")
    m.v = pyo.Var(names, within=lambda m, f: pyo.Integers if problem.decision[f].integer else pyo.Reals,
                  bounds=lambda m, f: (low[f], high[f]))
    m.d = pyo.Var(names, bounds=(0, None))
    width = {f: max(high[f] - low[f], 1e-12) for f in names}
    m.above = pyo.Constraint(names, rule=lambda m, f: m.d[f] >= (m.v[f] - point[names.index(f)]) / width[f])
    m.below = pyo.Constraint(names, rule=lambda m, f: m.d[f] >= (point[names.index(f)] - m.v[f]) / width[f])
    add_linear(m, problem.constraints, problem.fixed)
    m.obj = pyo.Objective(expr=sum(m.d[f] for f in names))
    if not run_highs(m, time_limit=5.0, mip_gap=1e-6).has_solution:
        return None
    return np.array([pyo.value(m.v[f]) for f in names], dtype=float)


def _candidates(problem, names: list[str], n: int, rng) -> np.ndarray:
    """n uniform points in the box, plus the historical settings (clipped into the box) when there are some."""
    points = np.column_stack([_uniform(problem.decision[f], n, rng) for f in names]) if names else np.zeros((n, 0))
    if problem.trust is not None:  # historical settings lie inside the trust region by construction
        hist = np.full((len(problem.trust.anchors), len(names)), np.nan)
        for i, f in enumerate(problem.trust.columns):
            hist[:, names.index(f)] = problem.trust.anchors[:, i]
        points = np.vstack([points, _clip(hist, problem, names, rng)])
    return np.vstack([points] + [np.array(_given(problem, names)).reshape(-1, len(names))])


def _given(problem, names: list[str]) -> list[list[float]]:
    """The caller's start (e.g. the previous stage's answer, feasible where random points rarely are), if any."""
    return [[problem.start[f] for f in names]] if getattr(problem, "start", None) else []


def _is_given(row: np.ndarray, problem, names: list[str]) -> bool:
    return bool(np.array_equal(row, np.array(_given(problem, names)[0], dtype=float)))


def _polish(enc: Encoding, problem, ensembles: dict, names: list[str], x: np.ndarray, score: float,
            sign: float, sweeps: int = 6) -> tuple[np.ndarray, float]:
    """Coordinate descent: per feature, try the centre of every cell (the others held), keep the best feasible."""
    for _ in range(sweeps):
        improved = False
        for i, f in enumerate(names):
            trial = np.repeat(x[None, :], len(enc.cells[f]), axis=0)
            trial[:, i] = [cell_centre(problem.decision[f], r) for r in enc.cells[f]]
            trial = trial[_feasible(trial, problem, names, ensembles)]
            if not len(trial):
                continue
            values = sign * _objective(trial, problem, ensembles, names)
            k = int(np.argmax(values))
            if values[k] > score + 1e-12:
                x, score, improved = trial[k], float(values[k]), True
        if not improved:
            break
    return x, score


def _uniform(domain, n: int, rng) -> np.ndarray:
    lo, hi = domain.start()
    return rng.integers(int(lo), int(hi) + 1, n).astype(float) if domain.integer else rng.uniform(lo, hi, n)


def _clip(points: np.ndarray, problem, names: list[str], rng) -> np.ndarray:
    for i, f in enumerate(names):
        lo, hi = problem.decision[f].start()
        column = points[:, i]
        column[np.isnan(column)] = _uniform(problem.decision[f], int(np.isnan(column).sum()), rng)
        points[:, i] = np.clip(np.round(column) if problem.decision[f].integer else column, lo, hi)
    return points


def _feasible(points: np.ndarray, problem, names: list[str], ensembles: dict, linear: bool = True) -> np.ndarray:
    ok = np.ones(len(points), dtype=bool)
    for i, spec in enumerate(problem.specs):
        raw = _raw(points, problem, ensembles[f"spec{i}"], names)
        bound = ensembles[f"spec{i}"].to_raw(spec.bound)
        ok &= raw >= bound if spec.sense == ">=" else raw <= bound
    for c in problem.constraints if linear else []:
        lhs = sum(a * (points[:, names.index(f)] if f in names else problem.fixed[f]) for f, a in c.coefs.items())
        scale = TOLERANCE * max(1.0, abs(c.rhs))
        ok &= {"<=": lhs <= c.rhs + scale, ">=": lhs >= c.rhs - scale, "==": np.abs(lhs - c.rhs) <= scale}[c.sense]
    if problem.trust is not None:
        region = problem.trust
        sub = points[:, [names.index(f) for f in region.columns]]
        ok &= region.distances(sub) <= region.radius * (1 + 1e-12)
    return ok


def _objective(points: np.ndarray, problem, ensembles: dict, names: list[str]) -> np.ndarray:
    total = np.zeros(len(points))
    for i, (w, _) in enumerate(problem.objective):
        total += w * _raw(points, problem, ensembles[f"objective{i}"], names)
    for f, c in problem.linear_objective.items():
        total += c * (points[:, names.index(f)] if f in names else problem.fixed[f])
    return total


def _raw(points: np.ndarray, problem, ensemble, names: list[str]) -> np.ndarray:
    """The booster's raw scores at candidate rows (decision columns in `names` order, fixed values added)."""
    matrix = np.column_stack([points[:, names.index(f)] if f in names else np.full(len(points), problem.fixed[f])
                              for f in ensemble.features])
    return ensemble.booster.predict(matrix, raw_score=True)


def start_values(enc: Encoding, problem, start: dict[str, float]) -> ComponentMap | None:
    """Every MILP variable's value at `start` ({pyomo var data: value}), or None when it is not a valid start."""
    m = enc.m
    cells = {f: bisect.bisect_left(enc.thresholds.get(f, []), start[f]) for f in problem.decision}
    values = ComponentMap()
    for f, k in cells.items():
        low, high = enc.cells[f][k]
        values[m.v[f]] = float(np.clip(start[f], low, high))
        for j in range(len(enc.thresholds.get(f, []))):
            values[m.x[f, j]] = 1.0 if j >= k else 0.0
    for name, ens in enc.ensembles.items():
        y = enc.y[name]
        for t, tree in enumerate(ens.trees):
            if isinstance(tree, Split):
                chosen = evaluate(tree, cells, enc.index).index
                for leaf in enc.leaves[name][t]:
                    values[y[t, leaf.index]] = 1.0 if leaf.index == chosen else 0.0
    if problem.trust is not None and hasattr(m, "z"):
        point = {f: values[m.v[f]] for f in problem.decision}
        region = problem.trust
        x = np.array([point[c] for c in region.columns]) / region.spread
        inside = np.flatnonzero(np.max(np.abs(region.anchors / region.spread - x), axis=1) <= region.radius * (
            1 + 1e-9) + 1e-12)  # a decoded point sits on the box edge up to rounding
        if not len(inside):
            return None
        for k in m.z:
            values[m.z[k]] = 1.0 if k == inside[0] else 0.0
    return values
