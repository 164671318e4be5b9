"""The recipe_tuning template end to end from the CLI on the bundled Concrete data (a small, quick version)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.conftest import REPO, run_cli

MIX = ["cement", "slag", "fly_ash", "water", "superplasticizer", "coarse_agg", "fine_agg"]


@pytest.mark.slow
def test_concrete_cheapest_mix_for_40_mpa_from_the_cli(studio_home, tmp_path):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    assert run_cli("ingest", "data/demo/concrete.csv", "--table", "concrete", env=env).returncode == 0
    out = tmp_path / "out"
    proc = run_cli("run", "recipes/tuning_concrete.yaml", "--out", str(out), "--set", "n_estimators=30",
                   "--set", "folds=3", "--set", "pareto_points=3", "--set", "time_limit=4", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    p = result["predicted"]
    assert result["template"]["id"] == "recipe_tuning" and p["method"] == "milp"
    assert p["objective"] == "min_cost" and p["recommended"]["value"] >= 40.0 - 1e-9
    assert p["verification"]["ok"] and all(c["ok"] for c in p["constraints"])
    assert p["solver"]["status"] in ("optimal", "time_limit") and p["solver"]["gap"] is not None
    values = {r["name"]: r["value"] for r in result["recommendations"]}
    sums = pd.read_csv(REPO / "data" / "demo" / "concrete.csv")[MIX].sum(axis=1)
    total = sum(values[c] for c in MIX)
    assert sums.quantile(0.01) - 1e-6 <= total <= sums.quantile(0.99) + 1e-6
    prices = p["cost"]["prices"]
    assert p["cost"]["recommended"] == pytest.approx(sum(prices[c] * values[c] for c in MIX), rel=1e-9)
    front = result["outputs"]["pareto"]
    assert len(front) == 3 and all(e["verified"] for e in front)
    strengths = [e["quality"]["value"] for e in front]
    assert strengths == sorted(strengths)
    assert any(row["name"] == "cement" for row in result["key_parameters"])
