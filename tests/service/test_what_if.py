"""The what-if and the trials re-predict with the model the recommendation was made with, and every screen's
outcome band comes from one function (engine.ml.bands.outcome_band)."""

from __future__ import annotations

import pytest

from engine import api
from engine.service.background import recommending_model
from engine.ml.bands import outcome_band
from engine.sim.yield_line import make_line, recipe_for
from engine.api import ingest_frame

TINY = {"n_estimators": 30, "screen_trees": 30, "folds": 2, "n_samples": 300, "curves": 2, "bag": 1,
        "solver_time": 3.0, "top_k": 6}


def test_band_holds_its_value_and_stays_in_the_observed_range():
    assert outcome_band(50.0, (-3.0, 4.0), (0.0, 100.0)) == {"value": 50.0, "low": 47.0, "high": 54.0}
    above = outcome_band(83.78, (-5.94, 3.0), (2.3, 82.6))  # a prediction beyond anything observed
    assert above["low"] == pytest.approx(77.84) and above["high"] == 83.78
    assert outcome_band(0.0, (0.0, 1.0), None) == {"value": 0.0, "low": 0.0, "high": 1.0}


@pytest.fixture
def yield_run(db):
    line = make_line(n_params=60, n_drivers=6, rows=400)
    ingest_frame(line.frame, "line", db=db)
    result = api.run_recipe(recipe_for(line, {"table": "line"}, **TINY), db=db)
    assert result["status"] == "succeeded", result.get("error")
    return result


def test_yield_what_if_uses_the_key_parameter_model(yield_run, db):
    run_id = yield_run["run_id"]
    pipeline = api.compile_recipe(api.get_run(run_id, db)["recipe"], db=db)
    assert str(recommending_model(pipeline)) == "refit.model"  # not the screening model of every column
    model = api.run_model(run_id, db)
    assert len(model.features) < 60 and set(yield_run["predicted"]["settings"]) >= set(model.features)

    # at the recommended settings the what-if repeats the recommendation: same value, same band
    same = api.what_if(run_id, {}, db)
    recommended = yield_run["predicted"]["recommended"]
    for key in ("value", "low", "high"):
        assert same[key] == pytest.approx(recommended[key], rel=1e-9)
    rec = next(r for r in yield_run["recommendations"] if not r.get("levels"))
    moved = api.what_if(run_id, {rec["name"]: rec["low"]}, db)
    assert moved["low"] <= moved["value"] <= moved["high"]

    # a trial is predicted by the same model with the same band
    trial = api.log_trial(run_id, {rec["name"]: rec["low"]}, 0.5, db=db)
    assert (trial["predicted"], trial["predicted_low"], trial["predicted_high"]) == \
        pytest.approx((moved["value"], moved["low"], moved["high"]))

    # re-optimising with a pin (Results' "Run again with one setting fixed") keeps the same model chain
    recipe = yield_run["recipe"]["content"]
    pinned = api.run_recipe({**recipe, "expert": {"pin": {rec["name"]: rec["baseline"]}}}, db=db)
    again = api.what_if(pinned["run_id"], {}, db)
    assert again["settings"][rec["name"]] == rec["baseline"]
    assert again["value"] == pytest.approx(pinned["predicted"]["recommended"]["value"], rel=1e-9)


def test_quick_model_what_if_uses_its_one_model(demo_db):
    pipeline = api.compile_recipe(api.read_recipe("recipes/concrete_strength.yaml"), db=demo_db)
    assert str(recommending_model(pipeline)) == "train.model"
