"""The report of a recipe-tuning run (tests/fixtures/tuning_result.json: recipes/tuning_rubber_sim.yaml as run) shows
the cost at baseline and recommendation and the quality-vs-cost front."""

from __future__ import annotations

import json

import pytest

from engine.report import build_report
from engine.report.text import num
from tests.conftest import REPO


@pytest.mark.parametrize("lang, cost_word", [("en", "Cost per unit"), ("zh", "单位成本")])
def test_cost_and_front_are_in_the_recommendations_section(lang, cost_word):
    result = json.loads((REPO / "tests" / "fixtures" / "tuning_result.json").read_text(encoding="utf-8"))
    report = build_report(result, lang)
    text = json.dumps(report, ensure_ascii=False)
    assert cost_word in text and num(result["predicted"]["cost"]["recommended"]) in text
    section = next(s for s in report["sections"] if s["id"] == "recommendations")
    front = [b for b in section["blocks"] if b["kind"] == "table"][-1]
    assert len(front["rows"]) == len(result["outputs"]["pareto"])
    assert front["rows"][0][1] == num(result["outputs"]["pareto"][0]["cost"])
