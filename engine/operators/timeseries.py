"""Time alignment: resample to a fixed frequency, as-of join of two series, lag and rolling-window features.

Plant data arrives from several systems at different rates (a DCS every second, a lab every few hours, a MES
per batch). These operators put it on one clock without looking into the future: an as-of join only takes the
latest reading at or before a row's time, and a rolling feature at row t only reads rows up to t.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.frames import as_datetime, require_columns
from engine.core.i18n import Msg, zh
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field

Agg = Literal["mean", "sum", "min", "max", "last", "first", "median"]


def _check_frequency(text: str) -> str:
    """A pandas frequency/offset ('1min', '1h', '1D'); the pandas message says e.g. "Did you mean h?"."""
    try:
        pd.tseries.frequencies.to_offset(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(Msg(f"'{text}' is not a frequency such as '30s', '1min', '1h' or '1D' ({exc})",
                             f"'{text}' 不是有效的频率，例如 '30s'、'1min'、'1h' 或 '1D'（{exc}）")) from exc
    return text


def _tiny_series(rows: int = 48, seed: int = 0, step: str = "10min") -> pd.DataFrame:
    """Two lines' readings on an irregular clock, for the operators' examples."""
    rng = np.random.default_rng(seed)
    jitter = pd.to_timedelta(rng.integers(0, 120, rows), unit="s")
    time = pd.date_range("2024-03-01", periods=rows, freq=step) + jitter
    return pd.DataFrame({"time": time, "line": np.where(np.arange(rows) % 2, "L2", "L1"),
                         "temp": rng.normal(850, 5, rows), "speed": rng.uniform(1, 3, rows)})


# ---------------------------------------------------------------- align.resample

class ResampleParams(OpParams):
    time: str = ui_field(en="Time column", zh="时间列")
    freq: str = ui_field("1h", en="Frequency", zh="频率", help_en="bin width, e.g. '1min', '1h', '1D'",
                         help_zh="时间窗宽度，如 '1min'、'1h'、'1D'")
    agg: Agg = ui_field("mean", en="Aggregation", zh="聚合方式", help_en="for numeric columns; others take 'last'")
    per_column: dict[str, Agg] = ui_field({}, en="Aggregation per column", zh="按列指定聚合方式")
    drop_empty: bool = ui_field(False, en="Drop empty bins", zh="删除空时间窗",
                                help_en="otherwise a bin without rows is kept with missing values",
                                help_zh="否则没有数据的时间窗保留为缺失值")

    @field_validator("freq")
    @classmethod
    def _frequency(cls, value: str) -> str:
        return _check_frequency(value)


def _aggregate(bins, column: str, how: str) -> pd.Series:
    # min_count=1: an empty bin sums to missing, not to a misleading 0
    return bins[column].sum(min_count=1) if how == "sum" else getattr(bins[column], how)()


def _resample_example() -> tuple[dict, dict]:
    return {"time": "time", "freq": "1h", "per_column": {"speed": "max"}}, {"frame": _tiny_series()}


@operator("align.resample", version=1, inputs=("frame",), outputs=("frame", "report"), example=_resample_example)
def resample(params: ResampleParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Resample a time series to a fixed frequency; each bin is labelled by its start and holds [start, start+freq)."""
    require_columns(frame, [params.time, *params.per_column])
    times = as_datetime(frame, params.time)
    has_time = times.notna().to_numpy()
    data = frame.drop(columns=[params.time])[has_time].set_axis(pd.DatetimeIndex(times[has_time]), axis=0)
    bins = data.resample(params.freq)
    counts = bins.size()
    columns, used = {}, {}
    for i, col in enumerate(data.columns):
        ctx.progress(i / max(1, len(data.columns)), str(col))
        numeric = pd.api.types.is_numeric_dtype(data[col])
        how = params.per_column.get(col, params.agg if numeric else "last")
        if not numeric and how not in ("first", "last"):
            raise StudioError(Msg(f"align.resample: column '{col}' is not numeric; it can only take 'first' or 'last'",
                                  f"align.resample：列 '{col}' 不是数值，只能取 'first' 或 'last'"))
        columns[col], used[col] = _aggregate(bins, col, how), how
    out = pd.DataFrame(columns, index=counts.index)
    if params.drop_empty:
        out = out[counts.to_numpy() > 0]
    out = out.rename_axis(params.time).reset_index()
    report = {"rows_in": len(frame), "rows_out": len(out), "rows_without_time": int((~has_time).sum()),
              "empty_bins": int((counts == 0).sum()), "freq": params.freq, "aggregation": used}
    return {"frame": out, "report": report}


