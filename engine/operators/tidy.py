"""Row and column cleaning: impute, outliers, deduplicate, fix types, filter rows (the leakage guard: leakage.py).

Each operator returns the new frame and a `report` dict of plain numbers and strings saying what it changed, so
the report and the UI can show an expert exactly what cleaning did to the data. Input frames are never modified.
Row numbers in reports are 1-based positions in the step's input frame (row 1 is the first data row).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.core import expr
from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.frames import as_datetime, require_columns, row_numbers
from engine.core.i18n import Msg
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


def _plain(value: Any) -> Any:
    """A report value as plain JSON (numpy scalars and timestamps are not)."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):  # NaN and an open bound are "none" in JSON
        return None
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def _numeric_or_fail(frame: pd.DataFrame, columns: list[str], op: str) -> None:
    text = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        raise StudioError(Msg(f"{op}: columns {text} are not numeric; convert them with clean.fix_types or leave them out",
                              f"{op}：列 {text} 不是数值；请用 clean.fix_types 转换，或不使用它们"))


# ---------------------------------------------------------------- clean.impute

Strategy = Literal["median", "mean", "mode", "constant", "ffill", "time"]


class ImputeParams(OpParams):
    columns: list[str] = ui_field([], en="Columns", zh="列", help_en="columns to fill; empty: every column with gaps",
                                  help_zh="需要填充的列；留空表示所有有缺失的列")
    strategy: Strategy = ui_field("median", en="Strategy", zh="填充方法",
                                  help_en="median/mean/mode/constant, forward-fill, or time interpolation",
                                  help_zh="中位数/均值/众数/常数、向前填充或按时间插值")
    per_column: dict[str, Strategy] = ui_field({}, en="Strategy per column", zh="按列指定方法")
    value: float | str | None = ui_field(None, en="Constant", zh="常数值", help_en="used by the 'constant' strategy")
    time: str | None = ui_field(None, en="Time column", zh="时间列",
                                help_en="needed by 'time'; forward-fill follows it when given",
                                help_zh="按时间插值时必需；给出时向前填充按时间顺序进行")


def _in_time_order(s: pd.Series, times: pd.Series | None, fill) -> pd.Series:
    """Apply `fill` to `s` in time order and put the result back in row order; rows without a time stay as they are."""
    if times is None:
        return fill(s)
    t = times.to_numpy()
    known = np.flatnonzero(~pd.isna(t))
    order = known[np.argsort(t[known], kind="stable")]
    part = s.iloc[order].set_axis(pd.DatetimeIndex(t[order]))
    out = s.copy()
    out.iloc[order] = fill(part).to_numpy()
    return out


def _fill_value(s: pd.Series, strategy: str, params: ImputeParams, column: str) -> Any:
    if strategy in ("median", "mean"):
        if not pd.api.types.is_numeric_dtype(s):
            raise StudioError(Msg(f"clean.impute: column '{column}' is not numeric; use 'mode' or 'constant' for it",
                                  f"clean.impute：列 '{column}' 不是数值；请对它使用 'mode' 或 'constant'"))
        return getattr(s, strategy)()
    if strategy == "mode":
        modes = s.mode(dropna=True)
        return modes.iloc[0] if len(modes) else None
    if params.value is None:
        raise StudioError(Msg("clean.impute: the 'constant' strategy needs a value", "clean.impute：'constant' 策略需要给定一个值"))
    if isinstance(params.value, str) and pd.api.types.is_numeric_dtype(s):
        raise StudioError(Msg(f"clean.impute: column '{column}' is numeric; the constant '{params.value}' is text",
                              f"clean.impute：列 '{column}' 是数值，而常数 '{params.value}' 是文本"))
    return params.value


