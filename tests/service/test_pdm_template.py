"""The predictive_maintenance template end to end on small data: RUL on a turbofan-style fleet (CV by unit, scoring the
test units' current RUL from their history), the normal-behaviour model on a small wind farm (alarms, report zh/en),
and machine failure on AI4I with the failure-mode columns flagged as leaks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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


def test_normal_behaviour_on_a_small_wind_farm_alarms_and_reports(db, tmp_path):
    from engine.sim.wind import make_wind_farm

    farm = make_wind_farm(turbines=6, days=150, faulty=3, seed=4)
    api.ingest_frame(farm.frame, "wind_small", db=db)
    recipe = api.read_recipe(REPO / "recipes" / "pdm_wind_sim.yaml")
    recipe["data"] = {"table": "wind_small"}
    recipe["params"].update({"folds": 3, "n_estimators": 40})
    result = api.run_recipe(recipe, db=db)
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
