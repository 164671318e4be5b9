"""The simulated boiler: deterministic, physically shaped, and its truth scores what it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.sim.boiler import CONTEXT, CONTROLLABLE, TARGET, make_boiler, true_efficiency


@pytest.fixture(scope="module")
def boiler():
    return make_boiler(rows=1500)


def test_deterministic_with_a_seed(boiler):
    pd.testing.assert_frame_equal(boiler.frame, make_boiler(rows=1500).frame)
    assert not make_boiler(rows=1500, seed=1).frame.equals(boiler.frame)


def test_columns_and_plausible_efficiency(boiler):
    frame = boiler.frame
    assert set(CONTROLLABLE + CONTEXT + [TARGET, "timestamp"]) <= set(frame.columns)
    assert frame[TARGET].between(80, 95).all() and frame["steam_load_pct"].between(50, 100).all()
    # the coal feed follows from the efficiency: heat to steam / (efficiency · calorific value)
    heat = frame["steam_load_pct"] / 100 * 1000 * 2.8
    np.testing.assert_allclose(frame["coal_feed_tph"], heat / (frame[TARGET] / 100) / frame["coal_cv_mj_kg"],
                               atol=0.02)


def test_too_little_and_too_much_air_both_cost_efficiency(boiler):
    point = boiler.scenario("median")
    o2 = np.linspace(1.5, 7.0, 56)
    eff = true_efficiency({**{k: np.full(len(o2), v) for k, v in point.items()}, "excess_o2_pct": o2})
    best = int(np.argmax(eff))
    assert 0 < best < len(o2) - 1 and eff[0] < eff[best] - 0.5 and eff[-1] < eff[best] - 0.5


def test_the_best_o2_moves_with_load_and_coal(boiler):
    base = boiler.scenario("median")
    low_load = boiler.best_in_envelope({**base, "steam_load_pct": 55.0})[0]["excess_o2_pct"]
    high_load = boiler.best_in_envelope({**base, "steam_load_pct": 98.0})[0]["excess_o2_pct"]
    poor_coal = boiler.best_in_envelope({**base, "coal_cv_mj_kg": 19.5})[0]["excess_o2_pct"]
    good_coal = boiler.best_in_envelope({**base, "coal_cv_mj_kg": 24.5})[0]["excess_o2_pct"]
    assert low_load > high_load + 0.2 and poor_coal > good_coal + 0.1


def test_history_runs_narrow_and_conservative(boiler):
    low, high = boiler.envelope()["excess_o2_pct"]
    assert high - low < 2.5  # a narrow window of a 1.5-7 % design range
    scenario = boiler.scenario("latest")
    best, best_eff = boiler.best_in_envelope(scenario)
    assert best_eff > boiler.efficiency(scenario) + 0.1  # something to gain inside the envelope
    assert all(lo <= best[c] <= hi for c, (lo, hi) in boiler.envelope().items())


def test_score_captured_share_and_feasibility(boiler):
    scenario = boiler.scenario("latest")
    best, _ = boiler.best_in_envelope(scenario)
    assert boiler.score(best, scenario)["captured"] == pytest.approx(1.0, abs=1e-9)
    assert boiler.score({c: scenario[c] for c in CONTROLLABLE}, scenario)["captured"] == pytest.approx(0.0, abs=1e-9)
    outside = {**best, "excess_o2_pct": boiler.envelope()["excess_o2_pct"][0] - 0.5}
    assert boiler.score(best, scenario)["feasible"] and not boiler.score(outside, scenario)["feasible"]
