"""The time axis of a table: coverage, typical sampling interval, gaps and duplicate timestamps, all in DuckDB."""

from __future__ import annotations

import datetime as dt
import re

from engine.store.catalog import quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg

TIME_NAME = re.compile(r"time|date|时间|日期", re.IGNORECASE)
GAP_FACTOR = 3  # an interval over 3× the typical one is a gap: at least two readings in a row are missing
LARGEST_GAPS = 5
_EPOCH = dt.datetime(1970, 1, 1)


def is_time_type(duckdb_type: str) -> bool:
    """DATE and TIMESTAMP columns lie on a time axis (a TIME of day does not)."""
    return duckdb_type.upper().startswith(("DATE", "TIMESTAMP"))


def pick_time_column(types: dict[str, str], requested: str | None) -> str | None:
    """The caller's column, else the first date/time column named like time/date/时间/日期, else the first one."""
    if requested:
        return requested
    candidates = [name for name, t in types.items() if is_time_type(t)]
    named = [name for name in candidates if TIME_NAME.search(name)]
    return (named or candidates or [None])[0]


def _instant_sql(column: str, duckdb_type: str) -> str:
    """Microseconds since 1970 as BIGINT; text columns are parsed (unparsable text counts as missing)."""
    cast = "CAST" if is_time_type(duckdb_type) else "TRY_CAST"
    return f"epoch_us({cast}({quote(column)} AS TIMESTAMP))"


def time_axis(con, table: str, column: str, duckdb_type: str) -> dict:
    """Start, end, typical interval (median of the positive differences), gaps and duplicate timestamps."""
    sql = f"""
        WITH s AS (SELECT {_instant_sql(column, duckdb_type)} AS t FROM {quote(table)}),
             d AS (SELECT t, t - lag(t) OVER (ORDER BY t) AS dt FROM s WHERE t IS NOT NULL),
             m AS (SELECT quantile_cont(dt, 0.5) FILTER (WHERE dt > 0) AS med FROM d)
        SELECT count(*), min(t), max(t), count_if(dt = 0), any_value(med),
               count_if(dt > {GAP_FACTOR} * med), sum(dt - med) FILTER (WHERE dt > {GAP_FACTOR} * med),
               max_by({{'end': t, 'dt': dt}}, dt, {LARGEST_GAPS}) FILTER (WHERE dt > {GAP_FACTOR} * med)
        FROM d, m"""
    n, start, end, dup, median, gaps, lost, largest = con.execute(sql).fetchone()
    if not n:
        raise InvalidInput(Issue(Msg(f"time column '{column}' holds no dates or times", f"时间列 '{column}' 中没有日期或时间"),
                                 path="time", hint=Msg("choose a date/time column, or leave time empty to detect one",
                                                       "请选择一个日期/时间列，或留空让系统自动识别")))
    span = (end - start) / 1e6
    out = {"column": column, "timestamps": int(n), "start": _iso(start), "end": _iso(end), "span_seconds": span,
           "duplicate_timestamps": int(dup), "interval_seconds": None, "interval": None, "coverage": None,
           "gaps": {"count": 0, "threshold_seconds": None, "missing_seconds": 0.0, "largest": []}}
    if median is None:  # one distinct instant: no interval to speak of
        return out
    median_s = float(median) / 1e6
    out.update({"interval_seconds": median_s, "interval": duration(median_s)})
    out["gaps"] = {"count": int(gaps), "threshold_seconds": GAP_FACTOR * median_s,
                   "missing_seconds": float(lost or 0) / 1e6,
                   "largest": [_gap(g["end"], g["dt"]) for g in largest or []]}
    # share of the span actually sampled: time lost in gaps (beyond one typical interval each) is not
    out["coverage"] = 1.0 - out["gaps"]["missing_seconds"] / span if span > 0 else 1.0
    return out


def _gap(end_us: int, length_us: int) -> dict:
    seconds = length_us / 1e6
    return {"start": _iso(end_us - length_us), "end": _iso(end_us), "seconds": seconds, "duration": duration(seconds)}


def _iso(epoch_us: int) -> str:
    return (_EPOCH + dt.timedelta(microseconds=int(epoch_us))).isoformat(sep=" ")


def duration(seconds: float) -> str:
    """A short human duration: 0.5 s, 5 min, 2.5 h, 3 d (the units read the same in Chinese)."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