# ---------------------------------------------------------------- align.asof_join

class AsofParams(OpParams):
    time: str = ui_field(en="Time column", zh="时间列", help_en="in the left (main) table")
    right_time: str | None = ui_field(None, en="Time column on the right", zh="右表时间列",
                                      help_en="empty: same name as on the left")
    by: str | None = ui_field(None, en="Match on key", zh="按键匹配",
                              help_en="only join rows with the same value here (e.g. line or unit)",
                              help_zh="只匹配此列取值相同的行（如产线、机组）")
    tolerance: str | None = ui_field(None, en="Tolerance", zh="容差",
                                     help_en="ignore a right row older than this, e.g. '5min'; empty: no limit",
                                     help_zh="早于此时长的右表数据不匹配，如 '5min'；留空为不限")
    suffix: str = ui_field("_right", en="Suffix for clashing names", zh="重名列后缀", min_length=1)


def _tolerance(text: str | None, times: pd.Series):
    if text is None:
        return None
    try:
        if pd.api.types.is_datetime64_any_dtype(times):
            return pd.Timedelta(text).to_pytimedelta()
        return float(text)
    except ValueError as exc:
        raise StudioError(Msg(f"align.asof_join: tolerance '{text}' is not a duration such as '5min' ({exc})",
                              f"align.asof_join：容差 '{text}' 不是有效的时长，例如 '5min'（{exc}）")) from exc


def _clock(s: pd.Series) -> np.ndarray:
    """Times as DuckDB should compare them: zoned ones in UTC without the zone (to_numpy would give objects)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.to_numpy()


def _asof_matches(left_t: pd.Series, right_t: pd.Series, left_by, right_by, tolerance) -> np.ndarray:
    """For each left row, the position of its right row (latest at or before its time), or -1: by DuckDB's ASOF JOIN."""
    import duckdb

    keys = pd.DataFrame({"t": _clock(right_t), "k": 0 if right_by is None else right_by.to_numpy(),
                         "pos": np.arange(len(right_t))})
    # merge_asof semantics for ties: of several right rows at one time, the last one counts
    keys = keys.dropna(subset=["t"]).drop_duplicates(subset=["t", "k"], keep="last")
    lefts = pd.DataFrame({"t": _clock(left_t), "k": 0 if left_by is None else left_by.to_numpy(),
                          "row": np.arange(len(left_t))})
    match = 'CASE WHEN l."t" - r."t" <= $tol THEN r."pos" END' if tolerance is not None else 'r."pos"'
    sql = (f'SELECT l."row", {match} AS "pos" FROM "lefts" AS l ASOF LEFT JOIN "keys" AS r '
           'ON l."k" = r."k" AND l."t" >= r."t" ORDER BY l."row"')
    try:
        with duckdb.connect() as con:
            con.register("lefts", lefts)
            con.register("keys", keys)
            found = con.execute(sql, {"tol": tolerance} if tolerance is not None else None).df()
    except duckdb.Error as exc:  # e.g. key columns of types that cannot be compared
        raise StudioError(Msg(f"align.asof_join: the two tables cannot be matched ({exc})",
                              f"align.asof_join：两张表无法匹配（{exc}）")) from exc
    return found["pos"].fillna(-1).to_numpy(dtype=np.int64)


def _right_names(left: pd.DataFrame, right: pd.DataFrame, params: AsofParams, right_time: str) -> dict[str, str]:
    """Right column -> output name: the shared time and key columns are not repeated; clashes get the suffix."""
    skip = {right_time} if right_time == params.time else set()
    skip |= {params.by} if params.by else set()
    names = {}
    for col in right.columns:
        if col in skip:
            continue
        name = col if col not in left.columns else f"{col}{params.suffix}"
        if name in left.columns or name in names.values():
            raise StudioError(Msg(f"align.asof_join: column '{col}' clashes even with suffix '{params.suffix}'; "
                                  "choose another suffix", f"align.asof_join：列 '{col}' 加上后缀 '{params.suffix}' 仍然重名；请换一个后缀"))
        names[col] = name
    return names


