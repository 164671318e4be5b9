"""The first role guess on the demo tables, the simulated line and small synthetic tables."""

from __future__ import annotations

import pandas as pd
import pytest

from engine import api
from engine.service.role_guess import POOL, guess_roles, outcome_score, tokens


def _template(tid: str):
    return {t.id: t for t in api.list_templates()}[tid]


def test_ai4i_targets_machine_failure_and_ignores_ids_and_failure_modes(demo_db):
    guess = api.guess_table_roles("ai4i2020", _template("yield_improvement"), db=demo_db)
    roles = guess.roles
    assert roles["target"] == ["machine_failure"]
    assert set(roles["ignore"]) == {"udi", "product_id", "TWF", "HDF", "PWF", "OSF", "RNF"}
    assert {"rotational_speed_rpm", "torque_nm"} <= set(roles["controllable"])
    assert {"type", "tool_wear_min"} <= set(roles["context"])
    assert not set(roles["controllable"]) & {"udi", "machine_failure", "TWF", "HDF", "RNF"}
    assert any("small table" in n for n in guess.notes) and all(n.zh for n in guess.notes)


def test_concrete_and_ccpp(demo_db):
    concrete = api.suggest_roles("concrete", db=demo_db, template=_template("quick_model"))
    assert concrete["target"] == ["strength_mpa"] and concrete["context"] == ["age_days"]
    assert "cement" in concrete["controllable"]
    ccpp = api.guess_table_roles("ccpp", _template("quick_model"), db=demo_db)
    assert ccpp.roles["target"] == ["PE"]  # no name says outcome: the last numeric column, with a note saying so
    assert any("no column name says" in n for n in ccpp.notes)


def test_simulated_line_splits_setpoints_from_sensors(db):
    from engine.sim.yield_line import make_line
    from engine.api import ingest_frame

    line = make_line(n_params=150, n_drivers=10, rows=800)
    ingest_frame(line.frame, "line_sim", db=db)
    roles = api.suggest_roles("line_sim", db=db, template=_template("yield_improvement"))
    assert roles["target"] == ["a_grade_rate"] and roles["time"] == ["batch_time"]
    assert set(roles["controllable"]) == set(line.controllable)
    assert all("_pv_" not in c for c in roles["controllable"])
    assert {"wafer_resistivity", "ambient_humidity"} <= set(roles["context"])
    assert {"final_inspection_a_pct", "line_id"} <= set(roles["ignore"])  # a copy of the target, a constant


def test_wide_table_without_setpoint_names_goes_to_context_and_template_max_caps():
    types = {f"x{i}": "DOUBLE" for i in range(20)} | {"yield_pct": "DOUBLE"}
    wide = guess_roles(types)
    assert wide.roles["target"] == ["yield_pct"] and len(wide.roles["context"]) == 20
    assert not wide.roles["controllable"] and any("more than" in n for n in wide.notes)
    small = guess_roles({"temp": "DOUBLE", "speed": "DOUBLE", "defect_rate": "DOUBLE"}, template=_template("quick_model"))
    assert small.roles["controllable"] == ["temp", "speed"] and small.roles["target"] == ["defect_rate"]


def test_robust_template_leaves_text_columns_unassigned():
    guess = guess_roles({"grade": "VARCHAR", "炉温设定": "DOUBLE", "出口温度实测": "DOUBLE", "良率": "DOUBLE",
                         "批次号": "BIGINT"}, template=_template("robust_quick_model"))
    roles = guess.roles
    assert roles["target"] == ["良率"] and roles["controllable"] == ["炉温设定"]
    assert roles["context"] == ["出口温度实测"] and roles["ignore"] == ["批次号"] and roles[POOL] == ["grade"]