def _impute_one(s: pd.Series, strategy: str, params: ImputeParams, times, column: str) -> tuple[pd.Series, Any]:
    if strategy == "ffill":
        return _in_time_order(s, times, lambda part: part.ffill()), None
    if strategy == "time":
        if times is None:
            raise StudioError(Msg("clean.impute: 'time' interpolation needs the time column parameter",
                                  "clean.impute：按 'time' 插值需要设置时间列参数"))
        _numeric_or_fail(s.to_frame(column), [column], "clean.impute time interpolation")
        # limit_area="inside": only gaps between two readings are interpolated, never extrapolated past the ends
        fill = lambda part: part.astype(float).interpolate(method="time", limit_area="inside")  # noqa: E731
        return _in_time_order(s.astype(float), times, fill), None
    value = _fill_value(s, strategy, params, column)
    return (s if value is None or pd.isna(value) else s.fillna(value)), value


def _auto_strategy(s: pd.Series, chosen: str) -> str:
    """Columns picked automatically (no list given) that are text fall back to 'mode' for numeric strategies."""
    numeric_only = chosen in ("median", "mean", "time")
    return "mode" if numeric_only and not pd.api.types.is_numeric_dtype(s) else chosen


def _impute_example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant()
    frame = frame.assign(temp=frame["temp"].mask(frame.index % 7 == 0), shift=frame["shift"].mask(frame.index % 9 == 0))
    return {"columns": ["temp"], "per_column": {"shift": "mode"}}, {"frame": frame}


