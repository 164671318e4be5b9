"""optimize.recipe_tuning on the simulated rubber compound plant: feasibility, verification, the Pareto front,
level choice and the messages for what cannot be met."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.operators.model import LightGBMParams, lightgbm_cv
from engine.operators.tuning import TuningParams, recipe_tuning
from engine.optim import Infeasible
from engine.sim.rubber import COMPOSITION, CONTEXT, ORIGIN, TARGET, make_compound


def _ctx() -> StepContext:
    return StepContext("test", "tune", 0)


@pytest.fixture(scope="module")
def plant():
    plant = make_compound(rows=400, seed=3)
    params = LightGBMParams(target=TARGET, features=plant.controllable + [CONTEXT], folds=3, n_estimators=30,
                            num_leaves=7)
    return plant, lightgbm_cv(params, _ctx(), plant.frame)["model"]


def _run(plant, **params):
    plant, model = plant
    base = dict(controllable=[c for c in plant.controllable if c != ORIGIN], composition=COMPOSITION, total=100.0,
                costs={k: v for k, v in plant.costs().items() if "=" not in k}, pareto_points=0, time_limit=20.0)
    return recipe_tuning(TuningParams(**{**base, **params}), _ctx(), plant.frame, model)


def _assert_feasible(out, plant, budget=None):
    values = {r["name"]: r["value"] for r in out["recommendations"]}
    assert abs(sum(values[c] for c in COMPOSITION) - 100.0) <= 1e-6
    box = plant[0].envelope()
    assert all(box[c][0] - 1e-9 <= values[c] <= box[c][1] + 1e-9 for c in COMPOSITION)
    cost = out["predicted"]["cost"]["recommended"]
    recomputed = sum(p * values[c] for c, p in out["predicted"]["cost"]["prices"].items() if c in values)
    assert cost == pytest.approx(recomputed, rel=1e-9)
    if budget is not None:
        assert cost <= budget * (1 + 1e-9)
    check = out["predicted"]["verification"]
    assert check["ok"] and check["abs_diff"] <= 1e-6 * max(1.0, abs(check["booster"]))
    assert all(c["ok"] for c in check["checks"])
    assert check["predicted"] == out["predicted"]["recommended"]["value"]


def test_best_quality_within_budget_is_feasible_verified_and_better(plant):
    out = _run(plant, budget=155.0)
    _assert_feasible(out, plant, budget=155.0)
    p = out["predicted"]
    assert p["method"] == "milp" and p["solver"]["status"] in ("optimal", "time_limit")
    assert p["solver"]["gap"] is not None and p["tie_break"]["status"] in ("optimal", "time_limit", "skipped")
    assert p["recommended"]["value"] >= p["baseline"]["value"] - 1e-9  # the typical recipe is a candidate
    assert p["recommended"]["low"] <= p["recommended"]["value"] <= p["recommended"]["high"]
    assert [r["name"] for r in out["recommendations"]][:len(COMPOSITION)] == COMPOSITION


def test_cheapest_at_spec_meets_the_spec(plant):
    spec = float(np.median(plant[0].frame[TARGET]))
    out = _run(plant, objective="min_cost", spec=spec)
    _assert_feasible(out, plant)
    assert out["predicted"]["recommended"]["value"] >= spec - 1e-9
    assert any(c["name"].endswith("(spec)") and c["ok"] for c in out["predicted"]["constraints"])


def test_pareto_front_is_monotone_verified_and_within_each_budget(plant):
    out = _run(plant, pareto_points=4)
    front = out["pareto"]
    assert len(front) == 4
    qualities = [e["quality"]["value"] for e in front]
    assert all(b >= a - 1e-9 for a, b in zip(qualities, qualities[1:]))
    budgets = [e["budget"] for e in front]
    assert budgets == sorted(budgets)
    for e in front:
        assert e["verified"] and e["cost"] <= e["budget"] * (1 + 1e-9) + 1e-9
        assert abs(sum(e["values"][c] for c in COMPOSITION) - 100.0) <= 1e-6
    # no budget: the answer is the front's top end
    assert out["predicted"]["recommended"]["value"] == pytest.approx(qualities[-1], rel=1e-9)


def test_unreachable_spec_names_the_spec(plant):
    with pytest.raises(Infeasible, match=r"spec 'tensile_mpa >= 99 \(spec\)'.*cannot be met"):
        _run(plant, objective="min_cost", spec=99.0)


def test_budget_below_the_cheapest_recipe_names_the_budget(plant):
    with pytest.raises(Infeasible, match=r"cost <= 50 \(budget\).*cannot be met inside the operating envelope"):
        _run(plant, budget=50.0)


def test_origin_is_chosen_by_solving_each_level(plant):
    out = _run(plant, controllable=plant[0].controllable, costs=plant[0].costs(), budget=160.0)
    choices = out["predicted"]["choices"]
    assert sorted(c["levels"][ORIGIN] for c in choices) == ["CI", "MY", "TH"]
    chosen = out["predicted"]["settings"][ORIGIN]
    best = max((c for c in choices if c["feasible"]), key=lambda c: (round(c["quality"], 9), -c["cost"]))
    assert chosen == best["levels"][ORIGIN]
    origin_rec = next(r for r in out["recommendations"] if r["name"] == ORIGIN)
    assert origin_rec["value"] == chosen and origin_rec["levels"] == ["CI", "MY", "TH"]
    # the level's surcharge is part of the cost
    surcharge = plant[0].costs().get(f"{ORIGIN}={chosen}", 0.0)
    values = {r["name"]: r["value"] for r in out["recommendations"]}
    plain = sum(p * values[c] for c, p in plant[0].costs().items() if c in values)
    assert out["predicted"]["cost"]["recommended"] == pytest.approx(plain + surcharge, rel=1e-9)
    _assert_feasible(out, plant, budget=160.0)


def test_min_cost_without_spec_and_bad_prices_are_clear_errors(plant):
    with pytest.raises(StudioError, match="needs a quality spec"):
        _run(plant, objective="min_cost")
    with pytest.raises(StudioError, match="expert.costs names 'nitrogen'"):
        _run(plant, costs={"nitrogen": 1.0})
    with pytest.raises(StudioError, match="composition columns \\['mooney'\\]"):
        _run(plant, composition=COMPOSITION + ["mooney"])
