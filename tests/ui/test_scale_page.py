"""Results page (issue 21): rows used of rows bound, samples and the learning curve, in en and zh; the Run page
names the memory budget setting."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import api
from tests.ui.test_pages import REPO, open_results

SCALE = {"rows_total": 10_000_000, "rows_used": 2_900_000, "sampled": True, "budget_mb": 2400.0,
         "budget_from": "default", "table_mb": 8000.0, "stratified_by": "t", "stratum_role": "time",
         "big_table": True, "search_rows_max": 50_000, "explain_rows": 20_000,
         "learning_curve": {"points": [{"rows": 290_000, "mean": 0.91, "metric": "r2"},
                                       {"rows": 580_000, "mean": 0.93, "metric": "r2"},
                                       {"rows": 1_160_000, "mean": 0.94, "metric": "r2"},
                                       {"rows": 2_320_000, "mean": 0.95, "metric": "r2"}],
                            "metric": "r2", "fold": 5, "rows_total": 10_000_000, "last_doubling_gain": 0.01,
                            "verdict": {"more_rows_help": True, "en": "more rows would likely help",
                                        "zh": "更多数据很可能有帮助"}}}


def test_results_page_shows_rows_used_and_the_learning_curve(demo_db):
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({"n_samples": 200, "folds": 3, "n_estimators": 40})
    run_id = api.run_recipe(recipe)["run_id"]
    run_dir = Path(api.get_run(run_id)["run_dir"])
    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    result["scale"] = SCALE               # what a 10 M-row run over the budget writes (the page lays it out)
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    for lang, title, words, curve in (("en", "Data size and learning curve", "2,900,000 rows", "more rows would"),
                                      ("zh", "数据规模与学习曲线", "2,900,000 行", "更多数据")):
        at = open_results(run_id, lang)
        assert title in [s.value for s in at.subheader]
        assert any(words in m.value for m in at.markdown), [m.value for m in at.markdown][:20]
        assert any(curve in c.value for c in at.caption)


def test_run_page_names_the_memory_budget(demo_db, monkeypatch):
    monkeypatch.setenv("AI_STUDIO_MEMORY_BUDGET_MB", "777")
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({"n_samples": 200, "folds": 3, "n_estimators": 40})
    run_id = api.run_recipe(recipe)["run_id"]
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["current_run"] = run_id
    at.run()
    at.switch_page("pages/run.py").run()
    assert not at.exception
    assert any("Memory budget for the training table (MB): 777" in c.value for c in at.caption)