def test_hints_are_kept_and_the_rest_guessed():
    guess = guess_roles({"a_sp": "DOUBLE", "b_pv": "DOUBLE", "yield": "DOUBLE", "score": "DOUBLE"},
                        hints={"target": "score", "ignore": ["yield"]})
    assert guess.roles["target"] == ["score"] and guess.roles["ignore"] == ["yield"]
    assert guess.roles["controllable"] == ["a_sp"] and guess.roles["context"] == ["b_pv"]


@pytest.mark.parametrize("name, words", [("machineFailure", {"machine", "failure"}), ("etch_pv_082", {"etch", "pv", "082"}),
                                         ("TWF", {"twf"})])
def test_tokens(name, words):
    assert tokens(name) == words


def test_outcome_words_weigh_more_than_process_rates():
    assert outcome_score("a_grade_rate") > outcome_score("final_inspection_a_pct")
    assert outcome_score("feed_rate") == 0 and outcome_score("良率") > 0


def test_a_template_without_context_leaves_measured_columns_unassigned():
    from engine.schema.template import RoleSpec

    class Roles:
        def items(self):
            return [("target", RoleSpec(required=True, dtypes=["numeric"], max=1)),
                    ("controllable", RoleSpec(required=True, dtypes=["numeric"], max=2))]

    class Template:
        roles = Roles()

    guess = guess_roles({"a_sp": "DOUBLE", "b_sp": "DOUBLE", "c_sp": "DOUBLE", "t_pv": "DOUBLE", "yield": "DOUBLE",
                         "note": "VARCHAR"}, template=Template())
    assert set(guess.roles) == {POOL, "target", "controllable", "ignore"}
    assert guess.roles["controllable"] == ["a_sp", "b_sp"]  # the template's max; the rest waits in the pool
    assert guess.roles["target"] == ["yield"] and set(guess.roles[POOL]) == {"c_sp", "t_pv", "note"}


def test_a_required_role_short_of_its_minimum_takes_the_unplaced_columns():
    """test_item_reduction has no Context box: a wide table of unnamed items goes to its Test items (controllable)."""
    items = {f"item_{i:03d}": [float(i + k) for k in range(40)] for i in range(30)}
    frame = pd.DataFrame({**items, "verdict": [k % 2 for k in range(40)]})
    types = {c: "DOUBLE" for c in items} | {"verdict": "BIGINT"}
    guess = guess_roles(types, sample=frame, template=_template("test_item_reduction"))
    assert guess.roles["target"] == ["verdict"]
    assert set(guess.roles["controllable"]) == set(items) and not guess.roles[POOL]
    assert any("at least 2" in n and "至少需要 2" in n.zh for n in guess.notes)


def test_a_pass_fail_text_verdict_is_the_target_and_load_and_fuel_are_conditions():
    frame = pd.DataFrame({"cal_001": [1.0, 2.0, 3.0, 4.0] * 10, "cal_002": [2.0, 1.0, 4.0, 3.0] * 10,
                          "verdict": ["PASS", "FAIL", "PASS", "PASS"] * 10})
    types = {"cal_001": "DOUBLE", "cal_002": "DOUBLE", "verdict": "VARCHAR"}
    guess = guess_roles(types, sample=frame, template=_template("test_item_reduction"))
    assert guess.roles["target"] == ["verdict"] and set(guess.roles["controllable"]) == {"cal_001", "cal_002"}

    boiler = pd.DataFrame({"excess_o2_pct": [3.0, 3.5, 4.0, 4.5] * 10, "steam_load_pct": [70.0, 80.0, 90.0, 75.0] * 10,
                           "coal_moisture_pct": [8.0, 9.0, 10.0, 11.0] * 10, "efficiency_pct": [90.0, 91.0, 89.0, 90.5] * 10})
    guess = guess_roles({c: "DOUBLE" for c in boiler}, sample=boiler, template=_template("energy_saving"))
    assert guess.roles["target"] == ["efficiency_pct"] and guess.roles["controllable"] == ["excess_o2_pct"]
    assert set(guess.roles["context"]) == {"steam_load_pct", "coal_moisture_pct"}
