"""Scoring new data with a run's saved model: every model-training template, the output columns, bad input (exit 2,
nothing written), the out-of-range flag, chunking, and a model folder of another format version."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import REPO, run_cli

from engine import api
from engine.core.errors import InvalidInput

FAST = ["folds=3", "n_estimators=40"]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("scoring")
    api.ensure_demo(home / "studio.duckdb")
    return home


@pytest.fixture(scope="module")
def db(home) -> Path:
    return home / "studio.duckdb"


def _run(db, recipe, overrides=()):
    return api.run_recipe(recipe, db=db, overrides=list(overrides))


@pytest.fixture(scope="module")
def concrete_run(db):
    return _run(db, REPO / "recipes" / "concrete_strength.yaml", [*FAST, "n_samples=200"])


@pytest.fixture(scope="module")
def ai4i_run(db):
    recipe = {"template": "quick_model", "name": "ai4i failures", "data": {"table": "ai4i2020"},
              "roles": {"target": "machine_failure", "controllable": ["rotational_speed_rpm", "torque_nm"],
                        "context": ["air_temp_k", "process_temp_k", "tool_wear_min", "type"],
                        "ignore": ["udi", "product_id", "TWF", "HDF", "PWF", "OSF", "RNF"]},
              "params": {"goal": "minimize", "folds": 3, "n_estimators": 40, "n_samples": 200}}
    return _run(db, recipe)


def _concrete(n=None) -> pd.DataFrame:
    frame = pd.read_csv(REPO / "data" / "demo" / "concrete.csv")
    return frame if n is None else frame.head(n)


def test_regression_predictions_with_interval_and_kept_columns(db, concrete_run):
    assert concrete_run["scoring"] == {"available": True, "kind": "lightgbm", "format_version": 1,
                                       "path": "model/model.json"}
    manifest = json.loads((Path(concrete_run["run_dir"]) / "model" / "model.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "ai-studio-model" and manifest["kind"] == "lightgbm"
    frame = _concrete()
    res = api.score(concrete_run["run_id"], frame, keep=["age_days"], db=db)
    out = res.frame
    assert list(out.columns) == ["age_days", "prediction", "prediction_low", "prediction_high", "out_of_range"]
    assert len(out) == len(frame) == res.rows
    assert (out["prediction_low"] < out["prediction"]).all() and (out["prediction"] < out["prediction_high"]).all()
    r2 = 1 - ((frame["strength_mpa"] - out["prediction"]) ** 2).sum() / ((frame["strength_mpa"] - frame[
        "strength_mpa"].mean()) ** 2).sum()
    assert r2 > 0.85  # the final model on its own training rows
    assert not out["out_of_range"].any()  # the training rows are inside the training range


def test_chunked_scoring_gives_the_same_predictions(db, concrete_run):
    frame = _concrete()
    whole = api.score(concrete_run["run_id"], frame, db=db).frame
    chunked = api.score(concrete_run["run_id"], frame, db=db, chunk_rows=97).frame
    pd.testing.assert_frame_equal(whole, chunked)


def test_out_of_range_rows_are_flagged_not_dropped(db, concrete_run):
    frame = _concrete(5).copy()
    frame.loc[2, "cement"] = 5000.0
    res = api.score(concrete_run["run_id"], frame, db=db)
    assert res.frame["out_of_range"].tolist() == [False, False, True, False, False]
    assert res.out_of_range == 1 and res.out_of_range_columns == {"cement": 1}
    assert res.frame["prediction"].notna().all()


def test_classification_probability_and_prediction_at_the_runs_threshold(db, ai4i_run):
    frame = pd.read_csv(REPO / "data" / "demo" / "ai4i2020.csv")
    res = api.score(ai4i_run["run_id"], frame, keep=["udi"], db=db)
    out = res.frame
    assert list(out.columns) == ["udi", "probability", "prediction", "out_of_range"]
    cut = res.model["threshold"]
    assert ((out["probability"] >= cut).astype(int) == out["prediction"]).all()
    assert out["probability"].between(0, 1).all()
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(frame["machine_failure"], out["probability"]) > 0.9


def test_bad_input_names_every_column_and_writes_nothing(db, ai4i_run, tmp_path):
    frame = pd.read_csv(REPO / "data" / "demo" / "ai4i2020.csv").head(50)
    bad = frame.drop(columns=["torque_nm", "tool_wear_min"]).astype({"air_temp_k": "object"})
    bad.loc[3, "air_temp_k"] = "hot"
    bad.loc[4, "type"] = "X"
    out = tmp_path / "pred.csv"
    with pytest.raises(InvalidInput) as err:
        api.score(ai4i_run["run_id"], bad, out=out, into="never_made", db=db)
    text = str(err.value)
    assert "torque_nm, tool_wear_min" in text and "air_temp_k" in text and "'hot'" in text
    assert "type" in text and "'X'" in text and "H, L, M" in text
    assert len(err.value.issues) == 3
    assert "列" in err.value.text("zh")
    assert not out.exists() and not list(tmp_path.iterdir())
    assert "never_made" not in [t.name for t in api.tables(db)]


def test_cli_score_writes_csv_parquet_and_a_table_and_refuses_bad_input(home, concrete_run, tmp_path):
    env = {"AI_STUDIO_HOME": str(home)}
    rid = concrete_run["run_id"]
    csv, parquet = tmp_path / "p.csv", tmp_path / "p.parquet"
    proc = run_cli("score", rid, "--table", "concrete", "--out", str(csv), "--keep", "age_days", "water", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "scored 1,030 rows" in proc.stdout
    written = pd.read_csv(csv)
    assert list(written.columns) == ["age_days", "water", "prediction", "prediction_low", "prediction_high",
                                     "out_of_range"] and len(written) == 1030
    proc = run_cli("score", rid, "--data", "data/demo/concrete.csv", "--out", str(parquet), "--into", "concrete_pred",
                   env=env)
    assert proc.returncode == 0, proc.stderr
    assert np.allclose(pd.read_parquet(parquet)["prediction"], written["prediction"])
    assert api.catalog(home / "studio.duckdb").table_info("concrete_pred").rows == 1030
    short = tmp_path / "short.csv"
    _concrete(10).drop(columns=["cement"]).to_csv(short, index=False)
    target = tmp_path / "never.csv"
    proc = run_cli("score", rid, "--data", str(short), "--out", str(target), env=env)
    assert proc.returncode == 2 and "cement" in proc.stderr and "Traceback" not in proc.stderr
    assert not target.exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InvalidInput, match="empty"):
        api.score(rid, empty, db=home / "studio.duckdb")
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(_concrete(1).columns) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no rows"):
        api.score(rid, header_only, db=home / "studio.duckdb")


def test_a_model_of_another_format_version_asks_for_a_retrain(db, concrete_run, tmp_path):
    import shutil

    run_dir = Path(concrete_run["run_dir"])
    backup = tmp_path / "model"
    shutil.copytree(run_dir / "model", backup)
    manifest = json.loads((backup / "model.json").read_text(encoding="utf-8"))
    try:
        (run_dir / "model" / "model.json").write_text(json.dumps({**manifest, "format_version": 99}), encoding="utf-8")
        with pytest.raises(InvalidInput, match="retrain this run"):
            api.score(concrete_run["run_id"], _concrete(3), db=db)
        shutil.rmtree(run_dir / "model")
        with pytest.raises(InvalidInput, match="has no saved model"):
            api.score(concrete_run["run_id"], _concrete(3), db=db)
    finally:
        shutil.rmtree(run_dir / "model", ignore_errors=True)
        shutil.copytree(backup, run_dir / "model")


def test_robust_quick_model_and_recipe_tuning_runs_score(db):
    robust = {"template": "robust_quick_model", "name": "robust", "data": {"table": "concrete"},
              "roles": {"target": "strength_mpa", "controllable": ["cement", "water", "slag"], "context": ["age_days"]},
              "params": {"folds": 3, "n_estimators": 30, "n_samples": 100}}
    tuning = [*FAST, "pareto_points=2", "time_limit=3"]
    for run in (_run(db, robust), _run(db, REPO / "recipes" / "tuning_concrete.yaml", tuning)):
        res = api.score(run["run_id"], _concrete(40), db=db)
        assert res.rows == 40 and res.frame["prediction"].between(0, 100).all(), run["template"]


def test_yield_improvement_saves_the_key_parameter_model(db):
    overrides = ["folds=3", "n_estimators=40", "screen_trees=40", "bag=1", "curves=2", "solver_time=2"]
    run = _run(db, REPO / "recipes" / "yield_ai4i_failures.yaml", overrides)
    manifest = json.loads((Path(run["run_dir"]) / "model" / "model.json").read_text(encoding="utf-8"))
    keys = {k["name"] for k in run["key_parameters"]}
    assert set(manifest["features"]) <= keys | {"type"} and manifest["task"] == "classification"
    frame = pd.read_csv(REPO / "data" / "demo" / "ai4i2020.csv").head(200)
    res = api.score(run["run_id"], frame, db=db)
    assert res.frame["probability"].between(0, 1).all() and set(res.frame["prediction"]) <= {0, 1}


def test_energy_model_with_rolling_context_rebuilds_its_windows(db, tmp_path):
    from engine.sim.boiler import make_boiler

    frame = make_boiler(rows=400, seed=1).frame
    path = tmp_path / "boiler.parquet"
    frame.to_parquet(path, index=False)
    api.ingest(path, "boiler_small", db=db)
    recipe = {"template": "energy_saving", "name": "boiler", "data": {"table": "boiler_small"},
              "roles": {"target": "efficiency_pct", "controllable": ["excess_o2_pct", "primary_air_share"],
                        "context": ["steam_load_pct", "coal_cv_mj_kg"], "time": "timestamp",
                        "ignore": ["coal_feed_tph", "fuel_gj_per_t_steam"]},
              "params": {"goal": "maximize", "folds": 3, "n_estimators": 40, "rolling_window": 6, "time_limit": 2}}
    run = _run(db, recipe)
    manifest = json.loads((Path(run["run_dir"]) / "model" / "model.json").read_text(encoding="utf-8"))
    assert manifest["prep"] and manifest["id_columns"] == ["timestamp"]
    new = make_boiler(rows=100, seed=2).frame.drop(columns=["efficiency_pct"])
    res = api.score(run["run_id"], new, db=db)
    assert list(res.frame.columns)[:2] == ["timestamp", "prediction"] and res.rows == 100
    shuffled = api.score(run["run_id"], new.sample(frac=1.0, random_state=0), db=db).frame
    # the windows follow time, not row order: the same rows give the same predictions
    merged = res.frame.merge(shuffled, on="timestamp", suffixes=("", "_s"))
    assert np.allclose(merged["prediction"], merged["prediction_s"])


def test_energy_output_model_is_kept_and_scored_beside_the_target(db, tmp_path):
    """With an output column the energy run's demand model is saved with the target's model: scoring predicts both
    (the output as '<output>_prediction' with its interval), after a reload from the run folder."""
    from engine.sim.boiler import make_boiler

    frame = make_boiler(rows=300, seed=3).frame
    api.ingest_frame(frame, "boiler_output", db=db)
    recipe = {"template": "energy_saving", "name": "boiler output", "data": {"table": "boiler_output"},
              "roles": {"target": "efficiency_pct", "controllable": ["excess_o2_pct", "primary_air_share"],
                        "context": ["steam_load_pct", "coal_cv_mj_kg"], "time": "timestamp",
                        "ignore": ["fuel_gj_per_t_steam"]},
              "params": {"goal": "maximize", "folds": 3, "n_estimators": 40, "rolling_window": 0, "time_limit": 2,
                         "output": "coal_feed_tph"}}
    run = _run(db, recipe)
    manifest = json.loads((Path(run["run_dir"]) / "model" / "model.json").read_text(encoding="utf-8"))
    assert manifest["companions"]["output"]["target"] == "coal_feed_tph"
    new = make_boiler(rows=80, seed=4).frame
    res = api.score(run["run_id"], new.drop(columns=["efficiency_pct", "coal_feed_tph"]), db=db)
    out = res.frame
    assert {"prediction", "coal_feed_tph_prediction", "coal_feed_tph_prediction_low",
            "coal_feed_tph_prediction_high", "out_of_range"} <= set(out.columns)
    assert res.model["also_predicts"] == ["coal_feed_tph"]
    assert (out["coal_feed_tph_prediction_low"] <= out["coal_feed_tph_prediction"]).all()
    # the demand model predicts the feed it was trained on (not a copy of the efficiency column)
    assert np.corrcoef(out["coal_feed_tph_prediction"], new["coal_feed_tph"])[0, 1] > 0.8
    assert not np.allclose(out["coal_feed_tph_prediction"], out["prediction"])


def test_a_template_without_a_model_of_the_target_says_so(db):
    """Test-item reduction keeps a plan of test items, not a model of the verdict: scoring says there is none."""
    from engine.sim.check_items import make_test_line

    line = make_test_line(n_items=30, products=400, failing_groups=3, quiet_groups=2, singletons=2, rare_modes=1,
                          functional_modes=1, functional_unique=1, safety=1, bad_rate=0.1)
    api.ingest_frame(line.frame, "items_small", db=db)
    items = [c for c in line.frame.columns if c not in ("serial", "verdict")]
    recipe = {"template": "test_item_reduction", "name": "items", "data": {"table": "items_small"},
              "roles": {"target": "verdict", "controllable": items}, "params": {"folds": 3}}
    run = _run(db, recipe)
    assert "scoring" not in run
    with pytest.raises(InvalidInput, match="has no saved model") as err:
        api.score(run["run_id"], line.frame.head(5), db=db)
    assert "retrain" in str(err.value) and "没有保存的模型" in err.value.text("zh")
