"""The predictive_maintenance template end to end on small data: RUL on a turbofan-style fleet (CV by unit, scoring the
test units' current RUL from their history), the normal-behaviour model on a small wind farm (alarms, report zh/en),
and machine failure on AI4I with the failure-mode columns flagged as leaks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import REPO, run_cli

from engine import api

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pdm")


@pytest.fixture(scope="module")
def db(home) -> Path:
    return home / "studio.duckdb"


@pytest.fixture(scope="module")
def fleet(db):
    from engine.sim.turbofan import make_turbofan

    fleet = make_turbofan(units=24, test_units=10, seed=3)
    api.ingest_frame(fleet.train, "tf_train", db=db)
    api.ingest_frame(fleet.test, "tf_test", db=db)
    return fleet


@pytest.fixture(scope="module")
def rul_run(db, fleet):
    recipe = api.read_recipe(REPO / "recipes" / "pdm_turbofan_sim.yaml")
    recipe["data"] = {"table": "tf_train"}
    recipe["params"].update({"folds": 3, "n_estimators": 60, "window": 10})
    return api.run_recipe(recipe, db=db)


def test_rul_is_cross_validated_by_unit_with_rmse_mae_and_nasa(rul_run):
    m = rul_run["metrics"]
    assert m["pdm_task"] == "rul" and m["cv"] == "group" and m["folds"] == 3 and m["rul_cap"] == 125
    assert {"rmse", "mae", "nasa_score"} <= set(m) and 0 < m["rmse"]["mean"] < 40
    pdm = rul_run["outputs"]["pdm"]["pdm"]
    assert pdm["curves"] and pdm["curves"][0]["low"] and pdm["sensors"][0]["sensor"].startswith("s")
    assert len(pdm["ranking"]) == 24 and rul_run["scoring"]["available"]
    assert "s2__mean10" in rul_run["outputs"]["windows"]["created"]


def test_scoring_builds_the_same_windows_from_each_units_history(db, fleet, rul_run):
    latest = api.score(rul_run["run_id"], table="tf_test", latest=True, db=db).frame
    assert list(latest.columns[:2]) == ["unit", "cycle"] and len(latest) == 10
    last_cycles = fleet.test.groupby("unit")["cycle"].max()
    assert (latest.set_index("unit")["cycle"] == last_cycles).all()
    truth = fleet.test_rul.set_index("unit").loc[latest["unit"], "rul"].clip(upper=125).to_numpy()
    assert np.sqrt(np.mean((latest["prediction"].clip(0, 125) - truth) ** 2)) < 45
    every = api.score(rul_run["run_id"], fleet.test, db=db).frame  # every row, from a frame: same windows
    again = every.groupby("unit").tail(1).set_index("unit")["prediction"]
    assert np.allclose(again.loc[latest["unit"]].to_numpy(), latest["prediction"].to_numpy())
    short = fleet.test.drop(columns=["s11"])
    with pytest.raises(Exception, match="s11"):
        api.score(rul_run["run_id"], short, db=db)


@pytest.fixture(scope="module")
def wind(db):
    from engine.sim.wind import make_wind_farm

    farm = make_wind_farm(turbines=6, days=150, faulty=3, seed=4)
    api.ingest_frame(farm.frame, "wind_small", db=db)
    recipe = api.read_recipe(REPO / "recipes" / "pdm_wind_sim.yaml")
    recipe["data"] = {"table": "wind_small"}
    recipe["params"].update({"folds": 3, "n_estimators": 40})
    return farm, api.run_recipe(recipe, db=db)


def test_normal_behaviour_on_a_small_wind_farm_alarms_and_reports(db, wind, tmp_path):
    farm, result = wind
    alarms = result["metrics"]["alarms"]
    assert result["metrics"]["pdm_task"] == "normal" and alarms["failures"] == 3
    assert alarms["caught"] >= 2 and alarms["mean_lead_hours"] > 24
    assert "each fold's threshold" in alarms["chosen_by"]
    for lang, word in (("en", "Equipment health"), ("zh", "设备健康")):
        html = api.write_report(result["run_id"], tmp_path / f"r-{lang}.html", lang=lang, db=db).read_text("utf-8")
        assert word in html and ("Alarm timeline" if lang == "en" else "报警时间线") in html


def test_ai4i_failure_modes_are_flagged_as_leaks_and_left_out(db, tmp_path):
    api.ensure_demo(db)
    out = tmp_path / "ai4i"
    proc = run_cli("run", "recipes/pdm_ai4i.yaml", "--set", "n_estimators=80", "--set", "folds=3", "--out", str(out),
                   "--quiet", env={"AI_STUDIO_HOME": str(db.parent)})
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    flagged = {f["name"]: f["reason"] for f in result["outputs"]["leakage"]["flagged"]}
    assert flagged == {c: "fires only with the target" for c in ("TWF", "HDF", "PWF", "OSF")}
    assert not {"TWF", "HDF", "PWF", "OSF"} & set(result["outputs"]["pdm"]["features_used"])
    assert result["metrics"]["auc"]["mean"] > 0.95 and result["metrics"]["f1"]["mean"] > 0.7


def test_scoring_a_normal_behaviour_run_gives_residuals_alarms_and_each_units_state(db, wind):
    """The saved normal-behaviour model scores new rows with every watched temperature's expected value and residual,
    the alarm score, the alarm at the run's threshold and the unit's state; --latest gives each unit's current state."""
    farm, result = wind
    res = api.score(result["run_id"], table="wind_small", db=db)
    out = res.frame
    watch = ["gearbox_bearing_temp_c", "generator_winding_temp_c"]
    assert res.model["task"] == "normal_behaviour" and res.model["watch"] == watch and res.rows == len(farm.frame)
    for col in watch:
        assert {f"expected_{col}", f"residual_{col}"} <= set(out.columns)
    threshold = res.model["threshold"]
    assert (out["alarm"] == (out["alarm_score"] >= threshold)).all()
    assert set(out["state"]) <= {"alarm", "normal", "warming_up"}
    # the expected temperature follows the actual one on healthy rows (a model of it, not a constant)
    merged = out.merge(farm.frame, on=["turbine", "timestamp"])
    assert np.corrcoef(merged["expected_gearbox_bearing_temp_c"], merged["gearbox_bearing_temp_c"])[0, 1] > 0.9
    # alarms come before the failures: at least 2 of the 3 faulty turbines alarm in the 21 days before theirs
    warned = 0
    for f in farm.faults.itertuples():
        mine = merged[(merged["turbine"] == f.turbine) & (merged["timestamp"] < f.failure)
                      & (merged["timestamp"] >= f.failure - pd.Timedelta(days=21))]
        warned += bool(mine["alarm"].any())
    assert warned >= 2
    now = api.score(result["run_id"], table="wind_small", latest=True, db=db).frame
    assert sorted(now["turbine"]) == sorted(farm.frame["turbine"].unique()) and now["turbine"].is_unique
    last = merged.sort_values("timestamp").groupby("turbine").tail(1).set_index("turbine")
    assert np.allclose(now.set_index("turbine").loc[last.index, "alarm_score"], last["alarm_score"])
