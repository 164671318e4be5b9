"""Engine messages on zh screens are Chinese: compile errors beside the fields, ingest problems, run errors."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import api

REPO = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"\b(is|are|not|the|at most|needs|above)\b")


def _open(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {"lang": "zh", **state}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _chinese_only(messages: list[str]) -> None:
    assert messages
    for text in messages:
        assert CJK.search(text), text
        assert not ENGLISH_SENTENCE.search(re.sub(r"'[^']*'", "", text)), text  # names in quotes may be anything


def test_build_page_shows_compile_errors_in_chinese(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = _open("pages/build.py", build_template="quick_model", build_table="concrete")
    next(c for c in at.checkbox if c.label == "角色分配无误").check().run()  # the guess, checked by the expert
    assert any("配方有效" in s.value for s in at.success)
    at.multiselect(key="build.roles.pick.target").select("cement").run()  # two targets: a role error
    errors = [e.value for e in at.error]
    assert any("最多 1 列" in e for e in errors), errors
    _chinese_only(errors)
    at.multiselect(key="build.roles.pick.target").unselect("cement").run()
    prefix = "build.0.quick_model.concrete.expert"
    at.multiselect(key=f"{prefix}.bounded").select("water").run()
    at.number_input(key=f"{prefix}.lo.water").set_value(200).run()
    at.number_input(key=f"{prefix}.hi.water").set_value(100).run()
    errors = [e.value for e in at.error]
    assert any("下限高于上限" in e for e in errors), errors
    _chinese_only(errors)


def test_run_page_shows_a_failed_run_in_chinese(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["data"] = {"sql": "SELECT * FROM concrete LIMIT 15"}  # too few rows for cross-validation
    run_id = api.start_run(recipe)
    assert api.wait_run(run_id, 120)["status"] == "failed"
    at = _open("pages/run.py", current_run=run_id)
    errors = [e.value for e in at.error]
    assert any("至少需要" in e for e in errors), errors
    assert not any("rows with a target" in e for e in errors), errors
