"""The model search from the command line: leaderboard in result.json and the report, bad input exits 2 naming the
parameter, a recipe pinned to the older template version still runs."""

from __future__ import annotations

import json

from tests.conftest import REPO, run_cli


def test_leaderboard_in_result_and_report_both_languages(demo_db, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("run", "recipes/ccpp_power.yaml", "--out", str(out), "--set", "folds=3", "--set",
                   "time_budget=3", "--set", "n_samples=200")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["template"]["version"] == "1.3.0"
    board = result["outputs"]["leaderboard"]
    assert board["rows"][0]["model"] in {"lightgbm_default", "lightgbm_tuned", "smooth"}
    assert any(r["model"] == "lightgbm_default" for r in board["rows"])
    assert result["metrics"]["nested"] is True
    for lang, title in (("en", "Models compared"), ("zh", "模型比较")):
        report = tmp_path / f"r_{lang}.html"
        proc = run_cli("report", result["run_id"], "--format", "html", "--lang", lang, "--out", str(report))
        assert proc.returncode == 0, proc.stderr
        text = report.read_text(encoding="utf-8")
        assert title in text and "LightGBM" in text


def test_bad_input_exits_2_naming_the_parameter(demo_db, tmp_path):
    proc = run_cli("run", "recipes/ccpp_power.yaml", "--set", "time_budget=0", "--out", str(tmp_path / "a"))
    assert proc.returncode == 2 and "params.time_budget" in proc.stderr
    proc = run_cli("run", "recipes/ccpp_power.yaml", "--set", "candidates=lightgbm_tuned,xgboost",
                   "--out", str(tmp_path / "b"))
    assert proc.returncode == 2 and "params.candidates" in proc.stderr and "xgboost" not in proc.stdout
    small = tmp_path / "small.csv"
    small.write_text("\n".join((REPO / "data/demo/ccpp.csv").read_text().splitlines()[:16]) + "\n")
    assert run_cli("ingest", str(small), "--table", "small").returncode == 0
    recipe = tmp_path / "small.yaml"
    recipe.write_text((REPO / "recipes/ccpp_power.yaml").read_text().replace("table: ccpp", "table: small"))
    proc = run_cli("run", str(recipe), "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "params.folds" in proc.stderr and "15 rows" in proc.stderr


def test_a_recipe_pinned_to_the_older_version_still_runs(demo_db, tmp_path):
    recipe = tmp_path / "old.yaml"
    recipe.write_text((REPO / "recipes/ccpp_power.yaml").read_text().replace("template: quick_model\n",
                                                                           "template: quick_model@1.0.0\n"))
    proc = run_cli("run", str(recipe), "--out", str(tmp_path / "o"), "--set", "folds=3", "--set", "n_estimators=30",
                   "--set", "n_samples=200")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "o" / "result.json").read_text(encoding="utf-8"))
    assert result["template"]["version"] == "1.0.0" and "leaderboard" not in result["outputs"]
