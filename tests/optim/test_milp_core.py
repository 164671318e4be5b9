"""The exact optimiser over LightGBM boosters (engine.optim): optimality, verification, constraints, limits."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from engine.optim import Domain, Infeasible, LinearConstraint, ModelSpec, NoFeasiblePoint, Problem, \
    UnsupportedModel, solve, trust_region
from engine.optim.decode import expected_leaves, repair
from engine.optim.solve import build, read_all
from engine.optim.trees import Leaf, Split

NAMES = ["x1", "x2", "x3", "x4", "ctx"]
BOX = {"x1": Domain(0.0, 1.0), "x2": Domain(0.0, 1.0), "x3": Domain(0.1, 0.9), "x4": Domain(0.0, 10.0, True)}


def _data(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n), "x3": rng.uniform(0, 1, n),
                          "x4": rng.integers(0, 11, n).astype(float), "ctx": rng.uniform(0, 1, n)})
    return frame


def _train(y: np.ndarray, frame: pd.DataFrame, trees: int = 40, leaves: int = 15, **extra) -> lgb.Booster:
    params = {"num_leaves": leaves, "learning_rate": 0.1, "min_child_samples": 10, "seed": 0, "verbose": -1,
              "deterministic": True, "num_threads": 1, **extra}
    return lgb.train(params, lgb.Dataset(frame[NAMES], y), num_boost_round=trees)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _data()


@pytest.fixture(scope="module")
def quality(frame) -> lgb.Booster:
    """A known optimum at x1=0.7, x2=0.3, x3=0.5, x4=6, shifted by the context."""
    f = frame
    y = -(f.x1 - 0.7) ** 2 - (f.x2 - 0.3) ** 2 - 2 * (f.x3 - 0.5) ** 2 - 0.02 * (f.x4 - 6) ** 2 + 0.5 * f.ctx
    return _train(y.to_numpy(), frame)


@pytest.fixture(scope="module")
def cost(frame) -> lgb.Booster:
    """A second model: rises with x1 and x2 (e.g. energy use)."""
    y = 2 * frame.x1 + frame.x2 + 0.1 * frame.x4
    return _train(y.to_numpy(), frame, trees=20, leaves=7)


def _sampled(booster: lgb.Booster, n: int = 20_000, seed: int = 1, fixed_ctx: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cols = {f: (rng.integers(int(d.low), int(d.high) + 1, n).astype(float) if d.integer
                else rng.uniform(d.low, d.high, n)) for f, d in BOX.items()}
    cols["ctx"] = np.full(n, fixed_ctx)
    return booster.predict(pd.DataFrame(cols)[NAMES])


def _predict(booster: lgb.Booster, point: dict) -> float:
    return float(booster.predict(pd.DataFrame([point])[NAMES])[0])


@pytest.mark.parametrize("goal", ["maximize", "minimize"])
def test_optimum_beats_20000_samples_and_is_verified(quality, goal):
    solution = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, goal=goal))
    sampled = _sampled(quality)
    assert solution.status == "optimal" and solution.gap is not None and solution.gap <= 1e-4
    if goal == "maximize":
        assert solution.objective >= sampled.max() - 1e-12
    else:
        assert solution.objective <= sampled.min() + 1e-12
    predicted = _predict(quality, solution.point)
    assert abs(predicted - solution.objective) <= 1e-6 * max(1.0, abs(solution.objective))
    assert solution.verification["ok"] and solution.verification["abs_diff"] <= 1e-6
    assert float(solution.values["x4"]).is_integer() and 0 <= solution.values["x4"] <= 10
    for f, d in BOX.items():
        assert d.low <= solution.values[f] <= d.high


def test_values_sit_inside_their_cell_not_on_a_threshold(quality):
    solution = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}))
    thresholds: dict[str, list] = {}
    for tree in quality.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                thresholds.setdefault(NAMES[node["split_feature"]], []).append(node["threshold"])
                stack += [node["left_child"], node["right_child"]]
    for f in ("x1", "x2", "x3"):
        assert min(abs(solution.values[f] - t) for t in thresholds[f]) > 1e-9


def test_fixed_context_resolves_its_splits(quality):
    """The context is no decision variable: its splits are resolved, and the optimum moves with it."""
    low = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.1}))
    high = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.9}))
    assert "ctx" not in low.values and low.point["ctx"] == 0.1
    assert high.objective > low.objective
    for s in (low, high):
        assert abs(_predict(quality, s.point) - s.objective) <= 1e-6


def test_linear_equality_holds(quality):
    constraint = LinearConstraint({"x1": 1.0, "x2": 1.0}, "==", 0.6, name="x1 + x2 = 0.6")
    solution = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, constraints=[constraint]))
    assert abs(solution.values["x1"] + solution.values["x2"] - 0.6) <= 1e-6
    assert solution.verification["ok"] and solution.verification["constraints"][0]["ok"]


def test_budget_and_linear_objective(quality):
    """Maximise quality minus a linear cost, under a budget on x4."""
    budget = LinearConstraint({"x4": 1.0, "x1": 2.0}, "<=", 4.0)
    solution = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, linear_objective={"x3": -0.5},
                             constraints=[budget]))
    assert solution.values["x4"] + 2 * solution.values["x1"] <= 4.0 + 1e-6
    expected = _predict(quality, solution.point) - 0.5 * solution.values["x3"]
    assert abs(solution.objective - expected) <= 1e-6 and solution.verification["ok"]


def test_second_model_spec_holds_when_predicted(quality, cost):
    free = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}))
    spec_value = _predict(cost, free.point) - 0.4  # binding: the free optimum uses more than this
    spec = ModelSpec(cost, "<=", spec_value, name="energy <= spec")
    solution = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, specs=[spec]))
    assert _predict(cost, solution.point) <= spec_value + 1e-6
    assert solution.objective <= free.objective + 1e-12
    assert solution.verification["specs"][0]["ok"]
    assert abs(_predict(quality, solution.point) - solution.objective) <= 1e-6


def test_infeasible_linear_constraint_names_it_and_the_envelope(quality):
    impossible = LinearConstraint({"x1": 1.0, "x2": 1.0}, "==", 5.0, name="mix total")
    with pytest.raises(Infeasible) as info:
        solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, constraints=[impossible]))
    message = str(info.value)
    assert "mix total" in message and "x1 ∈ [0, 1]" in message and "[0, 2]" in message


def test_infeasible_spec_is_named(quality, cost):
    constraint = LinearConstraint({"x1": 1.0, "x2": 1.0}, ">=", 1.5, name="throughput")
    spec = ModelSpec(cost, "<=", -5.0, name="energy cap")
    with pytest.raises(Infeasible) as info:
        solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, constraints=[constraint], specs=[spec]))
    message = str(info.value)
    assert "energy cap" in message and "throughput" in message and "envelope" in message


def test_tiny_time_limit_gives_a_point_with_its_gap_or_says_so(quality):
    problem = Problem([(1.0, quality)], BOX, {"ctx": 0.5}, time_limit=0.01)
    try:
        solution = solve(problem)
    except NoFeasiblePoint as exc:
        assert "no feasible point was found within the time limit" in str(exc)
        return
    assert solution.status in ("optimal", "time_limit")
    assert solution.gap is not None and solution.verification["ok"]


def test_trust_region_keeps_the_point_near_history(quality, frame):
    history = frame.iloc[:200]
    low, high = {f: d.low for f, d in BOX.items()}, {f: d.high for f, d in BOX.items()}
    region = trust_region(history, list(BOX), low, high, quantile=0.5)
    solution = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}, trust=region))
    free = solve(Problem([(1.0, quality)], BOX, {"ctx": 0.5}))
    assert region.distance(solution.point) <= region.radius + 1e-9
    assert solution.verification["trust"]["ok"] and solution.objective <= free.objective + 1e-12
    assert abs(_predict(quality, solution.point) - solution.objective) <= 1e-6


def test_binary_model_objective_is_a_probability(frame):
    y = ((frame.x1 - 0.6) ** 2 + (frame.x2 - 0.4) ** 2 < 0.1).astype(float).to_numpy()
    model = _train(y, frame, trees=30, leaves=7, objective="binary")
    solution = solve(Problem([(1.0, model)], BOX, {"ctx": 0.5}))
    assert 0.5 < solution.objective < 1.0
    assert abs(_predict(model, solution.point) - solution.objective) <= 1e-6
    assert solution.objective >= _sampled(model).max() - 1e-12


def test_categorical_decision_feature_is_refused_by_name(frame):
    data = frame.assign(grade=pd.Categorical(np.where(frame.x1 > 0.5, "A", "B")))
    names = NAMES + ["grade"]
    model = lgb.train({"num_leaves": 7, "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
                      lgb.Dataset(data[names], (data.grade == "A") * 1.0 + data.x2), num_boost_round=10)
    with pytest.raises(UnsupportedModel, match="grade"):
        solve(Problem([(1.0, model)], {**BOX, "grade": Domain(0, 1)}, {"ctx": 0.5}))
    fixed = solve(Problem([(1.0, model)], BOX, {"ctx": 0.5, "grade": 0.0}))  # a fixed category is resolved
    assert abs(float(model.predict(np.array([[fixed.point[c] for c in names]]))[0]) - fixed.objective) <= 1e-6


def test_repair_moves_a_tied_value_back_into_the_chosen_leaf(quality):
    problem = Problem([(1.0, quality)], BOX, {"ctx": 0.5})
    solution = solve(problem)
    ensembles = read_all(problem)
    enc = build(problem, ensembles)
    cells = {f: sum(1 for t in enc.thresholds.get(f, []) if solution.values[f] > t) for f in BOX}
    expected = expected_leaves(enc, cells)
    tree = next(t for t in ensembles["objective0"].trees if isinstance(t, Split) and t.feature == "x1")
    wrong = dict(solution.point)  # put x1 just across a threshold of a split it must pass
    wrong["x1"] = float(np.nextafter(tree.threshold, np.inf)) if solution.values["x1"] <= tree.threshold \
        else tree.threshold
    fixed, moved = repair(enc, wrong, expected)
    assert "x1" in moved
    assert abs(_predict(quality, fixed) - solution.objective) <= 1e-6
    assert isinstance(ensembles["objective0"].trees[0], (Split, Leaf))


def test_weighted_sum_of_two_boosters_shares_the_decision_variables(quality, cost):
    """E.g. quality minus 0.3 × energy: both models read the same x, the objective adds their raw scores."""
    solution = solve(Problem([(1.0, quality), (-0.3, cost)], BOX, {"ctx": 0.5}))
    expected = _predict(quality, solution.point) - 0.3 * _predict(cost, solution.point)
    assert abs(solution.objective - expected) <= 1e-6 and solution.verification["ok"]
    rng = np.random.default_rng(3)
    sampled = pd.DataFrame({f: rng.uniform(d.low, d.high, 5000) for f, d in BOX.items()}).assign(
        x4=lambda f: np.round(f.x4), ctx=0.5)[NAMES]
    assert solution.objective >= (quality.predict(sampled) - 0.3 * cost.predict(sampled)).max() - 1e-12
