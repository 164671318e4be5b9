"""Key-parameter selection (near-duplicate grouping) and parameter curves, on frames with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.pipeline import registry
from engine.pipeline.context import StepContext
from engine.operators.model import LightGBMParams, lightgbm_cv


def _run(op_id: str, params: dict, **inputs) -> dict:
    spec = registry.get(op_id)
    return spec.fn(spec.params_model.model_validate(params), StepContext("test", op_id, 0), **inputs)


@pytest.fixture(scope="module")
def plant():
    """y depends on `temp` (a peak) and `speed`; `temp_pv` and `temp_tc2` copy temp, `noise_*` do nothing."""
    rng = np.random.default_rng(0)
    n = 600
    temp = rng.normal(850, 10, n)
    speed = rng.uniform(1, 3, n)
    frame = pd.DataFrame({"t": np.arange(n), "temp": temp, "speed": speed,
                          "temp_pv": 1.8 * temp + 32 + rng.normal(0, 1.5, n),
                          "temp_tc2": -temp + rng.normal(0, 1.0, n),
                          **{f"noise_{k}": rng.normal(0, 1, n) for k in range(6)}})
    frame["y"] = 90 - 0.02 * (temp - 852) ** 2 + 2 * speed + rng.normal(0, 0.3, n)
    features = [c for c in frame.columns if c not in ("t", "y")]
    trained = lightgbm_cv(LightGBMParams(target="y", features=features, folds=3, n_estimators=80, top_k=100),
                          StepContext("test", "train", 0), frame)
    return frame, features, trained


def test_copies_are_grouped_under_the_controllable(plant):
    frame, features, trained = plant
    out = _run("select.key_parameters", {"target": "y", "features": features, "controllable": ["temp", "speed"],
                                         "time": "t", "top_k": 3},
               frame=frame, importance=trained["importance"], model=trained["model"])
    keys = out["key_parameters"]
    assert [k["name"] for k in keys[:2]] == ["temp", "speed"]
    temp = keys[0]
    assert set(temp["group"]) == {"temp_pv", "temp_tc2"} and temp["group_size"] == 3
    share = {k["name"]: k["importance"] for k in trained["importance"]}
    assert temp["importance"] == pytest.approx(share["temp"] + share["temp_pv"] + share["temp_tc2"], abs=1e-5)
    assert all(0.0 <= k["stability"] <= 1.0 for k in keys) and keys[0]["stability"] == 1.0
    assert set(out["frame"].columns) == {"t", "y", *[k["name"] for k in keys]}   # time carried, copies left out
    group = out["groups"][0]
    assert group["representative"] == "temp" and {m["name"] for m in group["members"]} == {"temp", "temp_pv", "temp_tc2"}
    tc2 = next(m for m in group["members"] if m["name"] == "temp_tc2")
    assert tc2["corr"] < -0.9                     # anti-correlated copies are copies too
    json.dumps(out["key_parameters"], allow_nan=False)
    json.dumps(out["groups"], allow_nan=False)


def test_forced_and_pinned_columns_are_always_selected(plant):
    frame, features, trained = plant
    out = _run("select.key_parameters", {"target": "y", "features": features, "keep": ["noise_3"],
                                         "pin": {"noise_4": 0.0}, "top_k": 1},
               frame=frame, importance=trained["importance"], model=trained["model"])
    names = [k["name"] for k in out["key_parameters"]]
    assert {"noise_3", "noise_4"} <= set(names) and len(names) == 3
    assert {"noise_3", "noise_4", "y"} <= set(out["frame"].columns)


def test_without_a_controllable_the_most_important_copy_represents(plant):
    frame, features, trained = plant
    out = _run("select.key_parameters", {"target": "y", "features": features, "top_k": 2, "threshold": 0.95},
               frame=frame, importance=trained["importance"], model=trained["model"])
    first = out["key_parameters"][0]
    members = [first["name"], *first["group"]]
    share = {k["name"]: k["importance"] for k in trained["importance"]}
    assert first["name"] == max(members, key=lambda c: share.get(c, 0.0))


def test_curves_find_the_peak_and_carry_the_density(plant):
    frame, features, trained = plant
    refit = lightgbm_cv(LightGBMParams(target="y", features=["temp", "speed"], folds=3, n_estimators=80),
                        StepContext("test", "refit", 0), frame)
    keys = [{"name": "temp"}, {"name": "speed"}, {"name": "not_in_model"}]
    out = _run("explain.curves", {"grid_points": 21, "ice_rows": 100, "ice_lines": 5},
               frame=frame, model=refit["model"], key_parameters=keys)["curves"]
    assert [c["name"] for c in out] == ["temp", "speed"]
    temp, speed = out
    assert abs(temp["best_value"] - 852) < 8                   # the peak of the true curve
    assert speed["pd"][-1] > speed["pd"][0]                    # rising with speed
    assert len(temp["grid"]) == len(temp["pd"]) == len(temp["ice_low"]) == len(temp["data_share_at_grid"]) == 21
    assert all(lo <= p <= hi + 1e-9 for lo, p, hi in zip(temp["ice_low"], temp["pd"], temp["ice_high"]))
    assert len(temp["ice"]) == 5
    hist = temp["histogram"]
    assert sum(hist["counts"]) + hist["below"] + hist["above"] == frame["temp"].notna().sum()
    assert temp["interaction_share"] < 0.2                     # additive truth: ICE curves are parallel
    json.dumps(out, allow_nan=False)


def test_curves_on_a_category(plant):
    frame, _, _ = plant
    frame = frame.assign(shift=np.where(frame["t"] % 2 == 0, "A", "B"))
    frame["y"] = frame["y"] + np.where(frame["shift"] == "B", 3.0, 0.0)
    refit = lightgbm_cv(LightGBMParams(target="y", features=["temp", "shift"], folds=3, n_estimators=60),
                        StepContext("test", "refit", 0), frame)
    out = _run("explain.curves", {"columns": ["shift"]}, frame=frame, model=refit["model"], key_parameters=[])
    shift = out["curves"][0]
    assert shift["kind"] == "category" and shift["grid"] == ["A", "B"] and shift["best_value"] == "B"
    assert shift["histogram"]["counts"] == [300, 300]


def test_two_setpoints_that_moved_together_stay_two_decisions():
    rng = np.random.default_rng(1)
    n = 500
    speed = rng.normal(1500, 100, n)
    torque = 100 - 0.04 * speed + rng.normal(0, 0.5, n)        # run together in the past (|r| > 0.9)
    frame = pd.DataFrame({"speed": speed, "torque": torque, "torque_pv": torque + rng.normal(0, 0.1, n)})
    frame["y"] = -((torque - 40) ** 2) + 0.01 * speed + rng.normal(0, 0.5, n)
    features = ["speed", "torque", "torque_pv"]
    trained = lightgbm_cv(LightGBMParams(target="y", features=features, folds=3, n_estimators=60),
                          StepContext("test", "train", 0), frame)
    out = _run("select.key_parameters", {"target": "y", "features": features, "controllable": ["speed", "torque"]},
               frame=frame, importance=trained["importance"], model=trained["model"])
    groups = [[k["name"], *k["group"]] for k in out["key_parameters"]]
    assert all(len({"speed", "torque"} & set(g)) <= 1 for g in groups)
    assert {"speed", "torque"} <= {k["name"] for k in out["key_parameters"]}
