"""Model search: default LightGBM always a row, the pick never worse than it on the search's folds, nested figures,
the deadline, and the smooth model (values and gradients)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.ml.frame import FeatureCoder
from engine.ml.smooth import fit_smooth
from engine.operators.model_search import ModelSearchParams, search
from engine.sim.tiny import tiny_plant

FEATURES = ["temp", "speed", "humidity", "shift"]


def _search(frame, **kw):
    params = ModelSearchParams(target="yield", features=FEATURES, folds=3, **kw)
    return search(params, StepContext("t", "search", 0), frame)


def test_default_lightgbm_is_always_a_row_and_the_pick_is_never_worse_than_it():
    out = _search(tiny_plant(160), time_budget=60.0, candidates=["smooth"])  # ends when both ran
    board = out["leaderboard"]
    rows = {r["model"]: r for r in board["rows"]}
    assert "lightgbm_default" in rows and rows["lightgbm_default"]["mean"] is not None
    chosen = rows[board["chosen"]]
    assert chosen["selection_score"] >= rows["lightgbm_default"]["selection_score"]
    # tiny_plant is quadratic in temp: the smooth model must win there, on the nested figure too
    assert board["chosen"] == "smooth"
    assert out["metrics"]["nested"] and out["metrics"]["model"] == "smooth"
    assert out["metrics"]["r2"]["mean"] > rows["lightgbm_default"]["mean"]
    assert len(out["metrics"]["r2"]["folds"]) == 3
    assert {k["name"] for k in out["importance"][:2]} == {"temp", "speed"}


def test_the_deadline_stops_the_search_and_says_what_it_skipped():
    started = time.perf_counter()
    out = _search(tiny_plant(120), time_budget=0.2)
    assert time.perf_counter() - started < 15
    board = out["leaderboard"]
    rows = [r["model"] for r in board["rows"]]
    skipped = {s["family"] for s in board["skipped"]}
    assert rows[0] == "lightgbm_default"  # always a row, whatever the budget
    assert "lightgbm_tuned" in skipped  # tuning cannot fit 0.2 s; the quick smooth fit may, on a fast machine
    assert set(rows) | skipped == {"lightgbm_default", "lightgbm_tuned", "smooth"}  # each row run or said skipped
    assert board["chosen"] in rows


def test_time_ordered_folds_stay_time_ordered():
    frame = tiny_plant(150).assign(t=np.arange(150))
    out = search(ModelSearchParams(target="yield", features=FEATURES, folds=3, time="t", time_budget=1.0),
                 StepContext("t", "search", 0), frame)
    assert out["metrics"]["cv"] == "time-ordered" and out["leaderboard"]["cv"] == "time-ordered"


def test_smooth_model_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 200), "b": rng.uniform(5, 9, 200)})
    y = 3 * x["a"] ** 2 - x["a"] * x["b"] + rng.normal(0, 0.01, 200)
    model = fit_smooth(FeatureCoder.fit(x, ["a", "b"]).transform(x), y.to_numpy(), "regression", 2, 1e-4)
    row = np.array([0.3, 7.0])
    eps = 1e-6
    numeric = [(model.predict(row + eps * np.eye(2)[j])[0] - model.predict(row - eps * np.eye(2)[j])[0]) / (2 * eps)
               for j in range(2)]
    assert np.allclose(model.gradient(row), numeric, rtol=1e-4, atol=1e-6)
    assert abs(model.predict(row)[0] - (3 * 0.09 - 2.1)) < 0.05


def test_version_2_uses_5_inner_folds_on_small_tables_and_version_1_keeps_3():
    from engine.operators.model_search import search_v1

    params = ModelSearchParams(target="yield", features=FEATURES, folds=3, time_budget=2.0,
                               candidates=["lightgbm_tuned"])
    new = search(params, StepContext("t", "search", 0), tiny_plant(150))["leaderboard"]
    old = search_v1(params, StepContext("t", "search", 0), tiny_plant(150))["leaderboard"]
    assert (new["inner_folds"], old["inner_folds"]) == (5, 3)
    tuned_old = [r for r in old["rows"] if r["model"] == "lightgbm_tuned"]
    assert all("averaged" not in r["settings"] for r in tuned_old)      # version 1: one setting, no blend
