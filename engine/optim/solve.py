"""Exact recommendation over trained LightGBM boosters: encode, solve with HiGHS in time, decode, verify.

    problem = Problem(objective=[(1.0, booster)], decision={"temp": Domain(820, 880)}, fixed={"humidity": 50.0})
    solution = solve(problem)        # raises Infeasible / NoFeasiblePoint with a message a user can act on

Values are model-encoded (floats; a fixed categorical feature as its category code). The objective is the sum
of weighted raw scores plus a linear term; with one booster of weight 1 it is reported on the model's own
output scale (a probability for a binary model).
"""

from __future__ import annotations

import time
import numpy as np
import pyomo.environ as pyo

from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh
from engine.optim.constraints import LinearConstraint, add_linear, add_trust, envelope_text
from engine.optim.decode import decode, expected_leaves, repair, verify
from engine.optim.problem import Infeasible, NoFeasiblePoint, Problem, Solution, _check_fixed_constraints  # noqa: F401
from engine.optim.highs import run_highs
from engine.optim.tree_milp import Encoding
from engine.optim.trees import Ensemble, read_ensemble
from engine.optim.warm import warm_start


def solve(problem: Problem) -> Solution:
    models = [m for _, m in problem.objective] + [s.booster for s in problem.specs]
    from engine.optim.smooth import needs_multistart, solve_smooth

    if any(needs_multistart(m) for m in models):   # a smooth model or linear-leaf trees: engine/optim/smooth.py
        return solve_smooth(problem)
    started = time.perf_counter()
    _check_fixed_constraints(problem)
    ensembles = read_all(problem)
    enc = build(problem, ensembles, with_objective=True)
    start = warm_start(enc, problem, ensembles, problem.warm_samples) if problem.warm_samples else None
    build_seconds = time.perf_counter() - started
    # the limit is for the whole call: the encoding's time is not given to the solver again, and 5% is kept
    # back because HiGHS finishes its current cut round or sub-MIP before it looks at the clock, and decoding
    # and verifying come after it
    run = run_highs(enc.m, max(0.95 * problem.time_limit - build_seconds, 0.01), problem.mip_gap, start)
    if run.status == "infeasible":
        raise Infeasible(diagnose(problem, ensembles))
    if not run.has_solution:
        if run.status == "no_solution":
            raise NoFeasiblePoint(Msg(f"no feasible point was found within the time limit of {problem.time_limit:g} s; "
                                      f"raise the time limit or relax the constraints",
                                      f"在 {problem.time_limit:g} 秒的时间限制内没有找到可行点；请延长时间限制或放宽约束"))
        raise StudioError(Msg(f"the MILP solver stopped without a solution ({run.message})",
                              f"MILP 求解器停止时没有得到解（{run.message}）"))
    cells = enc.chosen_cells()
    anchor = int(np.argmax([pyo.value(enc.m.z[k]) for k in enc.m.z])) if problem.trust is not None else None
    values = decode(enc, problem, cells, anchor)
    point = {**problem.fixed, **values}
    check = verify(problem, ensembles, point, run.objective)
    if not check["ok"]:
        point, moved = repair(enc, point, expected_leaves(enc, cells))
        check = {**verify(problem, ensembles, point, run.objective), "repaired": moved}
    single = _single(problem, ensembles)
    scale = single.from_raw if single else (lambda v: v)
    check.update(predicted=scale(check["recomputed"]), objective_output=scale(run.objective))
    return Solution({f: point[f] for f in problem.decision}, point, scale(run.objective),
                    scale(check["recomputed"]), run.status, run.gap, run.bound, run.seconds, build_seconds,
                    problem.time_limit, check, enc.size())


def read_all(problem: Problem) -> dict[str, Ensemble]:
    """Objective boosters as objective0.., spec boosters as spec0.., each pruned to the problem's domain."""
    out = {f"objective{i}": read_ensemble(b, problem.decision, problem.fixed, problem.feature_names)
           for i, (_, b) in enumerate(problem.objective)}
    out.update({f"spec{i}": read_ensemble(s.booster, problem.decision, problem.fixed, s.feature_names)
                for i, s in enumerate(problem.specs)})
    if _single(problem, out) is None and any(e.link != "identity" for k, e in out.items() if k.startswith("obj")):
        raise StudioError(Msg("a weighted sum of models or a model plus a linear term needs regression models "
                              "(raw scores add up; probabilities do not)",
                              "模型的加权和、或模型加线性项，需要回归模型（原始分数可以相加，概率不行）"))
    return out


