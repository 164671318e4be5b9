"""A smooth model chosen by the search is kept for scoring as plain numbers and predicts the same after loading."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from engine.ml.frame import FeatureCoder
from engine.ml.smooth import SmoothModel, fit_smooth


def test_smooth_model_round_trips_through_json():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 300), "b": rng.uniform(5, 9, 300),
                      "k": pd.Categorical(rng.choice(["x", "y"], 300))})
    y = 3 * x["a"] ** 2 - x["a"] * x["b"] + (x["k"] == "y") * 0.5 + rng.normal(0, 0.01, 300)
    coder = FeatureCoder.fit(x, ["a", "b", "k"])
    model = fit_smooth(coder.transform(x), y.to_numpy(), "regression", 2, 1e-4)
    loaded = SmoothModel.from_dict(json.loads(json.dumps(model.to_dict())))
    new = x.sample(50, random_state=0)
    assert np.allclose(loaded.predict(coder.transform(new)), model.predict(coder.transform(new)))
    assert loaded.degree == 2 and loaded.task == "regression"
