"""Table profile computed in DuckDB, with a data readiness score, cached per table fingerprint.

    profile_table(catalog, "line3", target="yield", controllable=["furnace_temp"]) -> dict (JSON-able):
      table, fingerprint, rows, n_columns, duplicate_rows (+ duplicate_rows_exact),
      readiness   {score, data_density, collection_density, closed_loop, useful_columns, reasons[{code, en, zh}]}
                  — see readiness.py for the formula
      time        {column, start, end, interval_seconds, gaps {count, largest[]}, duplicate_timestamps, coverage}
                  or None when the table has no date/time column — see timeaxis.py
      columns     [{name, type, class, missing, missing_pct, distinct, most_common, constant, near_constant,
                    min, max, mean, std, quantiles, outliers {iqr, mad}, histogram}] — see columns.py
      closed_loop_rows, options, computed_at, compute_seconds, cached (served from the cache), served_seconds

Only aggregates travel from DuckDB to Python: a 1,000,000 × 50 table is profiled in a few seconds. The table is
copied out in one scan and profiled on the copy, so the data factory is not held during the many scans.
"""

from __future__ import annotations

import difflib
import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from time import perf_counter

import duckdb

from engine.store.binding import dtype_class
from engine.store.catalog import Catalog, quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg, did_you_mean
from engine.store.profiling import columns as col_stats, store
from engine.store.profiling.readiness import readiness
from engine.store.profiling.timeaxis import pick_time_column, time_axis

__all__ = ["profile_table"]


def profile_table(catalog: Catalog, table: str, *, time: str | None = None, target: str | None = None,
                  controllable: list[str] | str | None = None, near_constant: float = 0.99,
                  refresh: bool = False) -> dict:
    """The profile of a data-factory table; served from the cache unless the table or the options changed."""
    started = perf_counter()
    folder = None
    try:
        with catalog.connect() as con:
            found = con.execute("SELECT name, fingerprint, columns FROM _studio_tables WHERE lower(name) = lower(?)",
                                [table]).fetchone()
            if found:  # copied in the same connection as the metadata read: the copy matches the fingerprint
                name, fingerprint, types = found[0], found[1], json.loads(found[2])
                options = _options(types, time, target, controllable, near_constant)
                key = store.cache_key(name, fingerprint, options)
                profile = None if refresh else store.load(con, key)
                cached = profile is not None
                if not cached:
                    folder = Path(tempfile.mkdtemp(prefix=".profile-", dir=catalog.path.parent))
                    _copy_out(con, name, folder / "copy.duckdb")
        if not found:
            catalog.table_info(table)  # raises "no table ..." with a suggestion
        if not cached:  # the many scans run on the copy: the data factory is free meanwhile
            copy = duckdb.connect(str(folder / "copy.duckdb"))
            try:
                profile = _compute(copy, name, fingerprint, types, options)
            finally:
                copy.close()
            profile["compute_seconds"] = perf_counter() - started
            store.save(catalog, key, profile)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return {**profile, "cached": cached, "served_seconds": perf_counter() - started}


def _options(types: dict[str, str], time, target, controllable, near_constant: float) -> dict:
    """The caller's choices, checked against the table; every problem reported at once."""
    controllable = [controllable] if isinstance(controllable, str) else list(controllable or [])
    issues = []
    for role, names in (("time", [time] if time else []), ("target", [target] if target else []),
                        ("controllable", controllable)):
        issues += [_unknown_column(role, n, types) for n in names if n not in types]
    if not 0.5 < near_constant <= 1.0:  # the median-share test in columns.py decides exactly only above one half
        issues.append(Issue(Msg(f"near_constant must be above 0.5 and at most 1 (got {near_constant})",
                                f"near_constant 必须大于 0.5 且不超过 1（现在是 {near_constant}）"), path="near_constant",
                            hint=Msg("e.g. 0.99: a column whose most common value covers ≥ 99 %",
                                     "例如 0.99：最常见的值占 ≥ 99 % 的列")))
    if issues:
        raise InvalidInput(issues)
    return {"time": time, "target": target, "controllable": controllable, "near_constant": near_constant}


def _unknown_column(role: str, name: str, types: dict[str, str]) -> Issue:
    close = difflib.get_close_matches(name, list(types), n=1) or [c for c in types if c.lower() == name.lower()]
    listed = ', '.join(list(types)[:12])
    hint = did_you_mean(close[0]) if close else Msg(f"columns: {listed}", f"可选列：{listed}")
    return Issue(Msg(f"no column '{name}' in the table", f"表中没有列 '{name}'"), path=role, hint=hint)


def _copy_out(con, name: str, target: Path) -> None:
    """One scan of the table into a scratch DuckDB file (the profile's many scans then run there)."""
    con.execute(f"ATTACH '{str(target).replace(chr(39), chr(39) * 2)}' AS _studio_profile_copy")
    try:
        con.execute(f"CREATE TABLE _studio_profile_copy.main.{quote(name)} AS SELECT * FROM main.{quote(name)}")
    finally:
        con.execute("DETACH _studio_profile_copy")


def _compute(con, name: str, fingerprint: str, types: dict[str, str], options: dict) -> dict:
    rows = con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
    exact = rows <= col_stats.EXACT_ROWS
    stats = col_stats.scan_exact(con, name, types, exact, _loop_count(options))
    stats.update(col_stats.scan_robust(con, name, types, stats, rows))
    stats.update(col_stats.scan_counts(con, name, types, stats))
    profiles = [col_stats.column_profile(n, t, stats, rows, exact, options["near_constant"], _top(con, name, n, t, stats))
                for n, t in types.items()]
    time_column = pick_time_column(types, options["time"])
    profile = {
        "table": name, "fingerprint": fingerprint, "rows": rows, "n_columns": len(types),
        "duplicate_rows": _duplicate_rows(con, name, types, exact), "duplicate_rows_exact": exact,
        "closed_loop_rows": stats.get(("", "loop")),
        "time": time_axis(con, name, time_column, types[time_column]) if time_column else None,
        "columns": profiles, "options": options,
        "computed_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
    }
    profile["readiness"] = readiness(profile, options["target"], options["controllable"])
    profile["columns"] = profile.pop("columns")  # the long list last, for people reading the JSON
    return profile


def _top(con, table: str, column: str, duckdb_type: str, stats: dict) -> list[dict] | None:
    if dtype_class(duckdb_type) in ("text", "bool") and stats[(column, "n")]:
        return col_stats.top_values(con, table, column)
    return None


def _loop_count(options: dict) -> dict:
    """Rows where the target and every controllable are recorded (the closed-loop rows), when both are named."""
    if not options["target"] or not options["controllable"]:
        return {}
    recorded = " AND ".join(f"{quote(c)} IS NOT NULL" for c in [options["target"], *options["controllable"]])
    return {("", "loop"): (f"count_if({recorded})", [])}


def _duplicate_rows(con, table: str, types: dict[str, str], exact: bool) -> int:
    """Rows equal to an earlier row. Large tables compare 64-bit row hashes: a false match among 10^6 rows has
    a probability near 10^-8, and it costs a fifth of an exact DISTINCT over every column."""
    if exact:
        sql = f"SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM {quote(table)})) FROM {quote(table)}"
    else:
        sql = f"SELECT count(*) - count(DISTINCT hash({', '.join(quote(c) for c in types)})) FROM {quote(table)}"
    return int(con.execute(sql).fetchone()[0])
