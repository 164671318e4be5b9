"""model.lightgbm_cv@2: the wide pass/fail rule applies by the table's shape and task only, and says so; @3: the average
with a smooth additive model there (screened inside each fold), everything else as @2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.operators.model_wide import WIDE, LightGBMParamsV2, lightgbm_cv_v2, lightgbm_cv_v3
from engine.pipeline.context import StepContext


def _table(rows: int, cols: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols))
    fail = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 1, rows)) > 1.8
    frame = pd.DataFrame(x, columns=[f"s{j}" for j in range(cols)])
    frame["passed"] = (~fail).astype(int)
    return frame


def test_a_wide_pass_fail_table_gets_the_regularised_settings():
    frame = _table(240, 80)
    out = lightgbm_cv_v2(LightGBMParamsV2(target="passed", features=[f"s{j}" for j in range(80)], folds=3),
                         StepContext("t", "train", 0), frame)
    assert out["metrics"]["settings"]["rule"] == "wide pass/fail table"
    assert out["metrics"]["settings"]["applied"] == WIDE
    assert out["metrics"]["auc"]["mean"] > 0.6
    assert {k["name"] for k in out["importance"][:3]} & {"s0", "s1"}


def test_narrow_or_regression_tables_train_as_version_1():
    frame = _table(240, 20)
    out = lightgbm_cv_v2(LightGBMParamsV2(target="passed", features=[f"s{j}" for j in range(20)], folds=3,
                                          n_estimators=30), StepContext("t", "train", 0), frame)
    assert "settings" not in out["metrics"]
    wide = _table(240, 80).assign(passed=lambda f: f["s0"] * 2 + f["s1"])
    out = lightgbm_cv_v2(LightGBMParamsV2(target="passed", features=[f"s{j}" for j in range(80)], folds=3,
                                          n_estimators=30), StepContext("t", "train", 0), wide)
    assert out["metrics"]["task"] == "regression" and "settings" not in out["metrics"]


# -- model.lightgbm_cv@3: the average with a smooth additive model on wide pass/fail tables ----------------------
def _curved(rows: int, cols: int, seed: int = 0) -> pd.DataFrame:
    """A wide pass/fail table (~20 % failures) whose failures come from a valley of s0 and a ramp of s1 (smooth
    effects), with missing values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols))
    logit = -3.2 + 1.5 * x[:, 0] ** 2 + 1.5 * np.tanh(2 * x[:, 1])
    frame = pd.DataFrame(np.where(rng.random(x.shape) < 0.05, np.nan, x), columns=[f"s{j}" for j in range(cols)])
    frame["passed"] = (rng.random(rows) >= 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def _v3_params(cols: int, **extra) -> LightGBMParamsV2:
    return LightGBMParamsV2(target="passed", features=[f"s{j}" for j in range(cols)], folds=3,
                            **{"tune_threshold": False, **extra})


def test_v3_averages_an_additive_model_screened_inside_each_fold(monkeypatch):
    import engine.ml.wide_additive as wa

    frame = _curved(400, 150)
    seen = []
    original = wa.fit_additive
    monkeypatch.setattr(wa, "fit_additive", lambda x, y, **kw: seen.append(set(x.index)) or original(x, y, **kw))
    out = lightgbm_cv_v3(_v3_params(150), StepContext("t", "train", 0), frame)
    metrics, model = out["metrics"], out["model"]
    assert metrics["settings"]["rule"] == "wide pass/fail table"
    assert set(metrics["models"]) == {"lightgbm", "additive", "average"}
    assert {"f1_minority", "precision_minority", "recall_minority"} <= set(metrics)
    # honest: every fold's screening and fit saw its training rows only (3 folds, then the final model of all rows)
    assert len(seen) == 4 and all(len(s) < len(frame) for s in seen[:3]) and seen[3] == set(frame.index)
    tests = [set(frame.index) - s for s in seen[:3]]
    assert set().union(*tests) == set(frame.index) and sum(map(len, tests)) == len(frame)
    # the reported figure is the average's, and on smooth effects the average beats the trees alone
    assert metrics["auc"]["mean"] > metrics["models"]["lightgbm"]["mean"]
    assert metrics["auc"]["mean"] > 0.8 and metrics["threshold"]["final"] == 0.5
    assert model.additive.columns[:2] == ["s0", "s1"]
    trees = model.final.predict(model.coder.transform(frame))
    np.testing.assert_allclose(model.predict(frame), 0.5 * trees + 0.5 * model.additive.predict(frame))
    assert model.predict_folds(frame).shape == (3, len(frame))


def test_v3_threshold_by_inner_cv_of_the_average_when_asked():
    frame = _curved(400, 150)
    out = lightgbm_cv_v3(_v3_params(150, tune_threshold=True), StepContext("t", "train", 0), frame)
    fixed = lightgbm_cv_v3(_v3_params(150), StepContext("t", "train", 0), frame)["metrics"]
    threshold = out["metrics"]["threshold"]
    assert threshold["chosen_by"].startswith("inner cross-validation of the average")
    assert len(set(threshold["folds"])) > 1 and 0 < threshold["final"] < 1
    assert fixed["threshold"]["chosen_by"] == "fixed at 0.5"
    assert out["metrics"]["auc"] == fixed["auc"]                      # the cut moves the labels, not the ranking
    assert out["metrics"]["balanced_accuracy"]["mean"] > fixed["balanced_accuracy"]["mean"]


def test_v3_narrow_and_regression_tables_train_exactly_as_version_2():
    narrow = _curved(240, 20)
    regression = _curved(240, 80).assign(passed=lambda f: f["s0"].fillna(0) * 2 + f["s1"].fillna(0))
    for frame, cols in ((narrow, 20), (regression, 80)):
        params = _v3_params(cols, n_estimators=30, tune_threshold=True)
        v2 = lightgbm_cv_v2(params, StepContext("t", "train", 0), frame)
        v3 = lightgbm_cv_v3(params, StepContext("t", "train", 0), frame)
        assert v3["metrics"] == v2["metrics"] and "models" not in v3["metrics"]
        assert v3["importance"] == v2["importance"] and type(v3["model"]) is type(v2["model"])


def test_v2_still_trains_the_trees_alone_on_a_wide_table():
    out = lightgbm_cv_v2(_v3_params(150), StepContext("t", "train", 0), _curved(400, 150))
    assert "models" not in out["metrics"] and "f1_minority" not in out["metrics"]
    assert type(out["model"]).__name__ == "ModelBundle"


def test_score_test_ranks_curved_effects_first():
    from engine.ml.wide_additive import score_test

    rng = np.random.default_rng(1)
    z = rng.normal(size=(2000, 30))
    y = (rng.random(2000) < 1 / (1 + np.exp(2 + z[:, 3] ** 2 - 1.0 * z[:, 7]))).astype(float)
    scores = score_test(z, y)
    assert set(np.argsort(-scores)[:2]) == {3, 7}
    assert np.median(scores) < 10          # χ² with 3 degrees of freedom under no effect


def test_v3_wide_path_is_deterministic_and_reports_shortlist_stability():
    frame = _curved(400, 150)
    runs = [lightgbm_cv_v3(_v3_params(150), StepContext("t", "train", 7), frame)["metrics"] for _ in range(2)]
    assert runs[0] == runs[1]
    assert 0.0 < runs[0]["models"]["average"]["shortlist_stability"] <= 1.0


def test_v3_a_fold_without_failures_keeps_the_trees_alone():
    from engine.ml.wide_additive import average, fit_additive

    frame = _curved(400, 150)
    x, y = frame.drop(columns="passed"), frame["passed"].to_numpy()
    assert fit_additive(x[y == 1], y[y == 1]) is None
    trees = np.full(len(frame), 0.3)
    assert np.array_equal(average(trees, None, x), trees)
