"""The yield_improvement template end to end on the simulated line, scored against the simulator's truth."""

from __future__ import annotations

import json

import pytest

from engine import api
from engine.pipeline.result import CONTRACT_KEYS
from engine.sim.yield_line import CONTEXT, make_line, recipe_for

FAST = {"n_estimators": 120, "learning_rate": 0.1, "screen_trees": 100, "folds": 3, "n_samples": 5000, "curves": 6,
        "bag": 3, "solver_time": 20.0}


@pytest.fixture(scope="module")
def line():
    return make_line(n_params=150, n_drivers=10, rows=1500, seed=3)


@pytest.fixture(scope="module")
def studio(line, tmp_path_factory):
    """One data factory for the module, so the second run reuses the cached model steps."""
    home = tmp_path_factory.mktemp("yield")
    path = home / "line.parquet"
    line.frame.to_parquet(path, index=False)

    def run(expert: dict | None = None, out_dir=None):
        recipe = recipe_for(line, {"file": str(path)}, **FAST)
        recipe["expert"] = expert or {}
        return api.run_recipe(recipe, db=home / "studio.duckdb", out_dir=out_dir)
    return run, home


@pytest.fixture(scope="module")
def result(studio):
    run, home = studio
    return run(out_dir=home / "out"), home


def test_finds_the_drivers_and_captures_the_uplift(line, result):
    result, home = result
    assert result["status"] == "succeeded"
    on_disk = json.loads((home / "out" / "result.json").read_text(encoding="utf-8"))
    assert set(CONTRACT_KEYS) <= set(on_disk)
    assert {"curves", "groups", "leakage", "cleaning", "key_model_metrics"} <= set(on_disk["outputs"])

    keys = result["key_parameters"]
    assert len(keys) == 30 and keys[0]["rank"] == 1
    assert line.recall([k["name"] for k in keys]) >= 0.7
    recommended = {r["name"]: r["value"] for r in result["recommendations"]}
    assert set(recommended) <= set(line.controllable) & {k["name"] for k in keys}
    assert line.captured_share(recommended) >= 0.5

    envelope = line.envelope()
    for rec in result["recommendations"]:
        lo, hi = envelope[rec["name"]]
        assert lo - 1e-9 <= rec["low"] <= rec["value"] <= rec["high"] <= hi + 1e-9
    assert result["predicted"]["recommended"]["value"] > result["predicted"]["baseline"]["value"]


def test_leaks_constants_and_copies_are_handled(line, result):
    result, _ = result
    outputs = result["outputs"]
    assert [f["name"] for f in outputs["leakage"]["flagged"]] == ["final_inspection_a_pct"]
    dropped = {d["name"] for d in outputs["cleaning"]["dropped_columns"]}
    assert {"line_id", "recipe_version", "lab_xrf_1", "lab_xrf_2"} <= dropped
    keys = {k["name"]: k for k in result["key_parameters"]}
    assert not set(keys) & {"final_inspection_a_pct", "line_id"}
    found = [d for d in line.drivers if d in keys]
    assert found and all(keys[d]["group_size"] >= 3 for d in found)   # listed once, with its two copies
    assert CONTEXT in keys
    curves = outputs["curves"]
    assert len(curves) == 6 and all(len(c["pd"]) == len(c["grid"]) == len(c["data_share_at_grid"]) for c in curves)


def test_expert_knowledge_flows_through(line, result, studio):
    result, _ = result
    run, _ = studio
    keys = [k["name"] for k in result["key_parameters"]]
    bounded = next(d for d in keys if d in line.drivers)
    pinned = next(c for c in keys if c in line.controllable and c != bounded)
    excluded = next(d for d in line.drivers if d not in (bounded, pinned))
    forced = next(c for c in line.context if c.endswith("_pv_001") or "_pv_" in c and c not in keys)
    lo, hi = line.envelope()[bounded]
    mid = (lo + hi) / 2
    expert = {"bounds": {bounded: [lo, mid]}, "pin": {pinned: float(line.baseline()[pinned])},
              "exclude": [excluded], "force": [forced]}
    again = run(expert)
    names = {k["name"] for k in again["key_parameters"]}
    assert excluded not in names and forced in names
    recs = {r["name"]: r for r in again["recommendations"]}
    assert lo - 1e-9 <= recs[bounded]["value"] <= mid + 1e-9 and recs[bounded]["expert_bounds"] is True
    assert recs[pinned]["pinned"] is True and again["predicted"]["settings"][pinned] == pytest.approx(
        line.baseline()[pinned])


def test_bundled_recipes_compile_and_the_real_data_one_runs(db, tmp_path):
    """The simulated-line recipe against a table made by scripts/make_sim_data.py; AI4I (pass/fail) end to end."""
    import subprocess
    import sys

    from tests.conftest import REPO

    api.ensure_demo(db)
    made = subprocess.run([sys.executable, "scripts/make_sim_data.py", "--db", str(db), "--rows", "300"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    pipeline = api.compile_recipe(REPO / "recipes" / "yield_sim_line.yaml", db=db)
    assert [s.id for s in pipeline.steps][-1] == "recommend"

    quick = ["screen_trees=60", "n_estimators=60", "folds=3", "n_samples=1000", "curves=3"]
    result = api.run_recipe(REPO / "recipes" / "yield_ai4i_failures.yaml", db=db, overrides=quick)
    assert result["metrics"]["task"] == "classification" and result["metrics"]["auc"]["mean"] > 0.85
    assert {"recall_minority", "balanced_accuracy"} <= set(result["metrics"])
    assert {r["name"] for r in result["recommendations"]} == {"rotational_speed_rpm", "torque_nm"}
    assert result["predicted"]["settings"]["tool_wear_min"] == 200            # a pinned context column
    assert result["predicted"]["recommended"]["value"] <= result["predicted"]["baseline"]["value"]   # fewer failures


def test_version_1_4_0_judges_copies_tests_the_boundary_and_1_3_0_still_runs(tmp_path):
    """The newest template on a line with downstream readings listed as controllables; the pinned 1.3.0 beside it."""
    line = make_line(n_params=120, n_drivers=8, rows=900, seed=5, copies_as_controllable=3)
    path = tmp_path / "line.parquet"
    line.frame.to_parquet(path, index=False)
    quick = {**FAST, "top_k": 10, "solver_time": 10.0}
    out = {}
    for version in ("1.3.0", "1.4.0"):
        recipe = recipe_for(line, {"file": str(path)}, **quick)
        recipe["template"] = f"yield_improvement@{version}"
        out[version] = api.run_recipe(recipe, db=tmp_path / "studio.duckdb")
        assert out[version]["status"] == "succeeded"
    new = out["1.4.0"]
    names = [k["name"] for k in new["key_parameters"]]
    assert len(names) == 10 and line.recall(names) >= 0.6
    assert not set(names) & set(line.copies)                             # no reading takes a driver's slot
    judged = [c for c in new["outputs"]["copies"] if c["judged_copy"]]
    assert judged and all(line.copies.get(c["copy"]) == c["of"] for c in judged)
    assert all("evidence" in k for k in new["key_parameters"])
    assert any(k["evidence"]["ranked_by"].startswith("partial F") for k in new["key_parameters"])
    recommended = {r["name"]: r["value"] for r in new["recommendations"]}
    assert not set(recommended) & set(line.copies) and line.captured_share(recommended) >= 0.5
    assert all("evidence" not in k for k in out["1.3.0"]["key_parameters"])
