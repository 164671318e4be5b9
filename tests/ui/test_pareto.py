"""ui/pareto.py: the quality-vs-cost chart drawn from result.json's outputs.pareto and predicted.cost."""

from __future__ import annotations

import pytest

from engine import api
from tests.ui.test_pages import REPO, open_results
from ui.pareto import pareto_chart



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
        at = open_results(run_id, lang)
        assert label in [m.label for m in at.metric]
