"""AppTest: the Results page of a predictive-maintenance run, in en and zh (health view, units at risk, sensors, the
apply-to-new-data section scoring each unit's history)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import api

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def rul_run(db):
    from engine.sim.turbofan import make_turbofan

    fleet = make_turbofan(units=12, test_units=4, seed=5)
    api.ingest_frame(fleet.train, "tf_train", db=db)
    api.ingest_frame(fleet.test, "tf_test", db=db)
    recipe = api.read_recipe(REPO / "recipes" / "pdm_turbofan_sim.yaml")
    recipe["data"] = {"table": "tf_train"}
    recipe["params"].update({"folds": 3, "n_estimators": 30, "window": 5})
    return api.run_recipe(recipe, db=db)["run_id"]


@pytest.mark.parametrize("lang, title, ranking", [("en", "Equipment health", "Units ranked by risk now"),
                                                  ("zh", "设备健康", "当前风险排序")])
def test_pdm_results_in_both_languages_and_apply_to_test_units(rul_run, lang, title, ranking):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["results_run"] = rul_run
    at.run()
    at.switch_page("pages/results.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert title in [s.value for s in at.subheader]
    assert any(ranking in m.value for m in at.markdown)
    assert len(at.metric) >= 3
    texts = " ".join(m.value for m in at.markdown)
    sensors, curves = (("Sensors that drive the risk", "Health over time") if lang == "en" else
                       ("驱动风险的传感器", "健康随时间变化"))
    assert sensors in texts and curves in texts
    ranked = at.dataframe[0].value
    assert ("interval" if lang == "en" else "区间") in ranked.columns  # each unit's RUL with its interval
    assert len(at.get("plotly_chart")) >= 1
    table_choice = "A data-factory table" if lang == "en" else "数据工厂中的表"
    next(r for r in at.radio if (r.key or "").startswith("apply_how.results")).set_value(table_choice).run()
    next(s for s in at.selectbox if (s.key or "").startswith("apply_table.results")).set_value("tf_test").run()
    next(b for b in at.button if (b.key or "").startswith("apply_go.results")).click().run()
    assert not at.error, [e.value for e in at.error]
    shown = at.dataframe[-1].value
    assert {"unit", "cycle", "prediction", "prediction_low", "prediction_high"} <= set(shown.columns)


@pytest.fixture
def wind_run(db):
    from engine.sim.wind import make_wind_farm

    farm = make_wind_farm(turbines=6, days=150, faulty=3, seed=4)
    api.ingest_frame(farm.frame, "wind_small", db=db)
    recipe = api.read_recipe(REPO / "recipes" / "pdm_wind_sim.yaml")
    recipe["data"] = {"table": "wind_small"}
    recipe["params"].update({"folds": 3, "n_estimators": 30})
    return api.run_recipe(recipe, db=db)["run_id"]


@pytest.mark.parametrize("lang, words", [
    ("en", ("Units ranked by risk now", "Sensors that drive the risk", "Health over time", "Alarm timeline")),
    ("zh", ("当前风险排序", "驱动风险的传感器", "健康随时间变化", "报警时间线"))])
def test_normal_behaviour_results_show_ranking_sensors_curves_and_alarm_timeline(wind_run, lang, words):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["results_run"] = wind_run
    at.run()
    at.switch_page("pages/results.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    texts = " ".join(m.value for m in at.markdown)
    for word in words:
        assert word in texts, word
    assert len(at.get("plotly_chart")) >= 2  # the residual curves (with the alarm level) and the alarm timeline