def _asof_example() -> tuple[dict, dict]:
    lab = _tiny_series(rows=12, seed=1, step="37min").rename(columns={"temp": "lab_temp", "speed": "density"})
    return {"time": "time", "by": "line", "tolerance": "2h"}, {"frame": _tiny_series(), "right": lab}


@operator("align.asof_join", version=1, inputs=("frame", "right"), outputs=("frame", "report"), example=_asof_example)
def asof_join(params: AsofParams, ctx: StepContext, frame: pd.DataFrame, right: pd.DataFrame) -> dict:
    """Join each row to the latest row of another table at or before its time (optionally per key, within a tolerance)."""
    right_time = params.right_time or params.time
    require_columns(frame, [params.time, *([params.by] if params.by else [])])
    require_columns(right, [right_time, *([params.by] if params.by else [])], "right-table column")
    left_t, right_t = _time_or_number(frame, params.time), _time_or_number(right, right_time)
    if _kind_of_clock(left_t) != _kind_of_clock(right_t):
        left_kind, right_kind = _kind_of_clock(left_t), _kind_of_clock(right_t)
        raise StudioError(Msg(f"align.asof_join: '{params.time}' is {left_kind} but '{right_time}' is "
                              f"{right_kind}; both must be the same kind of clock",
                              f"align.asof_join：'{params.time}' 是{zh(left_kind)}，而 '{right_time}' 是{zh(right_kind)}；"
                              f"两者必须是同一种时间"))
    ctx.progress(0.1, Msg("matching", "匹配"))
    by_left, by_right = (frame[params.by], right[params.by]) if params.by else (None, None)
    positions = _asof_matches(left_t, right_t, by_left, by_right, _tolerance(params.tolerance, left_t))
    names = _right_names(frame, right, params, right_time)
    # a position of -1 is not in the RangeIndex, so reindex gives a missing row (ints become floats, as in pandas)
    carried = right[list(names)].reset_index(drop=True).reindex(positions).rename(columns=names)
    out = pd.concat([frame.reset_index(drop=True), carried.reset_index(drop=True)], axis=1).set_axis(frame.index)
    matched = int((positions >= 0).sum())
    report = {"rows": len(frame), "matched": matched, "unmatched": len(frame) - matched,
              "renamed": {c: n for c, n in names.items() if c != n}, "tolerance": params.tolerance, "by": params.by}
    return {"frame": out, "report": report}


def _kind_of_clock(s: pd.Series) -> Msg:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return Msg("date/time with a time zone", "带时区的日期时间")
    return Msg("date/time", "日期时间") if pd.api.types.is_datetime64_any_dtype(s) else Msg("a number", "数字")


def _time_or_number(frame: pd.DataFrame, column: str) -> pd.Series:
    s = frame[column]
    return s if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) else as_datetime(frame, column)


# ---------------------------------------------------------------- align.lag_features

Window = Annotated[int, Field(ge=1, le=100_000)]


class LagParams(OpParams):
    columns: list[str] = ui_field(en="Columns", zh="列", min_length=1)
    lags: list[Window] = ui_field([1], en="Lags (rows)", zh="滞后行数", help_en="value n rows earlier")
    windows: list[Window] = ui_field([], en="Rolling windows (rows)", zh="滚动窗口（行数）")
    time_windows: list[str] = ui_field([], en="Rolling windows (time)", zh="滚动窗口（时长）",
                                       help_en="e.g. '30min', '2h'; needs the time column")
    stats: list[Literal["mean", "std", "min", "max"]] = ui_field(["mean"], en="Window statistics", zh="窗口统计量",
                                                                  min_length=1)
    time: str | None = ui_field(None, en="Time column", zh="时间列", help_en="rows are taken in time order when given")
    group: str | None = ui_field(None, en="Group", zh="分组", help_en="features per group (e.g. per line)")
    exclude_current: bool = ui_field(False, en="Exclude the current row", zh="不含当前行",
                                     help_en="windows end just before the row (use when the row's own value is the "
                                             "one to predict)", help_zh="窗口截止于当前行之前（当前行的值要被预测时使用）")
    min_periods: int = ui_field(1, en="Minimum rows in a window", zh="窗口最少行数", ge=1, le=100_000)

    @field_validator("time_windows")
    @classmethod
    def _windows_are_durations(cls, values: list[str]) -> list[str]:
        return [_check_frequency(v) for v in values]


