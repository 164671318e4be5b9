"""Alignment operators: resample, as-of join (checked against pandas.merge_asof), lag features without look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from engine.pipeline import registry
from engine.pipeline.context import StepContext
from engine.core.errors import StudioError


def run(op_id: str, params: dict, **inputs) -> tuple[pd.DataFrame, dict]:
    spec = registry.get(op_id)
    out = spec.fn(spec.params_model.model_validate(params), StepContext("test", op_id, 0), **inputs)
    return out["frame"], out["report"]


# ---------------------------------------------------------------- resample

@pytest.fixture
def minutes() -> pd.DataFrame:
    """Readings at 00:00..00:59 and 02:00..02:29 (so 01:00-02:00 is an empty hour), unsorted."""
    time = pd.date_range("2024-01-01 00:00", periods=60, freq="1min").append(
        pd.date_range("2024-01-01 02:00", periods=30, freq="1min"))
    frame = pd.DataFrame({"t": time, "energy": 1.0, "temp": np.arange(90.0), "mode": ["run"] * 89 + ["stop"]})
    return frame.iloc[::-1]


def test_resample_sums_and_counts_empty_bins(minutes):
    out, report = run("align.resample", {"time": "t", "freq": "1h", "per_column": {"energy": "sum"}}, frame=minutes)
    assert out["t"].tolist() == list(pd.date_range("2024-01-01", periods=3, freq="1h"))
    assert out["energy"].iloc[0] == 60 and out["energy"].iloc[2] == 30
    assert np.isnan(out["energy"].iloc[1])                 # an empty hour sums to missing, not 0
    assert out["temp"].tolist()[0] == pytest.approx(29.5)  # numeric default: mean
    assert out["mode"].iloc[2] == "stop"                   # text takes the last value
    assert report == {"rows_in": 90, "rows_out": 3, "rows_without_time": 0, "empty_bins": 1, "freq": "1h",
                      "aggregation": {"energy": "sum", "temp": "mean", "mode": "last"}}


def test_resample_can_drop_empty_bins_and_other_aggregations(minutes):
    out, report = run("align.resample", {"time": "t", "freq": "30min", "agg": "max", "drop_empty": True},
                      frame=minutes)
    assert out["temp"].tolist() == [29.0, 59.0, 89.0] and report["empty_bins"] == 2
    with pytest.raises(StudioError, match="only take 'first' or 'last'"):
        run("align.resample", {"time": "t", "per_column": {"mode": "mean"}}, frame=minutes)


def test_resample_frequency_is_checked_when_params_are_read():
    with pytest.raises(ValidationError, match="not a frequency"):
        registry.get("align.resample").params_model.model_validate({"time": "t", "freq": "1H"})


# ---------------------------------------------------------------- as-of join

def _random_pair(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    left_t = start + pd.to_timedelta(np.sort(rng.integers(0, 600, 200)), unit="s")
    right_t = start + pd.to_timedelta(np.sort(rng.integers(0, 600, 80)), unit="s")  # has ties
    left = pd.DataFrame({"t": left_t, "unit": rng.choice(["u1", "u2", "u3"], 200), "x": rng.normal(size=200)})
    right = pd.DataFrame({"t": right_t, "unit": rng.choice(["u1", "u2"], 80), "x": rng.normal(size=80),
                          "count": rng.integers(0, 9, 80), "lab": rng.choice(["ok", "bad"], 80)})
    return left, right


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("by, tolerance", [(None, None), ("unit", None), ("unit", "30s"), (None, "5s")])
def test_asof_join_equals_pandas_merge_asof(seed, by, tolerance):
    left, right = _random_pair(seed)
    out, report = run("align.asof_join", {"time": "t", "by": by, "tolerance": tolerance}, frame=left, right=right)
    expected = pd.merge_asof(left, right, on="t", by=by, suffixes=("", "_right"),
                             tolerance=pd.Timedelta(tolerance) if tolerance else None)
    pd.testing.assert_frame_equal(out, expected)
    assert report["matched"] == int(expected["count"].notna().sum())
    assert report["matched"] + report["unmatched"] == 200
    assert report["renamed"] == {"x": "x_right", **({} if by else {"unit": "unit_right"})}


def test_asof_join_keeps_left_order_and_index_and_differently_named_times():
    left = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 10:05", "2024-01-01 09:00", "2024-01-01 10:00"]),
                         "v": [1, 2, 3]}, index=[30, 10, 20])
    right = pd.DataFrame({"sampled": pd.to_datetime(["2024-01-01 09:58", "2024-01-01 10:04"]), "lab": [7.0, 8.0]})
    out, report = run("align.asof_join", {"time": "ts", "right_time": "sampled", "tolerance": "5min"},
                      frame=left, right=right)
    assert out.index.tolist() == [30, 10, 20]
    assert out["lab"].tolist()[0] == 8.0 and np.isnan(out["lab"].iloc[1]) and out["lab"].iloc[2] == 7.0
    assert out["sampled"].iloc[0] == pd.Timestamp("2024-01-01 10:04")   # how old the matched reading is
    assert report["matched"] == 2 and report["unmatched"] == 1


def test_asof_join_numeric_clock_and_errors():
    left = pd.DataFrame({"batch": [1, 5, 9], "a": [0, 0, 0]})
    right = pd.DataFrame({"batch": [0, 4, 8], "a": [1, 2, 3]})
    out, _ = run("align.asof_join", {"time": "batch", "tolerance": "1"}, frame=left, right=right)
    assert out["a_right"].tolist() == [1, 2, 3]
    with pytest.raises(StudioError, match="right-table column 'batchh'"):
        run("align.asof_join", {"time": "batch", "right_time": "batchh"}, frame=left, right=right)
    with pytest.raises(StudioError, match="clashes even with suffix"):
        run("align.asof_join", {"time": "batch", "suffix": "_r"}, frame=left.assign(a_r=1), right=right)
    with pytest.raises(StudioError, match="same kind of clock"):
        run("align.asof_join", {"time": "batch"}, frame=left, right=right.assign(batch=pd.Timestamp("2024-01-01")))


def test_asof_join_zoned_times_and_category_keys_match_pandas():
    left, right = _random_pair(3)
    left = left.assign(t=left["t"].dt.tz_localize("Europe/Berlin"))
    right = right.assign(t=right["t"].dt.tz_localize("Europe/Berlin"))
    expected = pd.merge_asof(left, right, on="t", by="unit", suffixes=("", "_right"), tolerance=pd.Timedelta("20s"))
    # categories that differ between the tables (pandas refuses those) match by value
    left, right = left.assign(unit=left["unit"].astype("category")), right.assign(unit=right["unit"].astype("category"))
    out, _ = run("align.asof_join", {"time": "t", "by": "unit", "tolerance": "20s"}, frame=left, right=right)
    pd.testing.assert_frame_equal(out.assign(unit=out["unit"].astype("str")), expected)


# ---------------------------------------------------------------- lag features

def test_lags_and_row_windows_with_known_values():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    out, report = run("align.lag_features", {"columns": ["x"], "lags": [1], "windows": [2]}, frame=frame)
    assert out["x_lag1"].tolist()[1:] == [1.0, 2.0, 3.0]
    assert out["x_roll2_mean"].tolist() == [1.0, 1.5, 2.5, 3.5]          # rows t-1..t
    out, _ = run("align.lag_features", {"columns": ["x"], "lags": [], "windows": [2], "exclude_current": True},
                 frame=frame)
    assert out["x_roll2_mean"].tolist()[1:] == [1.0, 1.5, 2.5]           # rows t-2..t-1
    assert report["created"] == ["x_lag1", "x_roll2_mean"] and report["order"] == "row"


def test_features_follow_time_order_per_group_and_return_in_row_order():
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01 00:02", "2024-01-01 00:00", "2024-01-01 00:01",
                                               "2024-01-01 00:00"]),
                          "line": ["A", "A", "A", "B"], "x": [3.0, 1.0, 2.0, 100.0]}, index=[7, 8, 9, 7])
    out, _ = run("align.lag_features", {"columns": ["x"], "lags": [1], "time_windows": ["2min"], "stats": ["max"],
                                        "time": "t", "group": "line"}, frame=frame)
    assert out.index.tolist() == [7, 8, 9, 7]
    assert out["x_lag1"].iloc[0] == 2.0 and out["x_lag1"].iloc[2] == 1.0      # the previous reading in time
    assert np.isnan(out["x_lag1"].iloc[1]) and np.isnan(out["x_lag1"].iloc[3])  # first of each line
    assert out["x_roll2min_max"].tolist() == [3.0, 1.0, 2.0, 100.0]             # (t-2min, t]


def _frame_for_look_ahead(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    time = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 3600, rows)), unit="s")
    return pd.DataFrame({"t": time, "g": rng.choice(["a", "b"], rows), "x": rng.normal(size=rows)})


@pytest.mark.parametrize("exclude_current", [False, True])
def test_no_look_ahead_the_future_never_changes_a_feature(exclude_current):
    frame = _frame_for_look_ahead()
    params = {"columns": ["x"], "lags": [1, 3], "windows": [4], "time_windows": ["10min"],
              "stats": ["mean", "std", "min", "max"], "time": "t", "group": "g", "exclude_current": exclude_current}
    full, report = run("align.lag_features", params, frame=frame)
    future_changed = frame.assign(x=np.where(np.arange(len(frame)) >= 40, 1e6, frame["x"]))
    changed, _ = run("align.lag_features", params, frame=future_changed)
    pd.testing.assert_frame_equal(full.iloc[:40], changed.iloc[:40])
    if exclude_current:  # then even the row's own value is unseen
        own_changed, _ = run("align.lag_features", params, frame=frame.assign(x=frame["x"].where(
            np.arange(len(frame)) != 39, 1e6)))
        pd.testing.assert_frame_equal(full.drop(columns="x").iloc[:40], own_changed.drop(columns="x").iloc[:40])
    assert len(report["created"]) == 2 + 2 * 4


def test_lag_features_refuse_clashes_text_windows_and_missing_times():
    frame = pd.DataFrame({"x": [1.0, 2.0], "x_lag1": [0, 0], "s": ["a", "b"],
                          "t": pd.to_datetime(["2024-01-01", None])})
    with pytest.raises(StudioError, match="already exist"):
        run("align.lag_features", {"columns": ["x"]}, frame=frame)
    with pytest.raises(StudioError, match="need numeric columns"):
        run("align.lag_features", {"columns": ["s"], "windows": [2]}, frame=frame)
    with pytest.raises(StudioError, match="missing values"):
        run("align.lag_features", {"columns": ["s"], "time": "t"}, frame=frame)
    with pytest.raises(StudioError, match="need the time column"):
        run("align.lag_features", {"columns": ["s"], "time_windows": ["1h"]}, frame=frame)