def build(problem: Problem, ensembles: dict[str, Ensemble], with_objective: bool = True,
          specs: list[int] | None = None, linear: bool = True, trust: bool = True) -> Encoding:
    """The MILP; the optional switches leave parts out (diagnose() uses them to find what cannot be met)."""
    specs = list(range(len(problem.specs))) if specs is None else specs
    used = {k: e for k, e in ensembles.items() if (with_objective and k.startswith("objective")) or
            (k.startswith("spec") and int(k[4:]) in specs)}
    enc = Encoding(problem.decision, used)
    m = enc.m
    if with_objective:
        total = sum(w * enc.outputs[f"objective{i}"] for i, (w, _) in enumerate(problem.objective))
        total += sum(c * (m.v[f] if f in problem.decision else problem.fixed[f])
                     for f, c in problem.linear_objective.items())
        m.obj = pyo.Objective(expr=total, sense=pyo.maximize if problem.goal == "maximize" else pyo.minimize)
    else:
        m.obj = pyo.Objective(expr=0.0)
    if linear:
        add_linear(m, problem.constraints, problem.fixed)
    m.spec = pyo.ConstraintList()
    for i in specs:
        spec, ens = problem.specs[i], ensembles[f"spec{i}"]
        raw, out = ens.to_raw(spec.bound), enc.outputs[f"spec{i}"]
        m.spec.add(out >= raw if spec.sense == ">=" else out <= raw)
    if trust and problem.trust is not None:
        add_trust(m, problem.trust)
    return enc


def diagnose(problem: Problem, ensembles: dict[str, Ensemble]) -> Msg:
    """Name the constraint set that cannot be met: add the sets one at a time until the problem turns infeasible."""
    envelope = envelope_text(problem.decision)
    for c in problem.constraints:  # one linear constraint alone in a box: its range is exact, no solver needed
        low, high = _range_in_box(c, problem)
        if (c.sense in ("<=", "==") and low > c.rhs + 1e-9) or (c.sense in (">=", "==") and high < c.rhs - 1e-9):
            return Msg(f"constraint '{c.label()}' cannot be met inside the operating envelope ({envelope}): there its "
                       f"left-hand side ranges over [{low:.6g}, {high:.6g}]. Change the constraint or widen the bounds.",
                       f"约束 '{c.label()}' 在运行包络（{envelope}）内无法满足：在包络内它的左边只能取 "
                       f"[{low:.6g}, {high:.6g}]。请修改约束或放宽范围。")
    labels = "; ".join(f"'{c.label()}'" for c in problem.constraints)
    stages = [(Msg("the linear constraints " + labels, "线性约束 " + labels),
               dict(specs=[], linear=True, trust=False))] if problem.constraints else []
    stages += [(Msg(f"the spec '{s.label()}'", f"指标要求 '{s.label()}'"), dict(specs=list(range(i + 1)), linear=True, trust=False))
               for i, s in enumerate(problem.specs)]
    if problem.trust is not None:
        radius = f"{problem.trust.radius:.3g}"
        stages.append((Msg(f"the trust region (within {radius} of a historical setting's data range)",
                           f"信任域（距历史设定 {radius} 个数据范围以内）"), dict(specs=None, linear=True, trust=True)))
    earlier: list[Msg] = []
    for name, parts in stages:
        run = run_highs(build(problem, ensembles, with_objective=False, **parts).m, min(problem.time_limit, 20.0))
        if run.status == "infeasible":
            together = f", together with {' and '.join(earlier)}," if earlier else ""
            together_zh = f"（与{'、'.join(zh(e) for e in earlier)}一起）" if earlier else ""
            return Msg(f"{name}{together} cannot be met inside the operating envelope ({envelope}). Relax it, widen "
                       f"the expert bounds, or raise trust towards 1.0.",
                       f"{zh(name)}{together_zh}在运行包络（{envelope}）内无法满足。请放宽它、放宽专家范围，或把 trust 调向 1.0。")
        earlier.append(name)
    return Msg(f"the constraints cannot all be met inside the operating envelope ({envelope})",
               f"在运行包络（{envelope}）内无法同时满足所有约束")


def _range_in_box(c: LinearConstraint, problem: Problem) -> tuple[float, float]:
    low = high = 0.0
    for f, a in c.coefs.items():
        if f in problem.decision:
            lo, hi = problem.decision[f].start()
            low, high = low + min(a * lo, a * hi), high + max(a * lo, a * hi)
        else:
            low, high = low + a * problem.fixed[f], high + a * problem.fixed[f]
    return low, high


def _single(problem: Problem, ensembles: dict[str, Ensemble]) -> Ensemble | None:
    """The one objective booster when the objective is exactly one model's output, else None."""
    if len(problem.objective) == 1 and problem.objective[0][0] == 1.0 and not problem.linear_objective:
        return ensembles["objective0"]
    return None
