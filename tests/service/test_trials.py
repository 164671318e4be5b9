"""Trials: outcomes measured on the line are logged against a recommendation, compared with the model's
prediction, and fed back as new rows for a retrain."""

import pytest

from tests.conftest import run_cli
from engine import api
from engine.store.catalog import Catalog
from engine.core.errors import InvalidInput


@pytest.fixture
def run(demo_db, fast_recipe):
    return api.run_recipe(fast_recipe, db=demo_db)


def test_log_compare_and_retrain(run, demo_db):
    rec = {r["name"]: r["value"] for r in run["recommendations"]}
    first = api.log_trial(run["run_id"], {"cement": rec["cement"]}, 61.5, batches=2, note="line 2", db=demo_db)
    assert first["predicted"] == pytest.approx(run["predicted"]["recommended"]["value"], rel=1e-9)
    api.log_trial(run["run_id"], {"cement": rec["cement"] * 0.9, "water": 170.0}, 48.0, db=demo_db)
    logged = api.trials(run["run_id"], db=demo_db)
    assert [t["outcome"] for t in logged] == [61.5, 48.0]
    assert logged[1]["settings"]["water"] == 170.0 and logged[0]["note"] == "line 2"
    assert all(t["inside"] in (True, False) for t in logged)
    table, recipe = api.retrain_with_trials(run["run_id"], db=demo_db)
    assert table == "concrete_with_trials"
    assert Catalog(demo_db).table_info(table).rows == 1030 + 3  # the first trial counts for 2 batches
    assert recipe["data"] == {"table": table} and recipe["name"].endswith(" + trials")
    source = Catalog(demo_db).table_info(table).source  # bilingual, also after a round trip through the catalog
    assert source.startswith("concrete + 3 trial rows") and source.zh.startswith("concrete + 3 行试验数据")
    assert api.retrain_with_trials(run["run_id"], db=demo_db, lang="zh")[1]["name"].endswith(" + 试验数据")
    retrained = api.run_recipe(recipe, db=demo_db)
    assert retrained["status"] == "succeeded" and retrained["data"]["rows"] == 1033


def test_bad_trials_are_refused(run, demo_db):
    with pytest.raises(InvalidInput, match="unknown setting"):
        api.log_trial(run["run_id"], {"cemnt": 300}, 50.0, db=demo_db)
    with pytest.raises(InvalidInput, match="no trials yet"):
        api.retrain_with_trials(run["run_id"], db=demo_db)


def test_cli_trial_commands(run, demo_db):
    env = {"AI_STUDIO_DB": str(demo_db)}
    logged = run_cli("trial", "log", run["run_id"], "--outcome", "55.5", "--set", "water=160", env=env)
    assert logged.returncode == 0, logged.stderr
    listed = run_cli("trial", "list", run["run_id"], env=env)
    assert "55.5" in listed.stdout
    bad = run_cli("trial", "log", run["run_id"], "--outcome", "x", env=env)
    assert bad.returncode == 2
