"""Real browser (issue 21): the Results page's data-size section with its learning curve, drawn for a run that
trained on a sample of a big table (the result.json section as a 10 M-row run writes it)."""

from __future__ import annotations

import json
from pathlib import Path

from engine import api
from tests.ui.test_browser import browser_page, login, server, settle, shot  # noqa: F401  (fixtures)
from tests.ui.test_pages import REPO
from tests.ui.test_scale_page import SCALE


def test_results_page_draws_the_learning_curve(server, browser_page, studio_home):  # noqa: F811
    api.ensure_demo(studio_home / "studio.duckdb")
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({"n_samples": 200, "folds": 3, "n_estimators": 40})
    run_id = api.run_recipe(recipe)["run_id"]
    path = Path(api.get_run(run_id)["run_dir"]) / "result.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    result["scale"] = SCALE
    path.write_text(json.dumps(result), encoding="utf-8")
    page = browser_page
    page.goto(f"{server}/results?result={run_id}")
    login(page)                      # the page asked for, once signed in
    section = page.get_by_text("Data size and learning curve")
    section.scroll_into_view_if_needed()
    assert page.get_by_text("a sample spread evenly along time (t)").count() == 1
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.last.wait_for()
    assert charts.count() >= 1
    page.get_by_text("Learning curve — default LightGBM").scroll_into_view_if_needed()
    shot(page, "scale_results_learning_curve")
