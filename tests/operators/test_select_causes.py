"""Key parameters v2: a downstream copy listed as controllable gives way to its driver; force overrules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.operators.model import LightGBMParams, lightgbm_cv
from engine.operators.select import _RankCorr
from engine.operators.select_causes import KeyCausesParams, _attenuation, _verdict, key_causes


def _line(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    temp = rng.normal(850, 10, rows)
    speed = rng.normal(2.0, 0.3, rows)
    other = rng.normal(0, 1, rows)
    y = -0.05 * (temp - 845) ** 2 + 3 * speed + 0.5 * other + rng.normal(0, 0.5, rows)
    temp_pv = temp + rng.normal(0, 3.0, rows)                     # the measured value behind the setpoint
    return pd.DataFrame({"temp": temp, "temp_pv": temp_pv, "speed": speed, "other": other, "y": y})


def _select(frame, keep=()):
    features = ["temp_pv", "temp", "speed", "other"]
    trained = lightgbm_cv(LightGBMParams(target="y", features=features, folds=3, n_estimators=80, top_k=10),
                          StepContext("t", "train", 0), frame)
    params = KeyCausesParams(target="y", features=features, controllable=["temp_pv", "temp", "speed"], top_k=2,
                             keep=list(keep))
    return key_causes(params, StepContext("t", "select", 0), frame, trained["importance"], trained["model"])


def test_a_copy_listed_as_controllable_gives_way_to_its_driver():
    out = _select(_line())
    judged = [c for c in out["copies"] if c["judged_copy"]]
    assert [(c["copy"], c["of"]) for c in judged] == [("temp_pv", "temp")]
    assert judged[0]["p_driver_adds"] < 0.01 < 0.05 < judged[0]["p_copy_adds"]
    names = [k["name"] for k in out["key_parameters"]]
    assert names == ["temp", "speed"]                            # the copy took no slot of the top 2
    assert "temp_pv" not in out["frame"].columns                 # so it gets no recommended value
    assert "temp_pv" in out["key_parameters"][0]["group"]


def test_force_overrules_the_judgement():
    out = _select(_line(), keep=["temp_pv"])
    pair = next(c for c in out["copies"] if c["copy"] == "temp_pv")
    assert not pair["judged_copy"] and pair["overruled_by_force"]
    assert "temp_pv" in out["frame"].columns


def test_two_real_settings_that_moved_together_are_not_copies():
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 1, 600)
    a = shared + rng.normal(0, 0.3, 600)
    b = shared + rng.normal(0, 0.3, 600)
    frame = pd.DataFrame({"temp": a, "temp_pv": b, "speed": rng.normal(0, 1, 600), "other": rng.normal(0, 1, 600)})
    frame["y"] = 2 * frame["temp"] + 2 * frame["temp_pv"] + frame["speed"] + rng.normal(0, 0.3, 600)
    out = _select(frame)
    assert not any(c["judged_copy"] for c in out["copies"])


def test_a_copy_too_close_for_the_outcome_is_told_by_the_other_columns():
    """temp_pv = temp + tiny noise: the outcome cannot tell them apart, the setting's other readings can."""
    rng = np.random.default_rng(12)
    frame = _line(seed=2)
    frame["temp_pv"] = frame["temp"] + rng.normal(0, 0.3, len(frame))       # r ≈ 0.9995 with the setting
    for k in range(3):                                                       # other readings of the same setting
        frame[f"zone_{k}"] = 0.5 * frame["temp"] + rng.normal(0, 0.5, len(frame))
    features = ["temp_pv", "temp", "speed", "other", "zone_0", "zone_1", "zone_2"]
    trained = lightgbm_cv(LightGBMParams(target="y", features=features, folds=3, n_estimators=80, top_k=10),
                          StepContext("t", "train", 0), frame)
    params = KeyCausesParams(target="y", features=features, controllable=["temp_pv", "temp", "speed"], top_k=2)
    out = key_causes(params, StepContext("t", "select", 0), frame, trained["importance"], trained["model"])
    pair = next(c for c in out["copies"] if {c["copy"], c["of"]} == {"temp", "temp_pv"})
    assert (pair["copy"], pair["of"], pair["judged_copy"]) == ("temp_pv", "temp", True), pair
    assert pair["others_correlated"] >= 2 and pair["driver_stronger_share"] >= 0.8
    assert [k["name"] for k in out["key_parameters"]][0] == "temp"


def test_the_other_columns_side_with_the_setting_when_the_outcome_cannot_tell():
    rng = np.random.default_rng(5)
    temp = rng.normal(850, 10, 800)
    frame = pd.DataFrame({"temp": temp, "temp_pv": temp + rng.normal(0, 0.3, 800),
                          **{f"zone_{k}": 0.5 * temp + rng.normal(0, 0.5, 800) for k in range(3)},
                          "noise": rng.normal(0, 1, 800)})
    corr = _RankCorr(frame, list(frame.columns), 5000, rng)
    others, temp_side = _attenuation(frame, corr, "temp", "temp_pv")
    assert others == 3 and temp_side == 1.0
    assert _attenuation(frame, corr, "temp_pv", "temp") == (3, 0.0)
    verdict = _verdict("temp", "temp_pv", 0.3, 0.4, 1.0, 0.9, others, temp_side)   # outcome: inconclusive
    assert (verdict["copy"], verdict["of"], verdict["clear"]) == ("temp_pv", "temp", True)
    assert "take sides" in verdict["judged_by"]
    assert not _verdict("temp", "temp_pv", 0.005, 0.003, 5.0, 6.0, others, temp_side)["clear"]  # both add: no
