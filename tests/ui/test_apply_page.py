"""AppTest: "apply to new data" on the Results and History pages (pick a table or upload a file, preview, keep as
a table; a file missing a column names it and writes nothing)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine import api
from tests.conftest import open_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def concrete_run(demo_db):
    return api.run_recipe(REPO / "recipes" / "concrete_strength.yaml", db=demo_db,
                          overrides=["folds=3", "n_estimators=40", "n_samples=200"])["run_id"]


def _by_key(widgets, prefix: str):
    return next(w for w in widgets if (w.key or "").startswith(prefix))


def test_results_page_scores_a_table_and_keeps_the_predictions(concrete_run, demo_db):
    at = open_app("pages/results.py", "en", results_run=concrete_run)
    assert "Apply to new data" in [s.value for s in at.subheader]
    _by_key(at.radio, "apply_how.results").set_value("A data-factory table").run()
    _by_key(at.selectbox, "apply_table.results").set_value("concrete").run()
    _by_key(at.multiselect, "apply_keep.results").set_value(["age_days"]).run()
    _by_key(at.button, "apply_go.results").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("1,030 rows scored" in s.value for s in at.success)
    shown = at.dataframe[-1].value
    assert list(shown.columns) == ["age_days", "prediction", "prediction_low", "prediction_high", "out_of_range"]
    assert len(shown) == 200
    _by_key(at.text_input, "apply_into.results").set_value("concrete_scored").run()
    _by_key(at.button, "apply_save.results").click().run()
    assert any("concrete_scored" in s.value for s in at.success)
    assert api.catalog(demo_db).table_info("concrete_scored").rows == 1030


def test_history_page_upload_in_chinese_and_a_missing_column_is_named(concrete_run, tmp_path):
    at = open_app("pages/history.py", "zh")
    assert any(e.label.startswith("应用到新数据") for e in at.expander)
    good = pd.read_csv(REPO / "data" / "demo" / "concrete.csv").head(30)
    uploader = _by_key(at.get("file_uploader"), "apply_file.history")
    uploader.upload("batches.csv", good.to_csv(index=False).encode(), "text/csv").run()
    _by_key(at.button, "apply_go.history").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("已为 30 行打分" in s.value for s in at.success)
    bad = good.drop(columns=["water"])
    uploader = _by_key(at.get("file_uploader"), "apply_file.history")
    uploader.upload("bad.csv", bad.to_csv(index=False).encode(), "text/csv").run()
    _by_key(at.button, "apply_go.history").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "water" in errors and "缺失" in errors and "upload" not in errors.lower()
