"""Issue 16 (a process expert's first hour), engine side: the steel-shaped meter table, consequences named with
evidence, the role guess that knows its template, and sanity before success."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.ml.consequences import find_consequences
from engine.optim.sanity import check_result
from engine.sim.steel import CO2, LAG_KVARH, LAG_PF, METERS, TARGET, make_steel, power_triangle_kwh

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def steel() -> pd.DataFrame:
    return make_steel(rows=1500, seed=3)


def test_steel_meters_follow_the_power_triangle_and_the_emission_factor(steel):
    assert steel.shape == (1500, 11)
    assert np.allclose(power_triangle_kwh(steel[LAG_KVARH], steel[LAG_PF]), steel[TARGET], rtol=0.02, atol=0.3)
    assert np.allclose(steel[CO2], 0.0005 * steel[TARGET], atol=1e-5)
    assert set(steel["Load_Type"]) == {"Light_Load", "Medium_Load", "Maximum_Load"}
    assert steel["NSM"].between(0, 86_399).all()


def test_every_meter_is_found_a_consequence_with_evidence(steel):
    found = {f["name"]: f for f in find_consequences(steel, TARGET, [c for c in steel.columns if c != TARGET])}
    assert set(found) == set(METERS)
    assert found[CO2]["kind"] == "computed" and found[CO2]["score"] >= 0.99
    assert found[LAG_KVARH]["kind"] == "identity" and found[LAG_KVARH]["partners"] == [LAG_PF]
    assert found[LAG_KVARH]["score"] >= 0.98
    assert all(f["evidence"]["en"] and f["evidence"]["zh"] for f in found.values())
    assert "Usage_kWh" in found[LAG_PF]["evidence"]["zh"]


@pytest.mark.parametrize("name, target", [("ccpp.csv", "PE"), ("concrete.csv", "strength_mpa")])
def test_real_process_data_has_no_consequences(name, target):
    frame = pd.read_csv(REPO / "data" / "demo" / name)
    assert find_consequences(frame, target, [c for c in frame.columns if c != target]) == []


def _result(**over) -> dict:
    base = {"predicted": {"target": "kWh", "goal": "minimize", "observed_range": [0.0, 110.0],
                          "baseline": {"value": 50.0}, "recommended": {"value": 40.0},
                          "uplift": {"value": -10.0, "low": -12.0, "high": -8.0},
                          "solver": {"status": "optimal", "gap": 0.0}},
            "savings": {"goal": "minimize", "baseline": 50.0, "pct": {"value": 20.0},
                        "energy_per_hour": {"value": 10.0}},
            "recipe": {"content": {"params": {}, "expert": {}}}}
    for key, value in over.items():
        part, _, field = key.partition("__")
        if field:
            base[part][field] = value
        else:
            base[part] = value
    return base


def test_a_possible_result_is_actionable():
    verdict = check_result(_result())
    assert verdict["actionable"] and verdict["findings"] == []


@pytest.mark.parametrize("over, check", [
    ({"predicted__recommended": {"value": -0.23}}, "sign"),
    ({"predicted__recommended": {"value": 400.0}}, "range"),
    ({"savings__pct": {"value": 101.3}}, "saving"),
    ({"savings__energy_per_hour": {"value": 111.5}, "savings__baseline": 110.0}, "saving"),
    ({"predicted__uplift": {"value": 3.0, "low": 1.0, "high": 4.0}}, "direction"),
    ({"predicted__solver": {"status": "time_limit", "gap": 13.1}}, "solver"),
])
def test_an_impossible_result_is_not_actionable_with_reason_and_fix(over, check):
    verdict = check_result(_result(**over))
    assert not verdict["actionable"]
    finding = next(f for f in verdict["findings"] if f["check"] == check)
    assert finding["reason"]["en"] and finding["reason"]["zh"] and finding["fix"]["en"] and finding["fix"]["zh"]


def test_a_consequence_used_as_a_setting_is_not_actionable_unless_confirmed():
    consequences = {"found": [{"name": "PF", "kind": "identity", "role": "controllable"}]}
    assert check_result(_result(consequences=consequences))["findings"][0]["check"] == "consequence"
    confirmed = _result(consequences=consequences, recipe={"content": {"expert": {"confirmed_settings": ["PF"]}}})
    assert check_result(confirmed)["actionable"]


def test_the_energy_guess_picks_the_energy_column_and_sets_the_meters_aside(steel):
    from engine import api
    from engine.service.role_guess import guess_roles

    types = {c: ("TIMESTAMP" if c == "date" else "VARCHAR" if steel[c].dtype == object else "DOUBLE")
             for c in steel.columns}
    template = next(t for t in api.list_templates() if t.id == "energy_saving")
    guess = guess_roles(types, {}, steel, template)
    assert guess.roles["target"] == [TARGET]
    assert set(METERS) <= set(guess.roles["ignore"]) and not set(METERS) & set(guess.roles["controllable"])
    assert {f["name"] for f in guess.consequences} == set(METERS)
    assert any("Usage_kWh" in n.zh and "能耗" in n.zh for n in guess.notes)


def _steel_recipe(controllable: list[str], ignore: list[str], **expert) -> dict:
    return {"template": "energy_saving@1.0.0", "name": "steel test", "data": {"table": "steel_small"},
            "roles": {"target": TARGET, "controllable": controllable, "context": ["Load_Type", "WeekStatus"],
                      "time": "date", "ignore": ignore},
            "params": {"goal": "minimize", "scenario": "latest", "n_estimators": 30, "folds": 2, "time_limit": 5,
                       "energy_unit": "kWh", "energy_price": 0.7, "hours_per_year": 6000, "currency": "CNY"},
            "expert": expert}


@pytest.fixture
def steel_db(db, steel, tmp_path):
    from engine import api

    path = tmp_path / "steel_small.parquet"
    steel.to_parquet(path, index=False)
    api.ingest(path, "steel_small", db=db)
    return db


def test_a_run_with_the_meters_as_settings_names_them_and_is_not_actionable(steel_db):
    from engine import api

    meters = [LAG_KVARH, LAG_PF, CO2]
    result = api.run_recipe(_steel_recipe(["NSM", *meters], [m for m in METERS if m not in meters]), db=steel_db)
    found = {f["name"]: f["role"] for f in result["consequences"]["found"]}
    assert {m: "controllable" for m in meters}.items() <= found.items()
    assert set(result["consequences"]["in_features"]) >= set(meters)
    assert not result["sanity"]["actionable"]
    assert "consequence" in {f["check"] for f in result["sanity"]["findings"]}


def test_the_guessed_roles_run_with_the_meters_named_and_no_impossible_saving(steel_db):
    from engine import api

    result = api.run_recipe(_steel_recipe(["NSM"], METERS), db=steel_db)
    assert {f["name"]: f["role"] for f in result["consequences"]["found"]} == {m: "ignore" for m in METERS}
    assert result["consequences"]["in_features"] == []
    assert result["predicted"]["recommended"]["value"] >= 0
    assert result["savings"]["pct"]["value"] <= 100
    assert result["sanity"]["actionable"], result["sanity"]["findings"]


def test_a_starting_point_that_never_occurred_is_not_actionable(steel):
    from engine.service.result_checks import scenario_unseen

    light_weekday = {"Load_Type": "Light_Load", "WeekStatus": "Weekday"}
    night = steel[(steel["Load_Type"] == "Light_Load") & (steel["WeekStatus"] == "Weekday")]["NSM"].iloc[0]
    assert scenario_unseen(steel, {**light_weekday, "NSM": float(night)}) is None
    noon = scenario_unseen(steel, {**light_weekday, "NSM": 42_750.0})   # light load at noon on a weekday: never
    assert noon["check"] == "scenario" and "42,750" in noon["reason"]["en"] and noon["fix"]["zh"]
    assert scenario_unseen(steel, {"NSM": 42_750.0}) is None   # numbers alone: the trust region speaks for them


def test_numbers_for_people():
    from engine.core.numbers import people, tidy

    assert [people(v) for v in (1.0443262743983364, 4.275e4, 5e-36, -0.23, 634_733.2, 27_900, None)] == \
        ["1.044", "42,750", "0", "-0.23", "634,733", "27,900", "—"]
    assert people(0.000123456) == "0.0001235" and "e" not in people(0.00005)
    assert tidy(1.0443262743983364) == 1.04433 and tidy(0.30000000000000004) == 0.3


def test_plain_words_for_quality_solver_and_scenario():
    from engine.report.plain import quality_words, scenario_words, solver_words

    words = quality_words({"r2": {"mean": 0.30, "std": 0.02}})
    assert "30 %" in words and "direction" in words and "30%" in words.zh
    assert "far from" in solver_words({"status": "time_limit", "gap": 13.1})
    assert "proven" in solver_words({"status": "optimal", "gap": 0.0})
    scenario = scenario_words({"scenario": "median", "settings": {"Load_Type": "Light_Load", "NSM": 42750.0}},
                              ["Load_Type", "NSM"])
    assert "Load_Type = Light_Load" in scenario and "42,750" in scenario and "典型工况" in scenario.zh


def test_a_run_log_is_compact_translated_and_estimates_time_left():
    from engine.service.background import _Worker, _log_line, _step_clock, time_left
    from engine.pipeline.executor import ProgressEvent
    from engine.core.i18n import Msg

    worker = _Worker("r")
    for share in (0.0, 0.2, 0.4):   # a fold reporting in while it trains: one line, a moving bar
        event = ProgressEvent("train", 1, 3, (1 + share) / 3, Msg("fold 3/5", "第 3/5 折"))
        _step_clock(worker, event)
        worker.step = event.step
        _log_line(worker, event)
    assert len(worker.log) == 1 and worker.repeats == 2 and worker.log[0].zh.endswith("第 3/5 折")
    assert abs(worker.step_fraction - 0.4) < 1e-9 and time_left(worker) is not None
    _log_line(worker, ProgressEvent("train", 1, 3, 2 / 3, "done"))
    assert worker.log[-1].zh.endswith("完成") and worker.log[-1].endswith("done")


def test_columns_found_by_a_glob_or_a_part_of_the_name():
    from engine.api import match_columns

    cols = ["zone1_temp_sp", "zone1_temp_pv", "belt_speed_SP", "humidity"]
    assert match_columns(cols, "*_sp") == ["zone1_temp_sp", "belt_speed_SP"]
    assert match_columns(cols, "temp") == ["zone1_temp_sp", "zone1_temp_pv"] and match_columns(cols, " ") == []


def test_maximising_an_energy_use_is_not_actionable_and_the_guess_minimises_it(steel):
    from engine import api
    from engine.service.role_guess import guess_roles

    wrong = _result(predicted__goal="maximize", predicted__target="Usage_kWh",
                    predicted__uplift={"value": 3.0, "low": 1.0, "high": 4.0})
    assert "goal" in {f["check"] for f in check_result(wrong)["findings"]}
    types = {c: ("TIMESTAMP" if c == "date" else "VARCHAR" if steel[c].dtype == object else "DOUBLE")
             for c in steel.columns}
    template = next(t for t in api.list_templates() if t.id == "energy_saving")
    assert guess_roles(types, {}, steel, template).params == {"goal": "minimize", "scenario": "latest"}
