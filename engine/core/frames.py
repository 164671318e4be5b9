"""Frame helpers shared by the cleaning and alignment operators: column checks, time columns, row numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core import expr
from engine.core.errors import StudioError
from engine.core.i18n import Msg, join, zh


def require_columns(frame: pd.DataFrame, names, what: str = "column") -> None:
    """Raise one error naming every missing column, each with its closest match."""
    problems = []
    for name in names:
        if name not in frame.columns:
            guess = expr.closest(name, frame.columns)
            what_zh = _WHAT_ZH.get(str(what), zh(what))
            problems.append(Msg(f"{what} '{name}' is not in the data" + (f" (did you mean '{guess}'?)" if guess else ""),
                                f"{what_zh} '{name}' 不在数据中" + (f"（是不是 '{guess}'？）" if guess else "")))
    if problems:
        raise StudioError(join("; ", problems, "；"))


_WHAT_ZH = {"column": "列", "time column": "时间列", "right-table column": "右表的列"}


def as_datetime(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column `column` as datetimes; text in one consistent format is parsed, anything else is refused."""
    require_columns(frame, [column], "time column")
    s = frame[column]
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    if pd.api.types.is_numeric_dtype(s):
        raise StudioError(Msg(f"time column '{column}' is numeric, not a date/time; convert it with clean.fix_types",
                              f"时间列 '{column}' 是数值，不是日期/时间；请用 clean.fix_types 转换"))
    try:
        return pd.to_datetime(s)
    except (ValueError, TypeError) as exc:
        raise StudioError(Msg(f"time column '{column}' does not parse as date/time ({exc}); "
                              "convert it with clean.fix_types and a datetime format",
                              f"时间列 '{column}' 无法解析为日期/时间（{exc}）；请用 clean.fix_types 并指定日期时间格式转换")) from exc


def row_numbers(flags: pd.Series, limit: int) -> list[int]:
    """1-based positions of the first `limit` flagged rows."""
    return [int(i) + 1 for i in np.flatnonzero(flags.to_numpy())[:limit]]
