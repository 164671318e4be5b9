"""The simulated rubber compound plant: its history, its true optimum, its scorer."""

from __future__ import annotations

import numpy as np
import pytest

from engine.sim.rubber import COMPOSITION, CONTEXT, ORIGIN, TARGET, cost_of, make_compound, true_tensile


@pytest.fixture(scope="module")
def plant():
    return make_compound(rows=600, seed=1)


def test_history_is_a_narrow_recipe_summing_to_100_with_origin_campaigns(plant):
    frame = plant.frame
    assert np.allclose(frame[COMPOSITION].sum(axis=1), 100.0, atol=1e-6)
    assert set(frame[ORIGIN]) == {"TH", "MY", "CI"}
    assert frame[ORIGIN].ne(frame[ORIGIN].shift()).sum() < len(frame) / 10  # campaigns, not random per batch
    assert frame["carbon_black"].std() / frame["carbon_black"].mean() < 0.1  # narrow operation
    residual = frame[TARGET] - true_tensile(frame)
    assert 0.2 < residual.std() < 0.5
    assert make_compound(rows=600, seed=1).frame.equals(frame)  # deterministic


def test_optimum_is_feasible_and_beats_every_historical_batch_in_budget(plant):
    context = float(plant.frame[CONTEXT].median())
    budget = float(np.median(cost_of(plant.frame)))
    best, quality, cost = plant.optimum(context, budget=budget)
    assert abs(sum(best[c] for c in COMPOSITION) - 100.0) <= 1e-6 and cost <= budget * (1 + 1e-6)
    box = plant.envelope()
    assert all(box[c][0] - 1e-6 <= best[c] <= box[c][1] + 1e-6 for c in box)
    history = plant.frame.assign(**{CONTEXT: context})
    within = cost_of(history) <= budget
    assert quality >= true_tensile(history[within]).max() - 1e-6


def _result(settings: dict, baseline: dict, context: float) -> dict:
    recs = [{"name": k, "value": v, "baseline": baseline[k]} for k, v in settings.items()]
    return {"predicted": {"settings": {**settings, CONTEXT: context}}, "recommendations": recs}


def test_score_of_the_optimum_is_one_and_of_the_baseline_zero(plant):
    context = float(plant.frame[CONTEXT].median())
    budget = float(np.median(cost_of(plant.frame)))
    best, _, _ = plant.optimum(context, budget=budget)
    row = plant.frame.iloc[len(plant.frame) // 2]
    baseline = {c: (row[c] if c != ORIGIN else row[c]) for c in best}
    top = plant.score(_result(best, baseline, context), budget=budget)
    assert top["captured"] == pytest.approx(1.0, abs=1e-6) and all(top["feasible"].values())
    none = plant.score(_result(baseline, baseline, context), budget=budget)
    assert none["captured"] == pytest.approx(0.0, abs=1e-9)
    off = dict(best, polymer=best["polymer"] + 1.0)
    assert not plant.score(_result(off, baseline, context), budget=budget)["feasible"]["sum"]


@pytest.mark.slow
def test_recipe_tuning_captures_most_of_the_achievable_improvement():
    """The operator on the simulator (origin held at its most frequent level, the whole envelope allowed): the
    recommendation is feasible and captures at least 0.6 of the improvement the true optimum offers (the bench,
    with the template's model on 2,500 batches, measures 0.9+)."""
    from engine.pipeline.context import StepContext
    from engine.operators.model import LightGBMParams, lightgbm_cv
    from engine.operators.tuning import TuningParams, recipe_tuning

    plant = make_compound(rows=1500, seed=4)
    controls = [c for c in plant.controllable if c != ORIGIN]
    ctx = StepContext("test", "tune", 0)
    model = lightgbm_cv(LightGBMParams(target=TARGET, features=controls + [ORIGIN, CONTEXT], folds=3,
                                       n_estimators=60, learning_rate=0.1, num_leaves=15), ctx, plant.frame)["model"]
    budget = float(np.median(cost_of(plant.frame)))
    costs = {k: v for k, v in plant.costs().items() if "=" not in k}
    out = recipe_tuning(TuningParams(controllable=controls, costs=costs, composition=COMPOSITION, total=100.0,
                                     budget=budget, trust=1.0, pareto_points=0, time_limit=20.0), ctx, plant.frame,
                        model)
    origin = out["predicted"]["settings"][ORIGIN]
    score = plant.score(out, budget=budget, origins=[origin])
    assert all(score["feasible"].values()) and out["predicted"]["verification"]["ok"]
    assert score["captured"] >= 0.6, score
