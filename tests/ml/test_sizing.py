"""Model costs that do not grow with the table (issue 21): searches on samples, only the pick and the default
refitted per outer fold on a big table, SHAP on a sample, the learning curve on a sampled table, and progress
reported inside the step (fold k of K), all with the size thresholds lowered so the tables stay small."""

from __future__ import annotations

import numpy as np

from engine.ml import candidates as cand
from engine.ml import model_search, sizing
from engine.operators.model_search import ModelSearchParams, search
from engine.pipeline.context import StepContext
from engine.sim.tiny import tiny_plant

FEATURES = ["temp", "speed", "humidity", "shift"]


def test_spread_keeps_every_stretch_of_the_key():
    rows = np.arange(10_000)
    key = np.random.default_rng(0).permutation(10_000).astype(float)
    picked = sizing.spread(rows, 100, key)
    assert len(picked) == 100 and np.all(np.diff(picked) > 0)
    deciles = np.histogram(key[picked], bins=10, range=(0, 10_000))[0]
    assert deciles.min() >= 9 and deciles.max() <= 11          # stratified along the key
    assert np.array_equal(sizing.spread(rows[:50], 100, key), rows[:50])


def test_explain_rows_cut_every_fold_to_an_equal_share():
    tests = [np.arange(0, 5000), np.arange(5000, 9000), np.arange(9000, 9100)]
    cut = sizing.explain_rows(tests, seed=0, cap=600)
    assert [len(c) for c in cut] == [200, 200, 100] and all(np.isin(c, t).all() for c, t in zip(cut, tests))


def test_a_big_table_searches_on_samples_and_refits_only_the_pick_and_the_default(monkeypatch):
    monkeypatch.setattr(sizing, "BIG_ROWS", 300)
    monkeypatch.setattr(sizing, "SEARCH_ROWS", 150)
    monkeypatch.setattr(sizing, "EXPLAIN_ROWS", 90)
    fits = []
    real_fit = cand.fit_lgbm
    monkeypatch.setattr(cand, "fit_lgbm", lambda x, *a, **k: (fits.append(len(x)), real_fit(x, *a, **k))[1])
    binned = []
    real_binned = cand.fit_binned
    monkeypatch.setattr(cand, "fit_binned", lambda full, rows, *a: (binned.append(len(rows)),
                                                                    real_binned(full, rows, *a))[1])
    messages = []
    ctx = StepContext("t", "train", 0, report=lambda f, m: messages.append((f, str(m))))
    frame = tiny_plant(600)
    out = search(ModelSearchParams(target="yield", features=FEATURES, folds=3, time_budget=20.0,
                                   candidates=["lightgbm_default", "smooth"]), ctx, frame)
    outer_train = 400                                       # 3 shuffled folds of 600 rows
    k = model_search.inner_count(len(frame))
    assert max(f for f in fits if f < outer_train) <= 150 * (k - 1) / k   # inner fits: (k-1)/k of a 150-row sample
    assert not [f for f in fits if f >= outer_train]        # no full-size fit copies its rows ...
    assert binned == [outer_train] * 3                      # ... the default's refits share one binned table
    assert out["metrics"]["r2"]["mean"] > 0.5
    assert out["report"]["sizing"]["final_model_from"].startswith("outer fold 3")   # not refitted: shuffled folds
    binned.clear()
    timed = search(ModelSearchParams(target="yield", features=FEATURES, folds=3, time="t", time_budget=5.0,
                                     candidates=["lightgbm_default"]), ctx, frame.assign(t=np.arange(600)))
    assert binned[-1] == 600 and timed["report"]["sizing"]["final_model_from"] == "every row"   # newest rows
    board = out["leaderboard"]
    assert any(s["family"] == "smooth" and "big table" in s["reason"] for s in board["skipped"])
    sizing_report = out["report"]["sizing"]
    assert sizing_report["big_table"] and sizing_report["search_sampled"]
    assert sizing_report["explain_rows"] == 90 and "learning_curve" not in sizing_report   # not a sampled table
    inside = [m for f, m in messages if "outer fold 2/3" in m]
    assert inside and any("refitting" in m for m in inside)  # progress inside the step names the fold
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) or max(fractions) <= 1.0
    assert any(0.3 < f < 0.95 for f in fractions)


def test_a_sampled_table_gets_a_learning_curve():
    frame = tiny_plant(400)
    frame.attrs["sample"] = {"rows_total": 4000, "rows_used": 400}   # what the data binding marks
    out = search(ModelSearchParams(target="yield", features=FEATURES, folds=3, time_budget=5.0,
                                   candidates=["lightgbm_default"]), StepContext("t", "train", 0), frame)
    curve = out["report"]["sizing"]["learning_curve"]
    rows = [p["rows"] for p in curve["points"]]
    assert rows == sorted(rows) and len(rows) == 4 and rows[-1] in (266, 267)   # the last fold's 2/3 of 400 rows
    assert curve["rows_total"] == 4000 and curve["metric"] == "r2"
    assert curve["points"][-1]["mean"] == out["leaderboard"]["rows"][0]["folds"][-1]   # that fold's own refit
    assert {"en", "zh", "more_rows_help"} <= set(curve["verdict"])


def test_the_dominant_share_of_a_big_column_is_exact_without_hashing():
    import pandas as pd

    from engine.operators.clean import _dominant_share

    rng = np.random.default_rng(0)
    columns = [rng.uniform(0, 10, 200_000), np.where(rng.random(200_000) < 0.997, 5.0, rng.random(200_000)),
               np.where(rng.random(200_000) < 0.6, np.nan, 1.0), np.where(rng.random(200_000) < 0.7, 2.0, np.nan)]
    for values in columns:
        s = pd.Series(values)
        exact = float(s.value_counts(normalize=True, dropna=False).iloc[0])
        fast = _dominant_share(s, 0.995)
        assert fast == exact or (exact <= 0.5 and fast <= 0.5)


def test_the_classification_cut_is_the_same_computed_at_once():
    from sklearn.metrics import balanced_accuracy_score

    from engine.operators.model_search import _threshold

    rng = np.random.default_rng(0)
    for n in (60, 5000):
        y = (rng.random(n) < 0.1).astype(float)
        pred = np.clip(y * 0.3 + rng.random(n) * 0.8, 0, 1)
        grid = np.unique(np.quantile(pred, np.linspace(0.0, 1.0, 101)))
        slow = grid[int(np.argmax([balanced_accuracy_score(y, (pred >= t).astype(int)) for t in grid]))]
        assert _threshold(y, pred) == slow
