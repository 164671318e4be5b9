"""Recipe tuning over LightGBM with piecewise-linear leaves (what model.search@3 may choose): the MILP cannot encode
such trees, so the verified multi-start path takes them — every constraint holds as written, the point is
re-predicted, and the recommendation beats the typical recipe on the true response."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.ml import candidates as cand
from engine.core.boosters import has_linear_leaves as is_linear
from engine.ml.bagging import merge_boosters
from engine.operators.model_search import ModelSearchParams, search_v3
from engine.operators.tuning import TuningParams, recipe_tuning
from engine.pipeline.context import StepContext
from engine.sim.smooth_compound import FRACTIONS, TARGET, make_smooth_compound


def _linear_model(bundle, frame, controllable):
    """The bundle with linear-leaf boosters (a blend with constant leaves, as @3 builds) as its final and fold models."""
    x, y = bundle.coder.transform(frame), frame[TARGET].to_numpy()
    setup = cand.Setup("regression", 0, 1)
    params = {**cand.default_params(setup), "n_estimators": 150, "num_leaves": 7, "learning_rate": 0.05}

    def fit(rows, seed=0):
        linear = cand.fit_lgbm(x.iloc[rows], y[rows], {**params, "seed": seed, "linear_tree": True,
                                                       "linear_lambda": 0.1}, setup)
        return merge_boosters([linear, cand.fit_lgbm(x.iloc[rows], y[rows], {**params, "seed": seed}, setup)])

    everything = np.arange(len(frame))
    folds = [fit(np.setdiff1d(everything, everything[i::3]), seed=i) for i in range(3)]
    return replace(bundle, final=fit(everything), folds=folds)


def test_tuning_over_linear_leaves_is_routed_to_multistart_feasible_and_verified():
    plant = make_smooth_compound(rows=300, seed=1)
    frame = plant.frame
    trained = search_v3(ModelSearchParams(target=TARGET, features=plant.controllable, folds=3, time_budget=2.0,
                                          candidates=["lightgbm_default"]), StepContext("t", "train", 0), frame)
    model = _linear_model(trained["model"], frame, plant.controllable)
    assert is_linear(model.final)
    budget = float(np.median([plant.cost(r) for r in frame[plant.controllable].to_dict("records")]))
    out = recipe_tuning(TuningParams(controllable=plant.controllable, costs=plant.costs(), composition=FRACTIONS,
                                     total=1.0, budget=budget, pareto_points=2, time_limit=10.0,
                                     report_seconds=False), StepContext("t", "tune", 0), frame, model)
    predicted = out["predicted"]
    assert predicted["solver"]["name"] == "slsqp-multistart" and predicted["solver"]["gap"] is None
    assert predicted["verification"]["ok"] and all(c["ok"] for c in predicted["verification"]["checks"])
    rec = {r["name"]: r["value"] for r in out["recommendations"]}
    assert abs(sum(rec[c] for c in FRACTIONS) - 1.0) <= 1e-6
    assert plant.cost(rec) <= budget * (1 + 1e-6)
    encoded = model.coder.transform(frame.head(1).assign(**rec))
    assert abs(float(model.final.predict(encoded)[0]) - predicted["recommended"]["value"]) <= 1e-6
    score = plant.score(out, budget)
    assert all(score["feasible"].values())
    assert score["captured"] > 0.3, score        # better than the typical recipe on the TRUE response
