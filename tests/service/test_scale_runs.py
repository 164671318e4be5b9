"""A run over a table larger than the memory budget (issue 21), end to end on a small Parquet file with a tiny
budget: a time-stratified sample, only the role columns read, a learning curve in result.json and the report (zh/en),
progress reported inside the training step; and chunked scoring of a file equal to unchunked, with no chunk larger
than asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.report.model import build_report
from engine.service import scoring_apply

FEATURES = [f"x{i}" for i in range(6)]


def _plant(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, (n, len(FEATURES)))
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["y"] = 2 * frame.x0 + np.sin(frame.x1) * 3 + frame.x2 * frame.x3 / 10 + rng.normal(0, 0.3, n)
    frame["t"] = np.arange(n)
    frame["note"] = "not a role"
    return frame


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    path = folder / "plant.parquet"
    _plant(6000, 0).to_parquet(path)
    recipe = {"template": "quick_model", "name": "scale", "data": {"file": str(path)},
              "roles": {"target": "y", "controllable": FEATURES[:2], "context": FEATURES[2:], "time": "t"},
              "params": {"folds": 3, "n_samples": 200, "time_budget": 2.0}}
    events = []
    mp = pytest.MonkeyPatch()
    mp.setenv("AI_STUDIO_MEMORY_BUDGET_MB", "0.1")   # the 6,000 × 8 table is ~0.37 MB
    try:
        result = api.run_recipe(recipe, db=folder / "studio.duckdb", on_progress=events.append)
    finally:
        mp.undo()
    return result, events, folder


def test_over_the_budget_the_run_trains_on_a_time_stratified_sample(sampled_run):
    result, _, _ = sampled_run
    scale = result["scale"]
    assert scale["sampled"] and scale["rows_total"] == 6000 and scale["stratified_by"] == "t"
    assert 1000 <= scale["rows_used"] < 6000 and result["data"]["rows"] == scale["rows_used"]
    assert scale["columns_read"] == 8 and scale["columns_bound"] == 9        # 'note' was not read
    assert scale["budget_mb"] == 0.1 and scale["budget_from"] == "AI_STUDIO_MEMORY_BUDGET_MB"
    curve = scale["learning_curve"]
    assert len(curve["points"]) == 4 and curve["points"][-1]["rows"] > curve["points"][0]["rows"]
    assert result["metrics"]["r2"]["mean"] > 0.8


def test_the_report_shows_the_sample_and_the_learning_curve_in_both_languages(sampled_run):
    result, _, _ = sampled_run
    for lang, title, word in (("en", "Data size and learning curve", "sample"), ("zh", "数据规模与学习曲线", "样本")):
        section = next(s for s in build_report(result, lang)["sections"] if s["id"] == "scale")
        assert section["title"] == title
        assert any(word in b.get("text", "") for b in section["blocks"])
        assert any(b["kind"] == "figure" for b in section["blocks"])


def test_progress_is_reported_inside_the_training_step(sampled_run):
    _, events, _ = sampled_run
    inside = [e for e in events if e.step == "train" and "outer fold" in str(e.message)]
    assert len({str(e.message) for e in inside}) >= 3
    assert any(e.index / e.total < e.fraction < (e.index + 1) / e.total for e in inside)
    assert any("2/3" in str(e.message) for e in inside) and any(getattr(e.message, "zh", "") != str(e.message)
                                                                 for e in inside)


def test_chunked_scoring_equals_unchunked_and_reads_a_chunk_at_a_time(sampled_run, monkeypatch):
    result, _, folder = sampled_run
    new = folder / "new.parquet"
    _plant(5000, 1).to_parquet(new, row_group_size=5000)
    db = folder / "studio.duckdb"
    whole = api.score(result["run_id"], new, db=db, collect=True, chunk_rows=10_000).frame
    sizes = []
    real = scoring_apply.Source.iter_frames

    def spy(self, columns, chunk_rows):
        for frame in real(self, columns, chunk_rows):
            sizes.append(len(frame))
            yield frame
    monkeypatch.setattr(scoring_apply.Source, "iter_frames", spy)
    out = folder / "pred.parquet"
    chunked = api.score(result["run_id"], new, db=db, out=out, chunk_rows=700)
    assert chunked.rows == 5000 and max(sizes) <= 700 and len(sizes) == 8
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), pd.read_parquet(out).reset_index(drop=True))
