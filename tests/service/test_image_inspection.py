"""The image_inspection template end to end on a few tiny generated cells: run, result, report, scoring."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.core.errors import InvalidInput
from engine.service.image_demo import write_cells
from engine.sim.solar_cells import CellConfig, make_cells

TINY = CellConfig(size=64, grains=8, contrast=(0.5, 0.6))
RECIPE = {"template": "image_inspection", "name": "tiny cells", "data": {"table": "cells"},
          "roles": {"image": "path", "target": "label"},
          "params": {"folds": 3, "classifier": "svm_linear", "gallery": 4}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One run shared by the tests below (its own data factory, passed explicitly)."""
    tmp = tmp_path_factory.mktemp("images")
    db = tmp / "home" / "studio.duckdb"
    write_cells(make_cells(30, ("ok", "dark_region", "crack"), seed=0, config=TINY), tmp / "cells")
    api.ingest(tmp / "cells", "cells", db=db)
    return api.run_recipe(RECIPE, db=db), db


@pytest.fixture
def cells_run(trained):
    return trained[0]


def test_run_gives_metrics_gallery_and_ok_vs_defect(cells_run):
    m, ins = cells_run["metrics"], cells_run["outputs"]["inspection"]
    assert m["task"] == "image_classification" and m["images"] == 30 and m["classifier"] == "svm_linear"
    assert 0.5 < m["balanced_accuracy"] <= 1 and len(m["balanced_accuracy_folds"]) == 3
    assert sum(map(sum, ins["confusion"]["matrix"])) == 30 and ins["classes"] == ["crack", "dark_region", "ok"]
    assert ins["ok_vs_defect"]["ok_label"] == "ok" and 0 <= ins["ok_vs_defect"]["threshold"] <= 1
    assert ins["timings"]["judge_one_image_seconds"]["median_ms"] > 0
    assert all(g["thumbnail"].startswith("data:image/png;base64,") for g in ins["gallery"])
    assert ins["feature_families"] and {"name", "importance", "label"} <= set(ins["feature_families"][0])
    assert cells_run["scoring"]["available"]


def test_report_in_both_languages_holds_the_gallery(cells_run, trained, tmp_path):
    db = trained[1]
    for lang, word in (("en", "Confusion matrix"), ("zh", "混淆矩阵")):
        text = api.write_report(cells_run["run_id"], tmp_path / f"r_{lang}.html", lang=lang, db=db).read_text("utf-8")
        assert word in text and ('class="gallery"' in text or "No image was misclassified" in text or "没有误判" in text)


def test_score_a_folder_and_a_table(cells_run, trained, tmp_path):
    db = trained[1]
    write_cells(make_cells(6, ("ok", "dark_region"), seed=5, config=TINY), tmp_path / "new")
    frame = api.score_images(cells_run["run_id"], tmp_path / "new", db=db)
    assert len(frame) == 6 and {"file", "label", "prediction", "probability", "verdict", "p_ok"} <= set(frame.columns)
    assert frame["probability"].between(0, 1).all()
    assert len(api.score_images(cells_run["run_id"], "cells", db=db)) == 30
    (tmp_path / "new" / "ok" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(InvalidInput, match="ok/broken.png"):
        api.score_images(cells_run["run_id"], tmp_path / "new", db=db)


def test_too_few_images_of_a_class_is_a_clear_error(tmp_path, db):
    write_cells(make_cells(12, ("ok", "crack"), seed=0, config=TINY), tmp_path / "few")   # 6 of each class
    api.ingest(tmp_path / "few", "cells", db=db)
    with pytest.raises(Exception, match="too few images"):
        api.run_recipe({**RECIPE, "params": {**RECIPE["params"], "folds": 7}}, db=db)


def test_demo_recipe_compiles_on_an_ingested_folder(tmp_path, db):
    write_cells(make_cells(12, ("ok", "spot"), seed=1, config=TINY), tmp_path / "c")
    api.ingest(tmp_path / "c", "solar_cells_sim", db=db)
    recipe = Path(__file__).resolve().parents[2] / "recipes" / "image_inspection_sim.yaml"
    assert api.validate_file(recipe, db=db) == []
    bad = {**RECIPE, "data": {"table": "solar_cells_sim"}, "roles": {"image": "width", "target": "label"}}
    with pytest.raises(InvalidInput, match="width"):
        api.compile_recipe(bad, db=db)


def test_role_guess_of_an_image_table(tmp_path, db):
    write_cells(make_cells(6, ("ok", "crack"), seed=2, config=TINY), tmp_path / "g")
    api.ingest(tmp_path / "g", "cells", db=db)
    template = next(t for t in api.list_templates() if t.id == "image_inspection")
    guess = api.guess_table_roles("cells", template, db=db)
    assert guess.roles["image"] == ["path"] and guess.roles["target"] == ["label"] and "sha256" in guess.roles["ignore"]


def test_cli_score_a_folder_with_the_saved_model(cells_run, trained, tmp_path):
    from tests.conftest import run_cli

    db = trained[1]
    assert cells_run["scoring"]["available"] and cells_run["scoring"]["kind"] == "image_classifier"
    write_cells(make_cells(5, ("ok", "crack"), seed=3, config=TINY), tmp_path / "new")
    out = tmp_path / "scores.csv"
    proc = run_cli("score", cells_run["run_id"], "--data", str(tmp_path / "new"), "--out", str(out), "--db", str(db))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import pandas as pd

    frame = pd.read_csv(out)
    assert len(frame) == 5 and {"file", "prediction", "probability"} <= set(frame.columns)
    table = api.score(cells_run["run_id"], table="cells", keep=["label"], db=db)
    assert table.rows == 30 and {"label", "file", "prediction", "verdict"} <= set(table.frame.columns)
    (tmp_path / "new" / "ok" / "zero.png").write_bytes(b"")
    proc = run_cli("score", cells_run["run_id"], "--data", str(tmp_path / "new"), "--db", str(db))
    assert proc.returncode == 2 and "ok/zero.png" in proc.stdout + proc.stderr
