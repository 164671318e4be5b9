"""From the solver's cells back to values a plant can set, then proof that the model agrees.

Every value inside a chosen cell gives the same prediction, so the solver's own value (often on a cell's edge,
a hair from a threshold) is the worst pick: LightGBM compares `x <= threshold` in float64 and a tolerance of
1e-9 can flip a split (STACK.md). Features under no constraint go to the centre of their cell; the others to
the point that keeps every value as far inside its cell as the constraints allow (a small LP with the cells
fixed). Then the point is re-predicted by the original boosters; if a tree still lands elsewhere, the
offending values are moved into the chosen leaf's box and the point is checked again.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from engine.optim.constraints import TOLERANCE, check_linear
from engine.optim.highs import run_highs
from engine.optim.tree_milp import Encoding, cell_centre
from engine.optim.trees import Leaf, evaluate, path_to


def decode(enc: Encoding, problem, cells: dict[str, int], anchor: int | None) -> dict[str, float]:
    """Decision values for the chosen cells (and trust anchor): centred as far as the constraints allow."""
    ranges = {f: enc.cells[f][k] for f, k in cells.items()}
    values = {f: cell_centre(problem.decision[f], r) for f, r in ranges.items()}
    bound = _constrained(problem)
    if bound:
        keep = {f: pyo.value(enc.m.v[f]) for f in problem.linear_objective if f in problem.decision}
        centred = _centring_lp(problem, ranges, bound, anchor, keep)
        values.update(centred if centred is not None else
                      {f: float(np.clip(pyo.value(enc.m.v[f]), *ranges[f])) for f in bound})
    return values


def _constrained(problem) -> list[str]:
    names = {f for c in problem.constraints for f in c.coefs} | set(problem.linear_objective)
    if problem.trust is not None:
        names |= set(problem.trust.columns)
    return [f for f in problem.decision if f in names]


def _centring_lp(problem, ranges: dict, names: list[str], anchor: int | None,
                 keep: dict[str, float]) -> dict[str, float] | None:
    """max s: every value at least s · (half its cell's width) inside its cell, constraints kept.

    The linear part of the objective is held at the MILP's value (`keep`: the solver's values of its features),
    so centring never changes the objective the solver reported."""
    m = pyo.ConcreteModel("centring")
    m.v = pyo.Var(names, within=lambda m, f: pyo.Integers if problem.decision[f].integer else pyo.Reals,
                  bounds=lambda m, f: ranges[f])
    m.s = pyo.Var(bounds=(0.0, 1.0))
    half = {f: (ranges[f][1] - ranges[f][0]) / 2.0 for f in names}
    m.inside_low = pyo.Constraint(names, rule=lambda m, f: m.v[f] >= ranges[f][0] + half[f] * m.s)
    m.inside_high = pyo.Constraint(names, rule=lambda m, f: m.v[f] <= ranges[f][1] - half[f] * m.s)
    known = {**problem.fixed, **{f: cell_centre(problem.decision[f], ranges[f]) for f in ranges if f not in names}}
    m.linear = pyo.ConstraintList()
    for c in problem.constraints:
        lhs = sum(a * (m.v[f] if f in names else known[f]) for f, a in c.coefs.items())
        m.linear.add({"<=": lhs <= c.rhs, ">=": lhs >= c.rhs, "==": lhs == c.rhs}[c.sense])
    if problem.trust is not None and anchor is not None:
        low, high = problem.trust.box(anchor)
        for i, f in enumerate(problem.trust.columns):
            m.linear.add(pyo.inequality(float(low[i]), m.v[f], float(high[i])))
    if keep:
        m.linear.add(sum(problem.linear_objective[f] * m.v[f] for f in keep) ==
                     sum(problem.linear_objective[f] * v for f, v in keep.items()))
    m.obj = pyo.Objective(expr=m.s, sense=pyo.maximize)
    run = run_highs(m, time_limit=10.0, mip_gap=1e-6)
    if not run.has_solution:
        return None
    return {f: float(round(pyo.value(m.v[f]))) if problem.decision[f].integer else float(pyo.value(m.v[f]))
            for f in names}


def expected_leaves(enc: Encoding, cells: dict[str, int]) -> dict[str, list[int]]:
    """Per ensemble, the leaf each tree reaches in the chosen cells (what the MILP believes)."""
    return {name: [evaluate(tree, cells, enc.index).index for tree in ens.trees]
            for name, ens in enc.ensembles.items()}


def repair(enc: Encoding, point: dict[str, float], expected: dict[str, list[int]]) -> tuple[dict, list[str]]:
    """Move each value that sends a tree to another leaf than the MILP chose into that leaf's box."""
    point = dict(point)
    moved: list[str] = []
    for name, ens in enc.ensembles.items():
        actual = ens.leaves_at(point)
        for t, tree in enumerate(ens.trees):
            if isinstance(tree, Leaf) or actual[t] == expected[name][t]:
                continue
            for feature, threshold, left in path_to(tree, expected[name][t]) or []:
                value = point[feature]
                if left and not value <= threshold:
                    point[feature] = threshold if enc.decision[feature].integer else float(np.nextafter(
                        threshold, -np.inf))
                elif not left and value <= threshold:
                    point[feature] = threshold + 1.0 if enc.decision[feature].integer else float(np.nextafter(
                        threshold, np.inf))
                else:
                    continue
                moved.append(feature)
    return point, sorted(set(moved))


def verify(problem, ensembles: dict, point: dict[str, float], milp_objective: float) -> dict:
    """Re-predict with the boosters: the objective the MILP reported, every spec, constraint and the trust box."""
    recomputed = objective_at(problem, ensembles, point)
    diff = abs(recomputed - milp_objective)
    ok_objective = diff <= TOLERANCE * max(1.0, abs(milp_objective))
    specs = [_spec_check(spec, ensembles[f"spec{i}"], point) for i, spec in enumerate(problem.specs)]
    linear = check_linear(problem.constraints, point)
    trust = None
    if problem.trust is not None:
        distance = problem.trust.distance(point)
        trust = {"distance": distance, "radius": problem.trust.radius,
                 "ok": bool(distance <= problem.trust.radius * (1 + 1e-9) + 1e-12)}
    ok = ok_objective and all(s["ok"] for s in specs) and all(c["ok"] for c in linear) and (trust or {}).get(
        "ok", True)
    return {"objective": milp_objective, "recomputed": recomputed, "abs_diff": diff, "objective_ok": ok_objective,
            "specs": specs, "constraints": linear, "trust": trust, "ok": bool(ok)}


def objective_at(problem, ensembles: dict, point: dict[str, float]) -> float:
    """The MILP's objective recomputed with the boosters' own predictions (raw scores) at `point`."""
    total = sum(w * ensembles[f"objective{i}"].raw_predict(point) for i, (w, _) in enumerate(problem.objective))
    return float(total + sum(c * point[f] for f, c in problem.linear_objective.items()))


def _spec_check(spec, ensemble, point: dict[str, float]) -> dict:
    value = ensemble.from_raw(ensemble.raw_predict(point))
    slack = value - spec.bound if spec.sense == ">=" else spec.bound - value
    return {"name": spec.label(), "predicted": value, "sense": spec.sense, "bound": spec.bound,
            "ok": bool(slack >= -TOLERANCE * max(1.0, abs(spec.bound)))}
