"""model.lightgbm_cv@2: the wide pass/fail rule applies by the table's shape and task only, and says so."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.operators.model_wide import WIDE, LightGBMParamsV2, lightgbm_cv_v2
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
