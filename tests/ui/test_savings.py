"""The results page shows an energy run's saving (% and money per year), in the page language."""

from __future__ import annotations

from engine import api
from tests.ui.test_pages import REPO, open_results


def test_results_show_the_energy_saving(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "energy_ccpp.yaml")
    recipe["params"].update({"n_estimators": 40, "folds": 3})
    run_id = api.start_run(recipe)
    assert api.wait_run(run_id, 180)["status"] == "succeeded"
    savings = api.load_result(run_id)["savings"]
    for lang, labels in (("en", {"Energy saving", "Saving per year (CNY/yr)"}), ("zh", {"节能", "年节约金额（CNY/yr）"})):
        at = open_results(run_id, lang)
        metrics = {m.label: m.value for m in at.metric}
        assert labels <= set(metrics), metrics
        money = metrics[next(label for label in labels if "CNY" in label)]
        assert money == f"{savings['money_per_year']['value']:,.0f}"
