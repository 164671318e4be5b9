"""The merged bag predicts exactly the average of its models, for every use the studio makes of a booster."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from engine.ml.bagging import merge_boosters
from engine.optim import Domain, Problem, solve


def _data(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(400, 3)), columns=["temp", "speed", "humidity"])
    x["shift"] = pd.Categorical(rng.choice(["A", "B", "C"], 400))
    return x


def _bag(x: pd.DataFrame, y: np.ndarray, objective: str, k: int = 3) -> list[lgb.Booster]:
    params = {"objective": objective, "num_leaves": 7, "subsample": 0.7, "subsample_freq": 1, "verbose": -1}
    return [lgb.train({**params, "seed": s}, lgb.Dataset(x, y), 25) for s in range(k)]


@pytest.mark.parametrize("objective", ["regression", "binary"])
def test_merged_bag_is_the_average_of_its_models(objective):
    x = _data()
    signal = x["temp"] - 0.5 * x["speed"] ** 2 + (x["shift"] == "B") * 0.8
    y = (signal > 0).astype(int).to_numpy() if objective == "binary" else signal.to_numpy()
    bag = _bag(x, y, objective)
    merged = merge_boosters(bag)
    raw = np.mean([b.predict(x, raw_score=True) for b in bag], axis=0)
    assert merged.num_trees() == sum(b.num_trees() for b in bag)
    assert np.allclose(merged.predict(x, raw_score=True), raw, rtol=0, atol=1e-12)
    expected = raw if objective == "regression" else 1 / (1 + np.exp(-raw))
    assert np.allclose(merged.predict(x), expected, atol=1e-12)
    contrib = merged.predict(x, pred_contrib=True)           # SHAP of the average = average of the SHAPs
    assert np.allclose(contrib.sum(axis=1), raw, atol=1e-9)
    assert np.allclose(contrib, np.mean([b.predict(x, pred_contrib=True) for b in bag], axis=0), atol=1e-9)
    assert merged.feature_name() == bag[0].feature_name()


def test_one_model_is_returned_as_is_and_the_milp_optimises_the_average():
    x = _data(1)[["temp", "speed"]]
    y = (-(x["temp"] - 0.3) ** 2 - (x["speed"] + 0.2) ** 2).to_numpy()
    bag = _bag(x, y, "regression")
    assert merge_boosters(bag[:1]) is bag[0]
    merged = merge_boosters(bag)
    decision = {"temp": Domain(-1.0, 1.0), "speed": Domain(-1.0, 1.0)}
    solution = solve(Problem([(1.0, merged)], decision, time_limit=20.0))
    point = pd.DataFrame([solution.values])[["temp", "speed"]]
    assert solution.verification["ok"]
    assert solution.predicted == pytest.approx(float(np.mean([b.predict(point)[0] for b in bag])), abs=1e-9)
    grid = np.linspace(-1.0, 1.0, 41)
    candidates = pd.DataFrame([(a, b) for a in grid for b in grid], columns=["temp", "speed"])
    assert solution.predicted >= merged.predict(candidates).max() - 1e-9        # no grid point beats it
