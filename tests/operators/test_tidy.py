"""Cleaning operators on small frames with known answers; each must report what it changed."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest

from engine.pipeline import registry
from engine.pipeline.context import StepContext
from engine.core.errors import StudioError


def run(op_id: str, frame: pd.DataFrame, **params) -> tuple[pd.DataFrame, dict]:
    spec = registry.get(op_id)
    out = spec.fn(spec.params_model.model_validate(params), StepContext("test", op_id, 0), frame=frame)
    return out["frame"], out["report"]


NEW_MODULES = ("engine.operators.tidy", "engine.operators.timeseries")


@pytest.mark.parametrize("op", [op for op in registry.all_operators() if op.module in NEW_MODULES],
                         ids=lambda op: op.id)
def test_keeps_its_input_and_reports_plain_json(op):
    """For the cleaning and align operators (a candidate for the contract suite over every operator)."""
    params, inputs = op.example()
    before = {name: frame.copy(deep=True) for name, frame in inputs.items()}
    out = op.fn(op.params_model.model_validate(params), StepContext("test", op.id, 0), **inputs)
    for name, frame in inputs.items():
        pd.testing.assert_frame_equal(frame, before[name])
    json.dumps(out["report"], allow_nan=False)  # the report goes into result.json as is


# ---------------------------------------------------------------- impute

def test_impute_median_mean_and_report():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": [1.0, np.nan, 5.0]})
    out, report = run("clean.impute", frame, columns=["x"], per_column={"y": "mean"})
    assert out["x"].tolist() == [1.0, 2.0, 3.0]
    assert out["y"].tolist() == [1.0, 3.0, 5.0]
    assert report["filled"] == {"x": 1, "y": 1}
    assert report["value"] == {"x": 2.0, "y": 3.0}
    assert report["strategy"] == {"x": "median", "y": "mean"}


def test_impute_default_picks_columns_with_gaps_and_mode_for_text():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 9.0], "s": ["a", None, "a", "b"], "full": [1, 2, 3, 4]})
    out, report = run("clean.impute", frame)
    assert out["x"].tolist() == [1.0, 3.0, 3.0, 9.0]
    assert out["s"].tolist() == ["a", "a", "a", "b"]
    assert report["strategy"] == {"x": "median", "s": "mode"}
    assert "full" not in report["filled"]


def test_impute_constant_and_its_errors():
    frame = pd.DataFrame({"x": [np.nan, 2.0], "s": ["a", None]})
    out, report = run("clean.impute", frame, columns=["x"], strategy="constant", value=0)
    assert out["x"].tolist() == [0.0, 2.0] and report["filled"] == {"x": 1}
    with pytest.raises(StudioError, match="needs a value"):
        run("clean.impute", frame, columns=["x"], strategy="constant")
    with pytest.raises(StudioError, match="not numeric; use 'mode'"):
        run("clean.impute", frame, columns=["s"], strategy="median")
    with pytest.raises(StudioError, match="did you mean 'x'"):
        run("clean.impute", frame, columns=["xx"])


def test_forward_fill_follows_the_time_column_when_given():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 02:00", "2024-01-01 00:00", "2024-01-01 01:00"]),
                          "x": [np.nan, 5.0, 7.0]})
    out, _ = run("clean.impute", frame, columns=["x"], strategy="ffill")
    assert np.isnan(out["x"].iloc[0])                        # row order: nothing before row 0
    out, report = run("clean.impute", frame, columns=["x"], strategy="ffill", time="t")
    assert out["x"].tolist() == [7.0, 5.0, 7.0]              # time order: 02:00 follows 01:00
    assert report["filled"] == {"x": 1}


def test_time_interpolation_weights_by_time_and_never_extrapolates():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 03:00", "2024-01-01 01:00",
                                               "2024-01-01 04:00"]),
                          "x": [0.0, 30.0, np.nan, np.nan]})
    out, report = run("clean.impute", frame, columns=["x"], strategy="time", time="t")
    assert out["x"].iloc[2] == pytest.approx(10.0)           # one hour of three between 0 and 30
    assert np.isnan(out["x"].iloc[3])                        # after the last reading: left missing
    assert report["filled"] == {"x": 1} and report["still_missing"] == {"x": 1}
    with pytest.raises(StudioError, match="needs the time column"):
        run("clean.impute", frame, columns=["x"], strategy="time")


# ---------------------------------------------------------------- outliers

@pytest.fixture
def planted() -> pd.DataFrame:
    values = np.r_[np.linspace(10, 20, 21), 95.0]           # one planted value at row 22
    return pd.DataFrame({"x": values, "y": np.linspace(0, 1, 22)})


def test_iqr_flags_the_planted_value_and_drops_its_row(planted):
    out, report = run("clean.outliers", planted, columns=["x", "y"])
    assert len(out) == 21 and 95.0 not in out["x"].tolist()
    assert report["columns"]["x"]["flagged"] == 1 and report["columns"]["x"]["rows"] == [22]
    assert report["columns"]["y"]["flagged"] == 0
    assert report["rows_in"] == 22 and report["rows_out"] == 21
    q1, q3 = planted["x"].quantile([0.25, 0.75])
    assert report["columns"]["x"]["high"] == pytest.approx(q3 + 1.5 * (q3 - q1))


def test_clip_and_set_missing_keep_every_row(planted):
    clipped, report = run("clean.outliers", planted, columns=["x"], action="clip")
    assert len(clipped) == 22 and clipped["x"].iloc[-1] == pytest.approx(report["columns"]["x"]["high"])
    blanked, _ = run("clean.outliers", planted, columns=["x"], action="set_missing")
    assert blanked["x"].isna().tolist() == [False] * 21 + [True]


def test_mad_uses_the_modified_z_score(planted):
    _, report = run("clean.outliers", planted, columns=["x"], method="mad")
    x = planted["x"].to_numpy()
    median = np.median(x)
    mad = np.median(np.abs(x - median))
    assert report["columns"]["x"]["high"] == pytest.approx(median + 3.5 * mad / 0.6745)
    assert report["columns"]["x"]["flagged"] == 1
    constant = pd.DataFrame({"c": [1.0] * 10 + [5.0]})
    _, report = run("clean.outliers", constant, method="mad")
    assert report["columns"]["c"] == {"flagged": 0, "skipped": "no spread"}


def test_physical_bounds_per_column_with_an_open_side(planted):
    out, report = run("clean.outliers", planted, method="bounds", bounds={"x": [None, 19.5], "y": [0.1, None]},
                      action="set_missing")
    assert report["columns"]["x"]["flagged"] == 2 and report["columns"]["y"]["flagged"] == 3
    assert out["x"].isna().sum() == 2 and out["y"].isna().sum() == 3
    with pytest.raises(StudioError, match="needs bounds"):
        run("clean.outliers", planted, method="bounds")


# ---------------------------------------------------------------- deduplicate

def test_deduplicate_exact_and_on_keys():
    frame = pd.DataFrame({"batch": [1, 1, 2, 2, 3], "value": [10, 10, 20, 21, 30]})
    out, report = run("clean.deduplicate", frame)
    assert len(out) == 4 and report["duplicates_dropped"] == 1 and report["rows"] == [2]
    out, report = run("clean.deduplicate", frame, subset=["batch"], keep="last")
    assert out["value"].tolist() == [10, 21, 30] and report["duplicates_dropped"] == 2
    assert report["rows"] == [1, 3]


# ---------------------------------------------------------------- fix_types

def test_fix_types_reports_the_rows_that_failed():
    weights = [str(10 + i) for i in range(20)]
    weights[16] = "12,5kg"                                   # row 17 as a user counts
    weights[18] = "  "                                        # blank: missing, not a failure
    frame = pd.DataFrame({"weight": weights, "day": ["2024-01-%02d" % (i + 1) for i in range(20)]})
    frame.loc[4, "day"] = "soon"
    out, report = run("clean.fix_types", frame, types={"weight": "numeric", "day": "datetime"},
                      datetime_format="%Y-%m-%d")
    assert pd.api.types.is_numeric_dtype(out["weight"]) and out["weight"].iloc[0] == 10
    assert report["columns"]["weight"] == {"to": "numeric", "failed": 1,
                                           "examples": [{"row": 17, "value": "12,5kg"}]}
    assert report["columns"]["day"]["examples"] == [{"row": 5, "value": "soon"}]
    assert pd.api.types.is_datetime64_any_dtype(out["day"]) and report["failed"] == 2


def test_fix_types_category_text_and_refusals():
    frame = pd.DataFrame({"grade": ["A", "B", "A"], "code": [1, 2, 3]})
    out, report = run("clean.fix_types", frame, types={"grade": "category", "code": "text"})
    assert isinstance(out["grade"].dtype, pd.CategoricalDtype) and out["code"].tolist() == ["1", "2", "3"]
    assert report["failed"] == 0
    with pytest.raises(StudioError, match="holds numbers, not dates"):
        run("clean.fix_types", frame, types={"code": "datetime"})


# ---------------------------------------------------------------- filter_rows

def test_filter_rows_keeps_matches_and_reports_counts():
    frame = pd.DataFrame({"温度": [840, 860, 870, np.nan], "班次": ["A", "B", "A", "A"]})
    out, report = run("clean.filter_rows", frame, condition="温度 > 850 and 班次 in ('A', 'C')")
    assert out.index.tolist() == [2]
    assert report == {"condition": "温度 > 850 and 班次 in ('A', 'C')", "columns": ["温度", "班次"],
                      "rows_in": 4, "rows_out": 1, "rows_dropped": 3}
    with pytest.raises(StudioError, match="did you mean '温度'"):
        run("clean.filter_rows", frame, condition="温 > 850")


# ---------------------------------------------------------------- leakage_guard

def test_leakage_guard_finds_copies_transforms_and_correlates():
    rng = np.random.default_rng(0)
    y = rng.normal(50, 10, 200)
    frame = pd.DataFrame({
        "y": y, "copy": y, "rounded": np.round(y, 1), "exp": np.exp(y / 20), "close": y + rng.normal(0, 0.5, 200),
        "honest": rng.normal(0, 1, 200) + 0.3 * y / 10, "label": np.where(y > 50, "hi", "lo"),
    })
    out, report = run("clean.leakage_guard", frame, target="y")
    reasons = {f["name"]: f["reason"] for f in report["flagged"]}
    assert reasons == {"copy": "copy", "rounded": "rounded copy", "exp": "monotone transform",
                       "close": "correlation"}
    assert set(out.columns) == {"y", "honest", "label"}
    assert report["not_numeric"] == ["label"]
    close = next(f for f in report["flagged"] if f["name"] == "close")
    assert close["pearson"] >= 0.99
    kept, report = run("clean.leakage_guard", frame, target="y", keep_flagged=True, threshold=1.0)
    assert list(kept.columns) == list(frame.columns) and report["dropped"] == []
    assert "close" not in {f["name"] for f in report["flagged"]}
