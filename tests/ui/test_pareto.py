"""ui/pareto.py: the quality-vs-cost chart drawn from result.json's outputs.pareto and predicted.cost."""

from __future__ import annotations

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
