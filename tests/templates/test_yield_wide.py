"""yield_improvement 1.4.0 on a small wide pass/fail table: the headline AUC is the cross-validated average of
LightGBM and the additive model (screened inside the folds); 1.3.0 (pinned)
still runs its trees-only model; the two versions differ in the train step only."""

from __future__ import annotations

import pytest

from engine import api
from engine.sim.yield_line import make_line, recipe_for

FAST = {"n_estimators": 60, "learning_rate": 0.1, "folds": 3, "n_samples": 1000, "curves": 2, "bag": 1,
        "solver_time": 5.0, "top_k": 10}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    line = make_line(n_params=160, n_drivers=6, rows=500, missing=0.05, outcome="pass_fail", fail_rate=0.15,
                     effect=3.0, seed=5)
    home = tmp_path_factory.mktemp("wide")
    path = home / "wide.parquet"
    line.frame.to_parquet(path, index=False)
    out = {}
    for version in ("1.3.0", "1.4.0"):
        recipe = recipe_for(line, {"file": str(path)}, **FAST)
        recipe["template"] = f"yield_improvement@{version}"
        recipe["roles"] = {k: v for k, v in recipe["roles"].items() if k != "time"}
        out[version] = api.run_recipe(recipe, db=home / f"{version}.duckdb")
    return out


def test_the_new_version_reports_the_average(runs):
    new = runs["1.4.0"]
    assert new["status"] == "succeeded" and new["template"]["version"] == "1.4.0"
    metrics = new["metrics"]
    assert metrics["settings"]["rule"] == "wide pass/fail table"
    assert set(metrics["models"]) == {"lightgbm", "additive", "average"}
    assert metrics["threshold"]["chosen_by"] == "fixed at 0.5"       # the train step's, as in 1.3.0
    assert {"f1_minority", "precision_minority", "recall_minority"} <= set(metrics)
    assert metrics["auc"]["mean"] > 0.6
    assert new["recommendations"] and new["key_parameters"]


def test_the_pinned_older_version_still_runs_the_trees_alone(runs):
    old, new = runs["1.3.0"], runs["1.4.0"]
    assert old["status"] == "succeeded" and old["template"]["version"] == "1.3.0"
    assert old["metrics"]["settings"]["rule"] == "wide pass/fail table" and "models" not in old["metrics"]
    assert old["metrics"]["threshold"]["chosen_by"] == "fixed at 0.5"
    # the trees of 1.4.0 are 1.3.0's: same folds, same settings, so the same trees-only AUC
    assert new["metrics"]["models"]["lightgbm"]["mean"] == pytest.approx(old["metrics"]["auc"]["mean"], abs=1e-6)
    # everything after the train step is unchanged: the same key parameters are listed
    assert [k["name"] for k in old["key_parameters"]] == [k["name"] for k in new["key_parameters"]]