def _roll(s: pd.Series, keys, window, stat: str, params: LagParams) -> pd.Series:
    """Rolling `stat` of `s` (already in time order) per group. closed='right' reads rows t-w+1..t; closed='left'
    reads t-w..t-1 (for a time window: [t-w, t), so rows stamped with the same time are left out too)."""
    closed = "left" if params.exclude_current else "right"

    def roll(part: pd.Series) -> pd.Series:
        return getattr(part.rolling(window, closed=closed, min_periods=params.min_periods), stat)()

    return s.groupby(keys, sort=False, dropna=False).transform(roll) if keys is not None else roll(s)


def _lag_example() -> tuple[dict, dict]:
    params = {"columns": ["temp"], "lags": [1, 2], "windows": [3], "time_windows": ["30min"],
              "stats": ["mean", "max"], "time": "time", "group": "line", "exclude_current": True}
    return params, {"frame": _tiny_series()}


def _features_in_order(work: pd.DataFrame, params: LagParams, times: pd.Series | None, keys) -> dict[str, pd.Series]:
    """Every feature, computed on `work` (rows sorted by time): lags, then row windows, then time windows."""
    features = {}
    for col in params.columns:
        s = work[col]
        grouped = s.groupby(keys, sort=False, dropna=False) if keys is not None else s
        for lag in params.lags:
            features[f"{col}_lag{lag}"] = grouped.shift(lag)
        on_time = s.set_axis(pd.DatetimeIndex(times)) if times is not None else None
        for window in [*params.windows, *params.time_windows]:
            series = on_time if isinstance(window, str) else s
            for stat in params.stats:
                features[f"{col}_roll{window}_{stat}"] = _roll(series, keys, window, stat, params).set_axis(s.index)
    return features


@operator("align.lag_features", version=1, inputs=("frame",), outputs=("frame", "report"), example=_lag_example)
def lag_features(params: LagParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Add lag and rolling-window features (per group, in time order) that never look past the current row."""
    require_columns(frame, [*params.columns, *[c for c in (params.time, params.group) if c]])
    if params.time_windows and not params.time:
        raise StudioError(Msg("align.lag_features: time windows need the time column parameter",
                              "align.lag_features：时间窗口需要设置时间列参数"))
    text = [c for c in params.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text and (params.windows or params.time_windows):
        raise StudioError(Msg(f"align.lag_features: rolling windows need numeric columns; {text} are not",
                              f"align.lag_features：滚动窗口需要数值列；{text} 不是"))
    times = as_datetime(frame, params.time) if params.time else None
    if times is not None and times.isna().any():
        gaps = int(times.isna().sum())
        raise StudioError(Msg(f"align.lag_features: time column '{params.time}' has {gaps} missing "
                              "values; drop or fill those rows first",
                              f"align.lag_features：时间列 '{params.time}' 有 {gaps} 个缺失值；请先删除或填补这些行"))
    # work in time order (stable, so equal times keep their row order), then put every feature back in row order
    order = np.argsort(times.to_numpy(), kind="stable") if times is not None else np.arange(len(frame))
    work = frame.iloc[order].reset_index(drop=True)
    keys = work[params.group].to_numpy() if params.group else None
    ctx.progress(0.2, Msg("features", "特征"))
    features = _features_in_order(work, params, times.iloc[order] if times is not None else None, keys)
    clash = [name for name in features if name in frame.columns]
    if clash:
        raise StudioError(Msg(f"align.lag_features: columns {clash} already exist; rename them first",
                              f"align.lag_features：列 {clash} 已存在；请先改名"))
    back = np.argsort(order, kind="stable")
    new = pd.DataFrame({name: f.iloc[back].to_numpy() for name, f in features.items()}, index=frame.index)
    out = pd.concat([frame, new], axis=1)
    report = {"created": list(features), "order": "time" if params.time else "row", "group": params.group,
              "exclude_current": params.exclude_current,
              "missing_at_start": {name: int(new[name].isna().sum()) for name in new.columns}}
    return {"frame": out, "report": report}
