"""Issue 16 on the pages (AppTest, en and zh): the guess shown as a guess, consequences named before a run, a wide
role board, the verdict before any benefit, plain words, the scenario, goal colours, the what-if reset, History."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine import api
from engine.sim.steel import CO2, LAG_KVARH, LAG_PF, METERS, TARGET, make_steel

REPO = Path(__file__).resolve().parents[2]
TEXT = {"en": {"guess": "first guess", "still": "still a guess", "confirm": "The roles are right",
               "valid": "The recipe is valid", "ignore": "Move them to Ignore", "settings": "They are settings (confirm)",
               "block": "Consequences among the inputs", "not_actionable": "Not actionable", "words": "In words:",
               "scenario": "for the latest row", "reset": "Reset to the recommendation", "leak": "Leakage guard",
               "money": "Saving per year", "hidden": "No saving is shown", "details": "Details", "other": "template"},
        "zh": {"guess": "初步猜测", "still": "角色仍是猜测", "confirm": "角色分配无误", "valid": "配方有效",
               "ignore": "移到“忽略”", "settings": "它们确实是可设定的（确认）", "block": "输入中有目标的结果",
               "not_actionable": "不可执行", "words": "通俗地说", "scenario": "针对最新一行", "reset": "恢复为推荐值",
               "leak": "泄露检查", "money": "年节约金额", "hidden": "不显示节能量", "details": "详细信息", "other": "模板"}}
FAST = {"n_estimators": 30, "folds": 2, "time_limit": 5}


@pytest.fixture
def steel_db(db, tmp_path):
    path = tmp_path / "steel.parquet"
    make_steel(rows=1500, seed=3).to_parquet(path, index=False)
    api.ingest(path, "steel_energy_sim", db=db)
    return db


def steel_recipe(controllable: list[str], **params) -> dict:
    recipe = api.read_recipe(REPO / "recipes" / "energy_sim_steel.yaml")
    recipe["roles"]["controllable"] = controllable
    recipe["roles"]["ignore"] = [m for m in METERS if m not in controllable]
    recipe["params"].update({**FAST, **params})
    return recipe


def finished(recipe: dict) -> str:
    run_id = api.start_run(recipe)
    assert api.wait_run(run_id, 120)["status"] == "succeeded"
    return run_id


def app(page: str, lang: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {"lang": lang, **state}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_build_shows_the_guess_as_a_guess_and_stops_consequences_before_a_run(steel_db, monkeypatch, lang):
    monkeypatch.chdir(REPO)
    words = TEXT[lang]
    at = app("pages/build.py", lang, build_template="energy_saving", build_table="steel_energy_sim")
    assert at.multiselect(key="build.roles.pick.target").value == [TARGET]           # the energy column
    assert set(METERS) <= set(at.multiselect(key="build.roles.pick.ignore").value)   # the meters set aside
    assert not set(METERS) & set(at.multiselect(key="build.roles.pick.controllable").value)
    assert not at.success and any(words["guess"] in w.value for w in at.warning)    # amber, never "valid"
    assert any(words["still"] in w.value for w in at.warning)
    # the expert drags two meters among the settings: named with the evidence, the run waits
    at.multiselect(key="build.roles.pick.controllable").select(LAG_PF).select(CO2).run()
    block = next(e.value for e in at.error if words["block"] in e.value)
    assert LAG_PF in block and CO2 in block and "Usage_kWh" in block
    assert button(at, "运行" if lang == "zh" else "Run").disabled
    button(at, words["ignore"]).click().run()
    assert not {LAG_PF, CO2} & set(at.multiselect(key="build.roles.pick.controllable").value)
    assert {LAG_PF, CO2} <= set(at.multiselect(key="build.roles.pick.ignore").value)
    next(c for c in at.checkbox if c.label == words["confirm"]).check().run()
    assert any(words["valid"] in s.value for s in at.success) and not at.error
    # confirming instead: recorded in the recipe as the expert's word
    at.multiselect(key="build.roles.pick.controllable").select(LAG_PF).run()
    button(at, words["settings"]).click().run()
    assert not at.error and "confirmed_settings:\n  - " + LAG_PF in at.code[0].value
    assert not button(at, "运行" if lang == "zh" else "Run").disabled


def test_a_wide_board_has_search_bulk_moves_and_short_boxes(db, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    import numpy as np

    rng = np.random.default_rng(0)
    wide = pd.DataFrame({**{f"zone{i:02d}_temp_sp": rng.normal(size=50) for i in range(60)},
                         **{f"zone{i:02d}_temp_pv": rng.normal(size=50) for i in range(60)},
                         "yield_pct": rng.uniform(80, 99, 50)})
    path = tmp_path / "wide.parquet"
    wide.to_parquet(path, index=False)
    api.ingest(path, "wide", db=db)
    for lang in ("en", "zh"):
        at = app("pages/build.py", lang, build_template="quick_model", build_table="wide")
        assert any(("not drawn" if lang == "en" else "未显示") in c.value for c in at.caption)
        at.text_input(key="build.roles.search").input("*_PV").run()
        assert any(("60 columns match" if lang == "en" else "匹配 60 列") in c.value for c in at.caption)
        at.selectbox(key="build.roles.move_to").select("ignore").run()
        button(at, "Move 60" if lang == "en" else "移动 60 列").click().run()
        ignored = at.multiselect(key="build.roles.pick.ignore").value
        assert len([c for c in ignored if c.endswith("_pv")]) == 60
        assert not [c for c in at.multiselect(key="build.roles.pick.controllable").value if c.endswith("_pv")]


def test_results_say_not_actionable_with_reason_and_fix_and_show_no_money(steel_db, monkeypatch):
    monkeypatch.chdir(REPO)
    bad = finished(steel_recipe(["NSM", LAG_KVARH, LAG_PF, CO2]))
    for lang in ("en", "zh"):
        words = TEXT[lang]
        at = app("pages/results.py", lang, results_run=bad)
        verdict = next(e.value for e in at.error if words["not_actionable"] in e.value)
        assert LAG_KVARH in verdict and ("Ignore" in verdict or "忽略" in verdict)
        assert not any(words["money"] in m.label for m in at.metric)
        assert any(words["hidden"] in i.value for i in at.info)
        assert any(words["leak"] in e.label for e in at.expander)
        assert any(("inflated" if lang == "en" else "虚高") in w.value for w in at.warning)  # the R² is not the process
        html = api.report_html(bad, lang=lang)
        assert words["not_actionable"] in html and words["money"] not in html


def test_results_in_plain_words_with_the_scenario_goal_colours_and_a_what_if_reset(steel_db, monkeypatch):
    monkeypatch.chdir(REPO)
    good = finished(steel_recipe(["NSM"]))
    for lang in ("en", "zh"):
        words = TEXT[lang]
        at = app("pages/results.py", lang, results_run=good)
        assert not at.error, [e.value for e in at.error]
        assert any(words["words"] in m.value for m in at.markdown)
        scenario = next(i.value for i in at.info if words["scenario"] in i.value)
        assert "Load_Type" in scenario
        assert at.selectbox(key=f"fh_scn.{good}").value == "latest"          # the scenario, choosable
        assert any(words["details"] in e.label for e in at.expander)          # solver jargon behind "details"
        assert any(words["money"] in m.label for m in at.metric)              # a possible result shows its money
        values = [m.value for m in at.metric]
        assert not any("e+" in v or "e-" in v for v in values), values
        recommended = next(m for m in at.metric if m.label in ("With the recommendation", "采用推荐值"))
        if recommended.proto.delta.startswith("-"):      # lower energy is the goal: a decrease is drawn green
            assert recommended.proto.color == recommended.proto.MetricColor.GREEN
        slider = at.slider(key=f"wi.{good}.NSM")
        start = slider.value
        slider.set_value(slider.min).run()
        button(at, words["reset"]).click().run()
        assert at.slider(key=f"wi.{good}.NSM").value == start


def test_history_says_why_runs_of_two_templates_are_not_compared(steel_db, demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    concrete = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    concrete["params"].update({"n_estimators": 30, "n_samples": 200, "folds": 3})
    finished(steel_recipe(["NSM"]))
    finished(concrete)
    for lang in ("en", "zh"):
        at = app("pages/history.py", lang)   # no two runs of one template: A and B default to the two templates
        assert any("energy_saving" in w.value and "quick_model" in w.value and TEXT[lang]["other"] in w.value
                   for w in at.warning), [w.value for w in at.warning]


@pytest.mark.parametrize("lang, fold", [("en", "fold "), ("zh", "折")])
def test_the_run_page_says_what_the_step_does_inside_and_cancels(demo_db, monkeypatch, lang, fold):
    import time

    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({"n_estimators": 3000, "folds": 10})
    run_id = api.start_run(recipe)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "fold" not in str(api.run_status(run_id).get("message")):
        time.sleep(0.2)
    at = app("pages/run.py", lang, current_run=run_id)
    texts = [p.proto.text for p in at.get("progress")]
    assert any(fold in x for x in texts), texts
    cancel = [b for b in at.button if b.label in ("Cancel the run", "取消运行")]
    if cancel:
        cancel[0].click().run()
    assert api.wait_run(run_id, 120)["status"] in ("cancelled", "succeeded")
    status = api.run_status(run_id)
    lines = [(str(x) if lang == "en" else x.zh).split(" ", 1)[1] for x in status["log"]]   # without the time
    assert lines and all(a != b for a, b in zip(lines, lines[1:])), lines   # compact: a fold reporting in is one line
