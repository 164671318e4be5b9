"""Results page: the model-search leaderboard and the parameters judged copies, in en and zh."""

from __future__ import annotations

import json
from pathlib import Path

from engine import api
from tests.ui.test_pages import REPO, open_results


def test_results_page_shows_the_leaderboard_and_the_copies(demo_db):
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["template"] = "quick_model@1.1.0"
    recipe["params"].update({"n_samples": 200, "folds": 3, "time_budget": 2.0})
    run_id = api.start_run(recipe)
    assert api.wait_run(run_id, 240)["status"] == "succeeded"
    result = api.load_result(run_id)
    assert result["outputs"]["leaderboard"]["rows"]
    # copies come from the yield template (slow to run here): the page only lays out what result.json holds
    result["outputs"]["copies"] = [{"copy": "water_pv", "of": "water", "corr": 0.97, "judged_copy": True,
                                    "p_copy_adds": 0.4, "p_driver_adds": 1e-9,
                                    "overruled_by_force": False}]
    run_dir = Path(api.get_run(run_id)["run_dir"])
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    for lang, board, copies in (("en", "Models compared", "Parameters judged copies of others"),
                                ("zh", "模型比较", "被判定为其他参数副本的参数")):
        at = open_results(run_id, lang)
        titles = [s.value for s in at.subheader]
        assert board in titles and copies in titles, titles
        tables = [df.value for df in at.dataframe]
        assert any("water_pv" in t.to_string() for t in tables)
        assert any("LightGBM" in t.to_string() for t in tables)
