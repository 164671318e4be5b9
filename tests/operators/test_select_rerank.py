"""Key parameters v4: the boundary of the list decided by partial F-tests; copies still judged; v3 unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.operators.model import LightGBMParams, lightgbm_cv
from engine.operators.select_causes import KeyCausesParams, key_causes
from engine.operators.select_rerank import KeyRerankParams, _scaled_target, key_causes_v4, partial_tests, rerank
from engine.pipeline.context import StepContext


def _proxy_line(rows: int = 800, seed: int = 0) -> pd.DataFrame:
    """Two strong drivers, one weak one, a sensor that only tracks the first driver, and noise columns."""
    rng = np.random.default_rng(seed)
    a, b, weak = rng.normal(0, 1, rows), rng.normal(0, 1, rows), rng.normal(0, 1, rows)
    frame = pd.DataFrame({"a": a, "b": b, "weak": weak, "proxy": 0.6 * a + rng.normal(0, 0.8, rows),
                          **{f"n{k}": rng.normal(0, 1, rows) for k in range(4)}})
    frame["y"] = -1.0 * a ** 2 + 1.2 * b + 0.25 * weak + rng.normal(0, 0.5, rows)
    return frame


def _group(name: str, importance: float) -> dict:
    return {"leader": name, "representative": name, "members": [name], "corr": {name: 1.0}, "importance": importance}


def test_a_weak_driver_moves_ahead_of_a_proxy_that_adds_nothing():
    frame = _proxy_line()
    groups = [_group("a", 0.4), _group("b", 0.3), _group("proxy", 0.1), _group("n0", 0.05), _group("weak", 0.04),
              _group("n1", 0.03)]                                      # the screening's order: the proxy first
    params = KeyRerankParams(target="y", features=list(frame.columns[:-1]), top_k=3, protect=0.5, shortlist=6)
    order = [g["representative"] for g in rerank(params, frame, groups, 0)]
    assert order[:2] == ["a", "b"]                                     # protected: the screening's strongest
    assert order[2] == "weak" and order.index("proxy") > order.index("weak")
    weak = next(g for g in groups if g["representative"] == "weak")["evidence"]
    proxy = next(g for g in groups if g["representative"] == "proxy")["evidence"]
    assert weak["adds_given_others"] and weak["log10_p"] < -3
    assert not proxy["adds_given_others"] and proxy["log10_p"] > -3
    assert next(g for g in groups if g["representative"] == "a")["evidence"]["ranked_by"] == "screening importance"


def test_partial_tests_see_a_curved_effect_and_handle_categories_and_gaps():
    frame = _proxy_line(seed=1)
    frame["shift"] = np.where(np.arange(len(frame)) % 2 == 0, "day", "night")
    frame.loc[frame.index[::7], "weak"] = np.nan                        # 14 % missing: a missing flag joins
    tests = partial_tests(frame, ["a", "b", "weak", "proxy", "shift"], frame["y"].to_numpy(float), 0)
    assert tests["a"][1] < -50                                          # a pure square: linear terms alone miss it
    assert tests["weak"][1] < -3 and tests["proxy"][1] > -3 and tests["shift"][1] > -3


def test_a_rate_is_tested_on_the_log_odds_and_pass_fail_as_it_is():
    rate = pd.Series([0.5, 0.8, 0.9, 1.0, 0.0, 0.7])
    z = _scaled_target(rate, "auto")
    assert np.isfinite(z).all() and z[0] == 0.0 and np.isclose(z[1], np.log(4))
    assert np.isclose(z[3], np.log(0.95 / 0.05)) and np.isclose(z[4], -z[3])      # half-way to the nearest rate
    assert np.allclose(_scaled_target(rate, "identity"), rate)
    passed = pd.Series([1, 0, 1, 1, 0, 1])
    assert np.allclose(_scaled_target(passed, "auto"), passed)


def _copies_line(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    temp, speed, other = rng.normal(850, 10, rows), rng.normal(2.0, 0.3, rows), rng.normal(0, 1, rows)
    y = -0.05 * (temp - 845) ** 2 + 3 * speed + 0.5 * other + rng.normal(0, 0.5, rows)
    return pd.DataFrame({"temp": temp, "temp_pv": temp + rng.normal(0, 3.0, rows), "speed": speed, "other": other,
                         "y": y})


def _trained(frame, features):
    return lightgbm_cv(LightGBMParams(target="y", features=features, folds=3, n_estimators=80, top_k=10),
                       StepContext("t", "train", 0), frame)


def test_version_4_still_judges_copies_and_version_3_is_unchanged():
    frame = _copies_line()
    features = ["temp_pv", "temp", "speed", "other"]
    trained = _trained(frame, features)
    common = dict(target="y", features=features, controllable=["temp_pv", "temp", "speed"], top_k=2)
    v4 = key_causes_v4(KeyRerankParams(**common), StepContext("t", "select", 0), frame, trained["importance"],
                       trained["model"])
    judged = [(c["copy"], c["of"]) for c in v4["copies"] if c["judged_copy"]]
    assert judged == [("temp_pv", "temp")]
    assert [k["name"] for k in v4["key_parameters"]] == ["temp", "speed"]
    assert "temp_pv" not in v4["frame"].columns and all("evidence" in k for k in v4["key_parameters"])
    v3 = key_causes(KeyCausesParams(**common), StepContext("t", "select", 0), frame, trained["importance"],
                    trained["model"])
    assert [k["name"] for k in v3["key_parameters"]] == ["temp", "speed"]
    assert all("evidence" not in k for k in v3["key_parameters"])


def test_a_copy_of_a_driver_ranked_far_down_is_still_paired():
    """The reading takes the credit of a weak driver, which ranks beyond the candidates: v4 pairs them anyway."""
    frame = _copies_line(seed=3)
    rng = np.random.default_rng(4)
    for k in range(8):                                                  # settings ranked ahead of the weak one
        frame[f"sp{k}"] = rng.normal(0, 1, len(frame))
        frame["y"] += 0.8 * frame[f"sp{k}"]
    features = ["temp_pv", "temp", "speed", "other"] + [f"sp{k}" for k in range(8)]
    importance = [{"name": c, "importance": w} for c, w in
                  [("speed", 0.3)] + [(f"sp{k}", 0.05) for k in range(7)] + [("temp_pv", 0.03), ("sp7", 0.02),
                                                                             ("other", 0.01), ("temp", 0.001)]]
    trained = _trained(frame, features)
    params = KeyRerankParams(target="y", features=features, controllable=features[:3] + features[4:], top_k=3,
                             shortlist=3)              # candidates: the top 9 columns (temp_pv is 9th, temp 12th)
    out = key_causes_v4(params, StepContext("t", "select", 0), frame, importance, trained["model"])
    pair = next(c for c in out["copies"] if {c["copy"], c["of"]} == {"temp", "temp_pv"})
    assert (pair["copy"], pair["of"]) == ("temp_pv", "temp")
    v3 = key_causes(KeyCausesParams(**{k: v for k, v in params.model_dump().items()
                                       if k in KeyCausesParams.model_fields}),
                    StepContext("t", "select", 0), frame, importance, trained["model"])
    assert not any({c["copy"], c["of"]} == {"temp", "temp_pv"} for c in v3["copies"])