@operator("clean.impute", version=1, inputs=("frame",), outputs=("frame", "report"), example=_impute_example)
def impute(params: ImputeParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Fill missing values per column (median, mean, mode, constant, forward-fill or time interpolation)."""
    require_columns(frame, [*params.columns, *params.per_column, *([params.time] if params.time else [])])
    times = as_datetime(frame, params.time) if params.time else None
    explicit = bool(params.columns or params.per_column)
    columns = list(dict.fromkeys([*params.columns, *params.per_column])) or \
        [c for c in frame.columns if c != params.time and frame[c].isna().any()]
    out, report = frame.copy(deep=False), {"filled": {}, "strategy": {}, "value": {}, "still_missing": {}}
    for i, col in enumerate(columns):
        ctx.progress(i / max(1, len(columns)), col)
        strategy = params.per_column.get(col, params.strategy)
        strategy = strategy if explicit else _auto_strategy(frame[col], strategy)
        before = int(frame[col].isna().sum())
        out[col], value = _impute_one(frame[col], strategy, params, times, col)
        after = int(out[col].isna().sum())
        report["filled"][col], report["strategy"][col], report["still_missing"][col] = before - after, strategy, after
        if value is not None:
            report["value"][col] = _plain(value)
    return {"frame": out, "report": report}


# ---------------------------------------------------------------- clean.outliers

class OutlierParams(OpParams):
    columns: list[str] = ui_field([], en="Columns", zh="列", help_en="numeric columns to check; empty: all numeric",
                                  help_zh="需要检查的数值列；留空表示全部数值列")
    method: Literal["iqr", "mad", "bounds"] = ui_field("iqr", en="Method", zh="方法",
                                                       help_en="IQR fences, MAD modified z-score, or physical bounds",
                                                       help_zh="四分位距、MAD 修正 z 分数或物理上下限")
    k: float = ui_field(1.5, en="IQR multiplier k", zh="IQR 倍数 k", gt=0.0, le=20.0)
    threshold: float = ui_field(3.5, en="MAD threshold", zh="MAD 阈值", gt=0.0, le=50.0,
                                help_en="limit on |modified z| = 0.6745·|x − median| / MAD")
    bounds: dict[str, tuple[float | None, float | None]] = ui_field(
        {}, en="Physical bounds", zh="物理上下限", help_en="{column: [low, high]}; null for an open side",
        help_zh="{列: [下限, 上限]}；某侧不限时填 null")
    action: Literal["drop_row", "clip", "set_missing"] = ui_field("drop_row", en="Action", zh="处理方式",
                                                                  help_en="drop the row, clip to the limit, or blank the cell",
                                                                  help_zh="删除整行、截断到界限或置为缺失")


def _limits(s: pd.Series, params: OutlierParams, column: str) -> tuple[float, float] | None:
    """The (low, high) limits of one column; None when the data has no spread to judge by."""
    if params.method == "bounds":
        low, high = params.bounds[column]
        return (-np.inf if low is None else low, np.inf if high is None else high)
    x = s.dropna().astype(float)
    if x.empty:
        return None
    if params.method == "iqr":
        q1, q3 = x.quantile(0.25), x.quantile(0.75)
        spread, half = q3 - q1, params.k * (q3 - q1)
        return None if spread == 0 else (q1 - half, q3 + half)
    median = x.median()
    mad = (x - median).abs().median()
    if mad == 0:  # over half the values are equal: a z-score is undefined, so nothing is flagged
        return None
    half = params.threshold * mad / 0.6745
    return (median - half, median + half)


def _outliers_example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    return {"columns": ["temp", "speed", "yield"], "action": "clip"}, {"frame": tiny_plant()}


@operator("clean.outliers", version=1, inputs=("frame",), outputs=("frame", "report"), example=_outliers_example)
def outliers(params: OutlierParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Find outliers by IQR, MAD or physical bounds and drop the row, clip or blank the value."""
    if params.method == "bounds":
        columns = list(params.bounds)
        if not columns:
            raise StudioError(Msg("clean.outliers: method 'bounds' needs bounds, e.g. {temp: [800, 900]}",
                                  "clean.outliers：方法 'bounds' 需要给出范围，例如 {temp: [800, 900]}"))
    else:
        columns = params.columns or [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
                                     and not pd.api.types.is_bool_dtype(frame[c])]
    require_columns(frame, columns)
    _numeric_or_fail(frame, columns, "clean.outliers")
    out, drop = frame.copy(deep=False), pd.Series(False, index=frame.index)
    per_column = {}
    for i, col in enumerate(columns):
        ctx.progress(i / max(1, len(columns)), col)
        limits = _limits(frame[col], params, col)
        if limits is None:
            per_column[col] = {"flagged": 0, "skipped": "no spread"}
            continue
        low, high = limits
        flags = (frame[col] < low) | (frame[col] > high)
        per_column[col] = {"flagged": int(flags.sum()), "low": _plain(low), "high": _plain(high),
                           "rows": row_numbers(flags, 5)}
        if params.action == "clip":
            out[col] = frame[col].clip(low, high)
        elif params.action == "set_missing":
            out[col] = frame[col].mask(flags)
        drop |= flags
    if params.action == "drop_row":
        out = out[~drop]
    report = {"method": params.method, "action": params.action, "rows_in": len(frame), "rows_out": len(out),
              "rows_flagged": int(drop.sum()), "columns": per_column}
    return {"frame": out, "report": report}


# ---------------------------------------------------------------- clean.deduplicate

class DedupeParams(OpParams):
    subset: list[str] = ui_field([], en="Key columns", zh="键列",
                                 help_en="rows equal on these are duplicates; empty: rows equal in every column",
                                 help_zh="这些列相同即视为重复；留空表示所有列都相同")
    keep: Literal["first", "last"] = ui_field("first", en="Keep", zh="保留", help_en="which of the duplicates to keep")


def _dedupe_example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant(rows=40)
    return {}, {"frame": pd.concat([frame, frame.iloc[:5]], ignore_index=True)}


@operator("clean.deduplicate", version=1, inputs=("frame",), outputs=("frame", "report"), example=_dedupe_example)
def deduplicate(params: DedupeParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Drop duplicate rows (exact, or on key columns), keeping the first or last of each."""
    require_columns(frame, params.subset)
    duplicated = frame.duplicated(subset=params.subset or None, keep=params.keep)
    out = frame[~duplicated]
    report = {"rows_in": len(frame), "rows_out": len(out), "duplicates_dropped": int(duplicated.sum()),
              "subset": params.subset or "all columns", "keep": params.keep, "rows": row_numbers(duplicated, 10)}
    return {"frame": out, "report": report}


# ---------------------------------------------------------------- clean.fix_types

class FixTypesParams(OpParams):
    types: dict[str, Literal["numeric", "category", "datetime", "text"]] = ui_field(
        en="Column types", zh="列类型", help_en="{column: numeric | category | datetime | text}")
    datetime_format: str | None = ui_field(None, en="Date/time format", zh="日期时间格式",
                                           help_en="e.g. %Y-%m-%d %H:%M; empty: inferred from the first value; "
                                                   "'mixed' parses each value on its own",
                                           help_zh="如 %Y-%m-%d %H:%M；留空则按第一个值推断；mixed 表示逐个解析")
    examples: int = ui_field(5, en="Bad values to show", zh="展示的错误值个数", ge=0, le=100)


def _convert(s: pd.Series, kind: str, fmt: str | None, column: str) -> pd.Series:
    if kind == "category":
        return s.astype("category")
    if kind == "text":
        return s.astype("str")
    if kind == "numeric":
        return s if pd.api.types.is_numeric_dtype(s) else pd.to_numeric(s.astype("str").str.strip(), errors="coerce")
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if pd.api.types.is_numeric_dtype(s):  # numbers would be read as nanoseconds since 1970: never what was meant
        raise StudioError(Msg(f"clean.fix_types: column '{column}' holds numbers, not dates; it cannot become datetime",
                              f"clean.fix_types：列 '{column}' 存的是数字，不是日期；不能转换为日期时间"))
    return pd.to_datetime(s.astype("str").str.strip(), format=fmt, errors="coerce")


def _blank(s: pd.Series) -> pd.Series:
    """Empty or all-space text: already missing in effect, so its conversion to missing is no failure."""
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        return s.astype("str").str.strip().eq("")
    return pd.Series(False, index=s.index)


def _fix_types_example() -> tuple[dict, dict]:
    frame = pd.DataFrame({"weight": ["12.5", "13", "12,5kg", None, " 14 "],
                          "day": ["2024-01-01", "2024-01-02", "bad", "2024-01-04", ""], "grade": list("ABABA")})
    return {"types": {"weight": "numeric", "day": "datetime", "grade": "category"}}, {"frame": frame}


@operator("clean.fix_types", version=1, inputs=("frame",), outputs=("frame", "report"), example=_fix_types_example)
def fix_types(params: FixTypesParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Cast columns to numeric, category, datetime or text; values that fail become missing and are reported."""
    require_columns(frame, params.types)
    out, report = frame.copy(deep=False), {}
    for i, (col, kind) in enumerate(params.types.items()):
        ctx.progress(i / max(1, len(params.types)), col)
        s = frame[col]
        out[col] = _convert(s, kind, params.datetime_format, col)
        blank = _blank(s)
        failed = s.notna() & ~blank & out[col].isna()
        rows = row_numbers(failed, params.examples)
        report[col] = {"to": kind, "failed": int(failed.sum()),
                       "examples": [{"row": r, "value": str(s.iloc[r - 1])} for r in rows]}
    return {"frame": out, "report": {"columns": report, "failed": sum(c["failed"] for c in report.values())}}


# ---------------------------------------------------------------- clean.filter_rows

class FilterParams(OpParams):
    condition: str = ui_field(en="Keep rows where", zh="保留满足条件的行", min_length=1, max_length=expr.MAX_LENGTH,
                              help_en="e.g. 温度 > 850 and shift in ('A', 'B') and `belt speed` is not null",
                              help_zh="例如 温度 > 850 and shift in ('A', 'B') and `belt speed` is not null")


def _filter_example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    return {"condition": "temp between 830 and 870 and not shift = 'B'"}, {"frame": tiny_plant()}


@operator("clean.filter_rows", version=1, inputs=("frame",), outputs=("frame", "report"), example=_filter_example)
def filter_rows(params: FilterParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Keep the rows matching a condition such as `温度 > 850 and shift in ('A', 'B')` (never eval'd)."""
    keep = expr.mask(params.condition, frame)
    out = frame[keep]
    report = {"condition": params.condition, "columns": expr.columns_of(expr.parse(params.condition)),
              "rows_in": len(frame), "rows_out": len(out), "rows_dropped": len(frame) - len(out)}
    return {"frame": out, "report": report}
