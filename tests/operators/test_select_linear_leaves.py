"""select.key_parameters' fold stability over a model with piecewise-linear leaves (model.search@3): LightGBM has no
SHAP for them, so the split gain ranks the columns instead of failing."""

import lightgbm as lgb
import numpy as np
import pandas as pd

from engine.operators.select import _fold_shares


def _booster(linear: bool) -> tuple[lgb.Booster, pd.DataFrame]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(400, 4)), columns=["driver", "a", "b", "c"])
    y = 3 * x["driver"] + 0.1 * rng.normal(size=400)
    params = {"objective": "regression", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 20,
              "linear_tree": linear, "seed": 0}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=30), x


def test_linear_leaves_rank_by_gain_and_constant_leaves_by_shap():
    for linear in (True, False):
        booster, x = _booster(linear)
        shares = _fold_shares(booster, x)
        assert shares.shape == (4,)
        assert int(np.argmax(shares)) == 0, (linear, shares)
        assert np.all(shares >= 0)
