"""The energy template from the command line, end to end: the CCPP recipe on the bundled data, and a bad price."""

import json

import pytest
from tests.conftest import run_cli


def test_energy_ccpp_run_writes_savings_and_money(studio_home, tmp_path):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    assert run_cli("ingest", "data/demo/ccpp.csv", "--table", "ccpp", env=env).returncode == 0
    out = tmp_path / "out"
    proc = run_cli("run", "recipes/energy_ccpp.yaml", "--out", str(out), "--set", "n_estimators=60",
                   "--set", "folds=3", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["template"]["id"] == "energy_saving" and result["status"] == "succeeded"
    predicted, savings = result["predicted"], result["savings"]
    assert predicted["method"] == "milp" and predicted["verification"]["ok"] and savings["verified"]
    assert predicted["solver"]["status"] in ("optimal", "time_limit") and predicted["solver"]["gap"] is not None
    v = result["recommendations"][0]
    assert v["name"] == "V" and v["envelope"][0] <= v["value"] <= v["envelope"][1]
    base, rec = predicted["baseline"]["value"], predicted["recommended"]["value"]
    assert abs(savings["pct"]["value"] - 100 * (1 - base / rec)) < 1e-9
    money = savings["money_per_year"]
    assert money["unit"] == "CNY/yr" and money["price"] == 400 and money["hours"] == 7000
    assert abs(money["value"] - (rec - base) * 400 * 7000) < 1e-6 * abs(money["value"])
    assert "savings" not in result["outputs"]


def test_negative_price_is_refused_with_the_parameter_named(studio_home):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    proc = run_cli("run", "recipes/energy_ccpp.yaml", "--set", "energy_price=-5", env=env)
    assert proc.returncode == 2
    assert "energy_price" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_demo_makes_the_boiler_and_its_recipe_runs(studio_home, tmp_path):
    from engine.sim.boiler import make_boiler

    env = {"AI_STUDIO_HOME": str(studio_home)}
    demo = run_cli("demo", env=env)
    assert demo.returncode == 0 and "boiler_sim" in demo.stdout
    out = tmp_path / "boiler"
    proc = run_cli("run", "recipes/energy_sim_boiler.yaml", "--out", str(out), "--set", "n_estimators=100",
                   "--set", "folds=3", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    savings = result["savings"]
    assert savings["verified"] and savings["energy_per_hour"]["unit"] == "GJ/h"
    assert abs(savings["money_per_year"]["value"] - savings["energy_per_hour"]["value"] * 35 * 7000) < 1e-6 * abs(
        savings["money_per_year"]["value"])
    boiler = make_boiler()
    score = boiler.score({r["name"]: r["value"] for r in result["recommendations"]}, boiler.scenario("latest"))
    assert score["feasible"] and score["captured"] >= 0.5, score
