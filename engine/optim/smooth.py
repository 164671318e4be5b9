"""Recommendation over a smooth model: multi-start SLSQP with the constraints as written, then verified.

Why this and not the MILP: a smooth model (engine/ml/smooth.py) has no trees to encode. Why multi-start SLSQP
and not a global MINLP (SCIP) or a QP: the model's degree is chosen by cross-validation (a cubic is not a QP),
its exact gradient is cheap, the problems have a handful of variables and linear constraints, and on the tuning
bench (bench/bench_tuning.py, a compound with six fractions summing to 1, two process settings and a cost budget)
the starts agree on the optimum. The result does not claim a proof: `status` is "local_optimum (multi-start)",
`gap` is None, and `starts`/`agreeing_starts` say how many starts were run and how many reached the best value.

Constraints: the envelope (bounds), linear constraints (composition sum, budget), model specs (a second model's
prediction >= / <= a bound), pins (fixed values), the trust region (one historical setting's L-infinity box: each
start is solved inside the box of its nearest historical setting, which makes the union of boxes exact). At the
returned point every one is checked as written (engine.optim.decode.verify), and the objective re-predicted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from engine.core.boosters import has_linear_leaves
from engine.core.i18n import Msg
from engine.optim.constraints import TOLERANCE
from engine.optim.decode import verify
from engine.optim.problem import Infeasible, Problem, Solution, _check_fixed_constraints

STARTS = 12
SAMPLES = 2000
PIECEWISE_ITERATIONS = 40   # linear-leaf trees: a local polish of the best sampled starts (the slope is piecewise)


class SmoothAdapter:
    """A smooth model seen the way engine.optim.decode.verify sees an ensemble: raw_predict(point) on the
    output scale (identity link). A model without exact gradients (LightGBM with linear leaves: piecewise linear,
    with steps at its splits) gets central differences over `steps` (a fraction of each decision's range, so the
    slope seen is the trend over neighbouring pieces, not one leaf's)."""

    def __init__(self, model, feature_names: list[str], steps: dict[str, float] | None = None):
        self.model, self.features = model, list(feature_names)
        self.steps = steps or {}

    def row(self, point: dict[str, float]) -> np.ndarray:
        return np.array([[point[f] for f in self.features]], dtype=float)

    def raw_predict(self, point: dict[str, float]) -> float:
        return float(self.model.predict(self.row(point))[0])

    def predict_points(self, points: list[dict[str, float]]) -> np.ndarray:
        """Many points in one call (a booster's per-call overhead is most of a one-row prediction)."""
        return np.asarray(self.model.predict(np.array([[p[f] for f in self.features] for p in points], dtype=float)))

    def from_raw(self, value: float) -> float:
        return value

    def gradient(self, point: dict[str, float], names: list[str]) -> np.ndarray:
        if not hasattr(self.model, "gradient"):
            return self._differences(point, names)
        grad = self.model.gradient(self.row(point)[0])
        index = {f: j for j, f in enumerate(self.features)}
        return np.array([grad[index[f]] if f in index else 0.0 for f in names])


    def _differences(self, point: dict[str, float], names: list[str]) -> np.ndarray:
        moved = [f for f in names if f in self.features and self.steps.get(f, 0.0) > 0]
        out = np.zeros(len(names))
        if not moved:
            return out
        rows = []
        for f in moved:
            for sign in (1.0, -1.0):
                rows.append(self.row({**point, f: point[f] + sign * self.steps[f]})[0])
        pred = self.model.predict(np.array(rows)).reshape(-1, 2)
        for k, f in enumerate(moved):
            out[names.index(f)] = (pred[k, 0] - pred[k, 1]) / (2.0 * self.steps[f])
        return out


@dataclass
class SmoothSolution(Solution):
    starts: int = 0
    agreeing: int = 0

    def solver(self) -> dict:
        return {"name": "slsqp-multistart", "status": self.status, "seconds": round(self.seconds, 4),
                "gap": None, "time_limit": self.time_limit, "build_seconds": round(self.build_seconds, 4),
                "size": self.size, "starts": self.starts, "agreeing_starts": self.agreeing,
                "note": "smooth model or linear-leaf trees (no MILP encoding): the best of several local optima (no "
                        "optimality proof)"}


def is_smooth(model) -> bool:
    return getattr(model, "kind", None) == "smooth"


def needs_multistart(model) -> bool:
    return is_smooth(model) or has_linear_leaves(model)


def solve_smooth(problem: Problem) -> SmoothSolution:
    started = time.perf_counter()
    _check_fixed_constraints(problem)
    names = list(problem.decision)
    features = problem.feature_names or names
    steps = {f: 0.01 * (problem.decision[f].start()[1] - problem.decision[f].start()[0]) for f in names}
    objective = [(w, SmoothAdapter(m, features, steps)) for w, m in problem.objective]
    specs = [(s, SmoothAdapter(s.booster, s.feature_names or features, steps)) for s in problem.specs]
    ensembles = {f"objective{i}": a for i, (_, a) in enumerate(objective)}
    ensembles.update({f"spec{i}": a for i, (_, a) in enumerate(specs)})
    sign = 1.0 if problem.goal == "maximize" else -1.0

    def point_of(x: np.ndarray) -> dict[str, float]:
        return {**problem.fixed, **dict(zip(names, map(float, x)))}

    def value(x: np.ndarray) -> float:
        p = point_of(x)
        return sum(w * a.raw_predict(p) for w, a in objective) + sum(
            c * p[f] for f, c in problem.linear_objective.items())

    def grad(x: np.ndarray) -> np.ndarray:
        p = point_of(x)
        g = sum(w * a.gradient(p, names) for w, a in objective)
        return g + np.array([problem.linear_objective.get(f, 0.0) for f in names])

    def values(xs: np.ndarray) -> np.ndarray:
        points = [point_of(x) for x in xs]
        return sum(w * a.predict_points(points) for w, a in objective) + np.array(
            [sum(c * p[f] for f, c in problem.linear_objective.items()) for p in points])

    constraints = _linear(problem, names) + _specs(specs, names, point_of)
    iterations = 300 if all(is_smooth(m) for _, m in problem.objective) and all(
        is_smooth(s.booster) for s in problem.specs) else PIECEWISE_ITERATIONS
    box = np.array([problem.decision[f].start() for f in names], dtype=float).reshape(-1, 2)
    deadline = started + 0.9 * problem.time_limit
    results = []
    for x0, bounds in _starts(problem, names, box, values, sign):
        if time.perf_counter() > deadline and results:
            break
        found = _local(x0, bounds, value, grad, sign, constraints, iterations)
        found = _integers(problem, names, found, bounds, value, grad, sign, constraints, iterations)
        if found is not None:
            check = verify(problem, ensembles, point_of(found), value(found))
            if check["ok"]:
                results.append((sign * value(found), found, check))
    if not results:
        raise Infeasible(Msg("no setting meeting every constraint was found from any start over the smooth model; "
                             "relax the constraints, widen the bounds or raise trust towards 1.0",
                             "在平滑模型上从所有起点都没有找到满足全部约束的设定；请放宽约束、放宽范围，或把 trust 调向 1.0"))
    best_score, best, check = max(results, key=lambda r: r[0])
    agreeing = sum(1 for s, _, _ in results if s >= best_score - 1e-6 * max(1.0, abs(best_score)))
    point = point_of(best)
    objective_value = value(best)
    single = len(problem.objective) == 1 and problem.objective[0][0] == 1.0 and not problem.linear_objective
    check.update(predicted=objective_value, objective_output=objective_value)
    seconds = time.perf_counter() - started
    return SmoothSolution({f: point[f] for f in names}, point, objective_value,
                          objective_value if single else check["recomputed"], "local_optimum", None, None,
                          seconds, 0.0, problem.time_limit, check,
                          {"variables": len(names), "linear_constraints": len(problem.constraints),
                           "specs": len(problem.specs)}, len(results), agreeing)


def _linear(problem: Problem, names: list[str]) -> list[dict]:
    out = []
    for c in problem.constraints:
        a = np.array([c.coefs.get(f, 0.0) for f in names])
        const = sum(v * problem.fixed[f] for f, v in c.coefs.items() if f not in problem.decision)
        if c.sense == "==":
            out.append({"type": "eq", "fun": lambda x, a=a, k=const, c=c: a @ x + k - c.rhs, "jac": lambda x, a=a: a})
        elif c.sense == "<=":
            out.append({"type": "ineq", "fun": lambda x, a=a, k=const, c=c: c.rhs - (a @ x + k),
                        "jac": lambda x, a=a: -a})
        else:
            out.append({"type": "ineq", "fun": lambda x, a=a, k=const, c=c: a @ x + k - c.rhs, "jac": lambda x, a=a: a})
    return out


def _specs(specs, names: list[str], point_of) -> list[dict]:
    out = []
    for spec, adapter in specs:
        s = 1.0 if spec.sense == ">=" else -1.0
        out.append({"type": "ineq",
                    "fun": lambda x, s=s, a=adapter, b=spec.bound: s * (a.raw_predict(point_of(x)) - b),
                    "jac": lambda x, s=s, a=adapter: s * a.gradient(point_of(x), names)})
    return out


def _starts(problem: Problem, names: list[str], box: np.ndarray, values, sign: float):
    """(start, bounds) pairs: the best of random points and historical settings by the objective alone; with a
    trust region each start's bounds are the envelope cut to the box of its nearest historical setting."""
    rng = np.random.default_rng(0)
    points = rng.uniform(box[:, 0], box[:, 1], (SAMPLES, len(names)))
    region = problem.trust
    if region is not None:
        hist = np.tile(box.mean(axis=1), (len(region.anchors), 1))
        for i, f in enumerate(region.columns):
            if f in names:
                hist[:, names.index(f)] = region.anchors[:, i]
        points = np.vstack([np.clip(hist, box[:, 0], box[:, 1]), points[: SAMPLES // 4]])
    if problem.start:
        points = np.vstack([[problem.start[f] for f in names], points])
    scores = sign * values(points)
    order = np.argsort(-scores)
    picked = list(order[: STARTS - 2]) + list(rng.choice(len(points), min(2, len(points)), replace=False))
    if problem.start:
        picked = [0] + picked
    for k in dict.fromkeys(int(i) for i in picked):
        bounds = box.copy()
        if region is not None:
            sub = np.array([[points[k][names.index(f)] for f in region.columns]])
            anchor = int(region.nearest(sub)[1][0])
            low, high = region.box(anchor)
            for i, f in enumerate(region.columns):
                j = names.index(f)
                bounds[j] = [max(bounds[j, 0], low[i]), min(bounds[j, 1], high[i])]
            if (bounds[:, 0] > bounds[:, 1]).any():
                continue
        yield np.clip(points[k], bounds[:, 0], bounds[:, 1]), bounds


def _local(x0: np.ndarray, bounds: np.ndarray, value, grad, sign: float, constraints: list[dict],
           iterations: int = 300) -> np.ndarray | None:
    res = minimize(lambda x: -sign * value(x), x0, jac=lambda x: -sign * grad(x), method="SLSQP",
                   bounds=[tuple(b) for b in bounds], constraints=constraints,
                   options={"maxiter": iterations, "ftol": 1e-12})
    x = np.clip(res.x, bounds[:, 0], bounds[:, 1])
    ok = all(c["fun"](x) >= -TOLERANCE * 0.1 if c["type"] == "ineq" else abs(c["fun"](x)) <= TOLERANCE * 0.1
             for c in constraints)
    return x if ok else None


def _integers(problem: Problem, names: list[str], x: np.ndarray | None, bounds: np.ndarray, value, grad,
              sign: float, constraints: list[dict], iterations: int = 300) -> np.ndarray | None:
    """Integer settings: rounded, held, and the continuous ones solved again around them."""
    ints = [j for j, f in enumerate(names) if problem.decision[f].integer]
    if x is None or not ints:
        return x
    held = bounds.copy()
    for j in ints:
        v = float(np.clip(np.round(x[j]), np.ceil(bounds[j, 0]), np.floor(bounds[j, 1])))
        held[j] = [v, v]
    return _local(np.clip(x, held[:, 0], held[:, 1]), held, value, grad, sign, constraints, iterations)
