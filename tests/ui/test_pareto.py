"""ui/pareto.py: the quality-vs-cost chart drawn from result.json's outputs.pareto and predicted.cost."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import api
from ui.pareto import pareto_chart

REPO = Path(__file__).resolve().parents[2]


def test_front_baseline_and_recommendation_are_drawn():
    front = [{"budget": b, "cost": b, "quality": {"value": q, "low": q - 2, "high": q + 1}, "status": "optimal",
              "gap": 0.0, "verified": True, "reused": False} for b, q in ((40.0, 12.0), (60.0, 50.0), (80.0, 70.0))]
    predicted = {"target": "strength_mpa", "baseline": {"value": 31.0}, "recommended": {"value": 41.0},
                 "cost": {"baseline": 79.5, "recommended": 52.0}}
    fig = pareto_chart(front, predicted)
    line, base, rec = fig.data
    assert list(line.x) == [40.0, 60.0, 80.0] and list(line.y) == [12.0, 50.0, 70.0]
    assert list(line.error_y.array) == [1.0, 1.0, 1.0] and list(line.error_y.arrayminus) == [2.0, 2.0, 2.0]
    assert (base.x[0], base.y[0]) == (79.5, 31.0) and (rec.x[0], rec.y[0]) == (52.0, 41.0)
    assert fig.layout.yaxis.title.text == "strength_mpa"


@pytest.mark.slow
def test_results_page_shows_the_cost_and_the_front_of_a_tuning_run(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "tuning_concrete.yaml")
    recipe["params"].update({"n_estimators": 30, "folds": 3, "pareto_points": 3, "time_limit": 3.0})
    run_id = api.start_run(recipe)
    assert api.wait_run(run_id, 300)["status"] == "succeeded"
    for lang, label in (("en", "Cost of the recommendation"), ("zh", "推荐配方成本")):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.session_state["lang"] = lang
        at.session_state["results_run"] = run_id
        at.run()
        at.switch_page("pages/results.py").run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert label in [m.label for m in at.metric]
