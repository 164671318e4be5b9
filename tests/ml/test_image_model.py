"""Classifier choice by nested CV, the metrics, and the OK-vs-defect cut for a maximum escape rate."""

import numpy as np

from engine.ml import image_model as im


def test_allowed_escapes_holds_the_rate_with_confidence():
    assert im.allowed_escapes(50, 0.02) == -1            # 50 defects cannot prove 2 % at 90 %
    k = im.allowed_escapes(1000, 0.02)
    assert 0 < k < 20                                    # fewer than the naive 20
    assert im.allowed_escapes(1000, 0.02, confidence=0.5) >= k
    needed = im.defects_needed(0.02)
    assert im.allowed_escapes(needed, 0.02) == 0 and im.allowed_escapes(needed - 1, 0.02) == -1


def test_escape_threshold_passes_at_most_the_allowed_defects():
    rng = np.random.default_rng(0)
    p = np.r_[rng.uniform(0.0, 0.6, 500), rng.uniform(0.3, 1.0, 1000)]
    defect = np.r_[np.zeros(500, bool), np.ones(1000, bool)]
    cut = im.escape_threshold(p, defect, 0.02)
    assert ((p < cut) & defect).sum() <= im.allowed_escapes(1000, 0.02)


def test_nested_selection_metrics_and_ok_vs_defect():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 40)
    x = rng.normal(size=(120, 6)) + np.eye(3)[y] @ rng.normal(0, 3, size=(3, 6))
    sel = im.select_and_fit(x, y, folds=3, candidates=("svm_linear", "svm_rbf"), budget_s=60)
    assert len(sel.chosen) == 3 and sel.final_name in ("svm_linear", "svm_rbf")
    assert np.allclose(sel.oof.sum(axis=1), 1.0)
    m = im.class_metrics(y, sel.oof, ["crack", "ok", "spot"], sel.folds)
    assert m["balanced_accuracy"] > 0.9 and np.array(m["confusion"]["matrix"]).sum() == 120
    assert [c["class"] for c in m["per_class"]] == ["crack", "ok", "spot"]
    assert im.ok_class(["crack", "OK", "spot"]) == "OK" and im.ok_class(["a", "b"]) is None
    d = im.ok_vs_defect(sel.oof, y, 1, sel.folds, 0.05)
    assert d["proven"] and d["defects_needed"] == im.defects_needed(0.05)
    assert d["defects"] == 80 and 0 <= d["reinspection_rate"] <= 1 and d["curve"][0]["escape_rate"] == 0


def test_budget_leaves_out_the_slowest_candidates():
    keep, left = im._fit_budget(["a", "b", "c"], {"a": 1.0, "b": 5.0, "c": 50.0}, 5, 80.0, 0.0)
    assert keep == ["a", "b"] and left == ["c"]
