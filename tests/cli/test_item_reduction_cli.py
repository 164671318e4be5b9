"""End to end: the bundled recipe runs from the CLI on the simulated test table and writes its result block."""

from __future__ import annotations

import json

import pytest

from engine.sim.check_items import make_test_line

from engine.api import ingest_frame
from tests.conftest import REPO, run_cli


@pytest.mark.slow
def test_recipe_runs_from_the_cli(db, studio_home, tmp_path):
    line = make_test_line(products=1500)               # the demo table's items and limits, fewer products
    ingest_frame(line.frame, "test_items_sim", db=db)
    out = tmp_path / "out"
    done = run_cli("run", str(REPO / "recipes" / "test_reduction_sim.yaml"), "--out", str(out), "--set", "folds=3",
                   "--set", "max_miss_rate=0.01", env={"AI_STUDIO_HOME": str(studio_home)})
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    block = result["test_reduction"]
    assert result["template"]["id"] == "test_item_reduction" and result["status"] == "succeeded"
    assert block["items_total"] == 300 and block["reduction_pct"] >= 25
    assert set(line.truth.mandatory) <= {k["name"] for k in block["kept"]}
    assert block["miss_rate"]["value"] <= 0.01 and block["limits"]["inferred"] == 0
    assert result["metrics"]["miss_rate"]["folds"] and result["key_parameters"]
    assert "test_reduction" not in result["outputs"]
    from engine.report.model import build_report

    report = build_report(result, "zh")
    assert report["title"] == "测试项精简报告"
    titles = [s["title"] for s in report["sections"]]
    assert titles[:3] == ["摘要", "保留项数与漏检率（留出产品）", "保留与删除的测试项"]
    kept_table = report["sections"][2]["blocks"][0]
    assert len(kept_table["rows"]) == block["items_kept"]
