"""Bugs found by a newcomer trial in a real browser, each pinned by the flow that showed it."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from engine import api
from tests.ui.test_pages import REPO, open_page
from ui.widgets import num


def test_profile_distribution_of_every_column_type(studio_home, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    frame = pd.DataFrame({"批次": [f"批{i % 7}" for i in range(60)], "product_id": [f"P{i:04d}" for i in range(60)],
                          "ok": [i % 3 == 0 for i in range(60)], "when": pd.date_range("2026-01-01", periods=60),
                          "empty": [None] * 60, "temp": [800.0 + i for i in range(60)]})
    path = tmp_path / "line.parquet"
    frame.to_parquet(path, index=False)
    api.ingest(path, "line")
    at = open_page("pages/data.py", "zh")
    picker = at.selectbox(key="hist_line")
    assert {"批次", "product_id", "temp"} <= set(picker.options)
    for column in picker.options:
        picker.select(column).run()
        assert not at.exception and not at.error, (column, [e.value for e in [*at.exception, *at.error]])


def test_home_demo_lists_the_run_and_opens_its_results(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    real_run = api.run_recipe

    def quick_run(source, **kw):  # the demo recipe, made quick
        recipe = api.read_recipe(source)
        recipe["params"].update({"n_estimators": 40, "n_samples": 200, "folds": 3})
        return real_run(recipe, **kw)
    monkeypatch.setattr(api, "run_recipe", quick_run)
    at = open_page("pages/home.py")
    next(b for b in at.button if b.label.startswith("Try the demo")).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_id = at.session_state["demo_result"]["run_id"]
    assert "No runs yet." not in [c.value for c in at.caption]
    assert run_id in at.dataframe[-1].value.iloc[:, 0].tolist()  # Recent runs, not stale
    at.button(key="demo_open_results").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Results"
    assert at.selectbox[0].value == run_id


def test_language_survives_a_refresh_through_the_url(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    at.sidebar.selectbox[0].select("zh").run()  # the sidebar switch
    assert "zh" in at.query_params["lang"]
    at.switch_page("pages/history.py").run()
    assert "zh" in at.query_params["lang"] and at.title[0].value == "运行历史"
    # a refresh: a new session (no session_state) opened on the same URL
    again = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    again.query_params["lang"] = "zh"
    again.run()
    assert not again.exception
    assert again.session_state["lang"] == "zh" and again.title[0].value == "AI 创作间"


def test_build_keeps_the_recipe_across_page_switches(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/build.py")
    tables = next(s for s in at.selectbox if s.label == "Table")
    first = tables.value
    other = next(o for o in tables.options if o != first)
    template = next(s for s in at.selectbox if s.label == "Template")
    with_settings = ("robust_quick_model", "quick_model", "energy_saving")  # templates with a Controllable box
    template.select(next(o for o in with_settings if o != template.value)).run()
    second = next(s for s in at.selectbox if s.label == "Template").value
    next(s for s in at.selectbox if s.label == "Table").select(other).run()
    key = f"build.0.{second}.{other}"
    columns = list(api.catalog().table_info(other).columns)
    at.multiselect(key="build.roles.pick.target").set_value([columns[0]]).run()
    at.multiselect(key="build.roles.pick.controllable").set_value(columns[1:3]).run()
    at.number_input(key=f"{key}.params.n_estimators").set_value(77).run()
    at.multiselect(key=f"{key}.expert.up").select(columns[1]).run()
    at.text_input(key=f"{key}.name").set_value("my recipe").run()
    assert not at.exception, [e.value for e in at.exception]
    before = at.code[0].value

    at.switch_page("pages/home.py").run()
    at.switch_page("pages/build.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert next(s for s in at.selectbox if s.label == "Template").value == second
    assert next(s for s in at.selectbox if s.label == "Table").value == other
    assert at.number_input(key=f"{key}.params.n_estimators").value == 77
    assert at.multiselect(key=f"{key}.expert.up").value == [columns[1]]
    assert at.code[0].value == before  # the same recipe, roles included
    # and back from another table of the same template
    next(s for s in at.selectbox if s.label == "Table").select(first).run()
    next(s for s in at.selectbox if s.label == "Table").select(other).run()
    assert at.code[0].value == before


def test_results_what_if_of_a_yield_run(db, monkeypatch):
    """The yield template trains a screening model of every column before the key-parameter model that
    recommends: the what-if must use the latter, and its band is the recommendation's band."""
    from engine.sim.yield_line import make_line, recipe_for
    from engine.api import ingest_frame

    monkeypatch.chdir(REPO)
    line = make_line(n_params=60, n_drivers=6, rows=400)
    ingest_frame(line.frame, "line", db=db)
    tiny = {"n_estimators": 30, "screen_trees": 30, "folds": 2, "n_samples": 300, "curves": 2, "bag": 1,
            "solver_time": 3.0, "top_k": 6}
    run = api.run_recipe(recipe_for(line, {"table": "line"}, **tiny), db=db)
    assert run["status"] == "succeeded"
    at = open_page("pages/results.py")
    assert not at.error and not [i.value for i in at.info if "What-if is not available" in i.value]
    shown = next(m.value for m in at.metric if m.label == "Predicted outcome")
    assert shown == next(m.value for m in at.metric if m.label == "With the recommendation")
    rec = run["predicted"]["recommended"]
    band = next(c.value for c in at.caption if c.value.startswith("90 % band"))
    assert band.startswith(f"90 % band {num(rec['low'])} – {num(rec['high'])}"), band
