"""The energy operators: verified, feasible setpoints; savings consistent with the predictions; money = saving × price
× hours; the output demand holds; bad parameters give clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.operators.energy import EnergyModelParams, EnergySetpointParams, energy_models, energy_setpoints
from engine.sim.boiler import CONTEXT, CONTROLLABLE, make_boiler


def _ctx() -> StepContext:
    return StepContext("test", "energy", 0)


@pytest.fixture(scope="module")
def boiler():
    return make_boiler(rows=3000)


@pytest.fixture(scope="module")
def trained(boiler):
    frame = boiler.frame.drop(columns=["coal_feed_tph", "fuel_gj_per_t_steam"])
    params = EnergyModelParams(target="efficiency_pct", features=CONTROLLABLE + CONTEXT, time="timestamp", folds=3,
                               n_estimators=150, num_leaves=15, window_columns=["steam_load_pct"], window=3)
    return energy_models(params, _ctx(), frame)


def _recommend(trained, **params):
    params = {"controllable": CONTROLLABLE, "scenario": "latest", "time": "timestamp", "report_seconds": False,
              **params}
    return energy_setpoints(EnergySetpointParams(**params), _ctx(), trained["frame"], trained["model"], None)


def test_rolling_context_features_enter_the_model(trained):
    assert trained["report"]["rolling_features"] == ["steam_load_pct_roll3_mean"]
    assert "steam_load_pct_roll3_mean" in trained["model"].features
    assert trained["output_model"] is None


def test_recommendation_is_verified_feasible_and_captures_most_of_the_gain(boiler, trained):
    out = _recommend(trained)
    predicted, savings = out["predicted"], out["savings"]
    assert predicted["method"] == "milp" and predicted["verification"]["ok"] and savings["verified"]
    assert savings["solver"]["status"] == "optimal" and savings["solver"]["gap"] <= 1e-3
    values = {r["name"]: r["value"] for r in out["recommendations"]}
    for r in out["recommendations"]:
        assert r["envelope"][0] - 1e-9 <= r["value"] <= r["envelope"][1] + 1e-9
    score = boiler.score(values, boiler.scenario("latest"))
    assert score["feasible"] and score["captured"] >= 0.7, score


def test_savings_follow_from_predicted_baseline_and_recommended(trained):
    out = _recommend(trained, price=35.0, hours=7000.0, energy_per_hour=2400.0, energy_unit="GJ")
    pred, s = out["predicted"], out["savings"]
    base, rec = pred["baseline"]["value"], pred["recommended"]["value"]
    assert s["baseline"] == pytest.approx(base) and s["recommended"] == pytest.approx(rec)
    # efficiency: the same steam needs energy ∝ 1/efficiency
    assert s["pct"]["value"] == pytest.approx(100 * (1 - base / rec))
    assert s["pct"]["low"] <= s["pct"]["value"] <= s["pct"]["high"]
    energy, money = s["energy_per_hour"], s["money_per_year"]
    assert energy["unit"] == "GJ/h" and money["unit"] == "CNY/yr" and money["price_unit"] == "CNY/GJ"
    for key in ("value", "low", "high"):
        assert energy[key] == pytest.approx(s["pct"][key] / 100 * 2400.0)
        assert money[key] == pytest.approx(energy[key] * 35.0 * 7000.0)


def test_minimize_energy_per_unit_without_entered_energy_use(boiler):
    frame = boiler.frame.drop(columns=["coal_feed_tph", "efficiency_pct"])
    model = energy_models(EnergyModelParams(target="fuel_gj_per_t_steam", features=CONTROLLABLE + CONTEXT, folds=3,
                                            n_estimators=60), _ctx(), frame)["model"]
    out = energy_setpoints(EnergySetpointParams(controllable=CONTROLLABLE, goal="minimize", price=35.0, hours=100.0,
                                                energy_unit="GJ", report_seconds=False), _ctx(), frame, model, None)
    pred, s = out["predicted"], out["savings"]
    base, rec = pred["baseline"]["value"], pred["recommended"]["value"]
    assert rec < base and s["pct"]["value"] == pytest.approx(100 * (base - rec) / base)
    assert s["energy_per_hour"]["value"] == pytest.approx(base - rec)
    assert s["money_per_year"]["value"] == pytest.approx((base - rec) * 35.0 * 100.0)


def _furnace(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """A reheating furnace: feeding faster raises throughput but also the energy per tonne (less time to soak)."""
    rng = np.random.default_rng(seed)
    feed = rng.uniform(80, 120, rows)
    temp = rng.uniform(1150, 1250, rows)
    ambient = rng.uniform(0, 30, rows)
    throughput = 0.95 * feed + rng.normal(0, 0.5, rows)
    energy = 1.0 + 0.004 * feed + 1e-5 * (temp - 1200) ** 2 - 0.002 * ambient + rng.normal(0, 0.005, rows)
    return pd.DataFrame({"feed_tph": feed, "zone_temp_c": temp, "ambient_c": ambient, "throughput_tph": throughput,
                         "gj_per_t": energy})


def test_output_demand_holds_with_an_output_model():
    frame = _furnace()
    trained = energy_models(EnergyModelParams(target="gj_per_t", features=["feed_tph", "zone_temp_c", "ambient_c"],
                                              folds=3, n_estimators=40, num_leaves=7, output="throughput_tph"),
                           _ctx(), frame)
    assert trained["report"]["output_model"]["metrics"]["r2"]["mean"] > 0.9
    params = dict(controllable=["feed_tph", "zone_temp_c"], goal="minimize", trust=1.0, report_seconds=False)
    free = energy_setpoints(EnergySetpointParams(**params), _ctx(), frame, trained["model"], None)
    held = energy_setpoints(EnergySetpointParams(**params, demand=105.0), _ctx(), frame, trained["model"],
                            trained["output_model"])
    feed = {o: {r["name"]: r["value"] for r in x["recommendations"]}["feed_tph"] for o, x in (("free", free),
                                                                                            ("held", held))}
    assert feed["free"] < 90 < 105 / 0.95 - 2 < feed["held"]  # without the demand it would just feed less
    demand = held["savings"]["demand"]
    assert demand["value"] == 105.0 and demand["source"] == "entered"
    point = pd.DataFrame([held["predicted"]["settings"]])
    assert trained["output_model"].predict(point)[0] >= 105.0 - 1e-6
    assert held["predicted"]["verification"]["ok"]
    # no demand entered: the output may not fall below what the current settings are predicted to give
    current = energy_setpoints(EnergySetpointParams(**params), _ctx(), frame, trained["model"],
                               trained["output_model"])["savings"]["demand"]
    assert current["source"].startswith("predicted") and current["value"] == pytest.approx(
        current["current_predicted"])


def test_bad_parameters_give_clear_errors(trained):
    with pytest.raises(ValidationError, match="price"):
        EnergySetpointParams(controllable=CONTROLLABLE, price=-1.0, hours=100.0)
    with pytest.raises(StudioError, match="both the energy price and the operating hours"):
        _recommend(trained, price=30.0)
    with pytest.raises(StudioError, match="needs an output model"):
        _recommend(trained, demand=500.0)
    with pytest.raises(StudioError, match="also a feature"):
        energy_models(EnergyModelParams(target="gj_per_t", features=["feed_tph", "throughput_tph"],
                                        output="throughput_tph"), _ctx(), _furnace())
