"""optimize.tree_milp: the exact optimiser as an operator, on the tiny plant."""

from __future__ import annotations

import pytest

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.operators.model import LightGBMParams, lightgbm_cv
from engine.operators.optimize import SampleSearchParams, sample_search
from engine.operators.optimize_exact import TreeMilpParams, tree_milp
from engine.sim.tiny import tiny_plant


def _ctx() -> StepContext:
    return StepContext("test", "recommend", 0)


@pytest.fixture(scope="module")
def plant():
    frame = tiny_plant(rows=300)
    params = LightGBMParams(target="yield", features=["temp", "speed", "humidity", "shift"], folds=3,
                            n_estimators=40, num_leaves=7)
    return frame, lightgbm_cv(params, _ctx(), frame)["model"]


def _run(plant, **params):
    frame, model = plant
    return tree_milp(TreeMilpParams(controllable=["temp", "speed"], **params), _ctx(), frame, model)


def test_result_shape_solver_and_verification(plant):
    out = _run(plant)
    predicted = out["predicted"]
    assert predicted["method"] == "milp" and predicted["verified"] is True
    assert set(predicted["solver"]) >= {"name", "status", "seconds", "gap", "time_limit"}
    assert predicted["solver"]["name"] == "highs" and predicted["solver"]["status"] == "optimal"
    assert predicted["solver"]["seconds"] > 0
    check = predicted["verification"]
    assert check["ok"] and check["abs_diff"] <= 1e-6 * max(1, abs(check["objective"]))
    assert check["predicted"] == predicted["recommended"]["value"]
    assert [r["name"] for r in out["recommendations"]] == ["temp", "speed"]
    assert predicted["distance_to_data"]["value"] <= predicted["distance_to_data"]["trust_radius"] + 1e-9


def test_at_least_as_good_as_sampling_in_the_same_box(plant):
    frame, model = plant
    exact = _run(plant, trust=1.0)["predicted"]["recommended"]["value"]
    sampled = sample_search(SampleSearchParams(controllable=["temp", "speed"], trust=1.0, n_samples=5000),
                            _ctx(), frame, model)["predicted"]["recommended"]["value"]
    assert exact >= sampled - 1e-9


def test_linear_constraint_holds_in_the_recommendation(plant):
    out = _run(plant, constraints=[{"coefs": {"temp": 0.01, "speed": 1.0}, "sense": "<=", "rhs": 10.0,
                                    "name": "load"}], trust=1.0)
    values = {r["name"]: r["value"] for r in out["recommendations"]}
    assert 0.01 * values["temp"] + values["speed"] <= 10.0 + 1e-6
    assert out["predicted"]["constraints"][0]["ok"]


def test_infeasible_constraint_is_a_clear_error(plant):
    with pytest.raises(StudioError, match="cannot be met inside the operating envelope.*temp ∈"):
        _run(plant, constraints=[{"coefs": {"speed": 1.0}, "sense": ">=", "rhs": 50.0, "name": "speed floor"}])


def test_categorical_controllable_falls_back_to_sampling(plant):
    frame, model = plant
    out = tree_milp(TreeMilpParams(controllable=["temp", "shift"], n_samples=200), _ctx(), frame, model)
    assert out["predicted"]["method"] == "sampling"
    assert "shift" in out["predicted"]["fallback"]["en"]


def test_categorical_context_is_fixed_and_resolved(plant):
    """'shift' is a categorical context feature of the model: held at its mode, its splits are resolved."""
    out = _run(plant, scenario="median")
    assert out["predicted"]["settings"]["shift"] in ("A", "B")
    assert out["predicted"]["verification"]["ok"]


def test_pinned_controllable_is_reported_and_fixed(plant):
    out = tree_milp(TreeMilpParams(controllable=["temp", "speed"], pin={"speed": 2.0}), _ctx(), *plant)
    pinned = [r for r in out["recommendations"] if r.get("pinned")]
    assert pinned == [{"name": "speed", "value": 2.0, "low": 2.0, "high": 2.0, "baseline": pinned[0]["baseline"],
                       "pinned": True}]
    assert out["predicted"]["settings"]["speed"] == 2.0
