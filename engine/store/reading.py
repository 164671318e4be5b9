"""Reading a bound table where it is: only the columns a run uses, a sample stratified by time (or the target)
when the table is larger than the memory budget, and float32 for a number column whose values float32 holds
exactly (it halves that column's memory and changes no value).

The sample is systematic along the stratum: rows are numbered in order of the time column (else of the target),
and every k-th one is kept (k fractional: exactly `rows_used` rows spread evenly), so every stretch of time —
or every band of the target — keeps its share of rows. DuckDB does the numbering and the filtering; pandas only
ever receives the rows used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from engine.core.memory import MEMORY_BUDGET, table_mb

MIN_SAMPLE_ROWS = 1000
STREAM_ROWS = 1 << 15   # rows per Arrow batch when streaming a large all-number read
STREAM_MEMORY = "256MB"  # DuckDB's memory while it streams one
FLOAT32_FROM_MB = 64.0   # below this the saving is not worth a scan (and small tables keep their exact dtypes)


def q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


@dataclass
class ReadPlan:
    columns: list[str]                 # read these (in this order)
    rows_total: int | None             # rows of the bound table
    rows_used: int | None              # rows read (rows_total unless sampled)
    budget_mb: float
    table_mb: float                    # the columns read, whole, in memory (rows × columns × 8 bytes)
    stratum: str | None = None         # the column the sample is spread along
    stratum_role: str | None = None    # "time" or "target"
    sampled: bool = False
    budget_from: str = "default"
    float32: list[str] = field(default_factory=list)   # filled when read

    def describe(self) -> dict:
        out = asdict(self)
        out["float32"] = len(self.float32)
        out["columns"] = len(self.columns)
        out["share_used"] = round(self.rows_used / self.rows_total, 6) if self.rows_total and self.rows_used else None
        return out


def plan(rows: int | None, columns: list[str], *, time: str | None, target: str | None,
         budget_mb: float | None = None) -> ReadPlan:
    """What to read of a table of `rows` rows: all of `columns`, and — when they exceed the budget — how many rows
    of a sample spread along the time column (else the target)."""
    budget = MEMORY_BUDGET.mb() if budget_mb is None else float(budget_mb)
    size = table_mb(rows or 0, len(columns))
    out = ReadPlan(list(columns), rows, rows, budget, round(size, 1), budget_from=MEMORY_BUDGET.source())
    if rows and size > budget:
        out.sampled = True
        out.rows_used = int(min(rows, max(MIN_SAMPLE_ROWS, rows * budget / size)))
        out.stratum, out.stratum_role = (time, "time") if time else ((target, "target") if target else (None, None))
    return out


def read(con, relation: str, rp: ReadPlan) -> pd.DataFrame:
    """The planned rows and columns of `relation` (a quoted table name or a parenthesised SELECT) as a frame."""
    cols = ", ".join(q(c) for c in rp.columns)
    rp.float32 = _float32_exact(con, relation, rp.columns) if rp.table_mb >= FLOAT32_FROM_MB else []
    select = ", ".join(f"{q(c)}::FLOAT AS {q(c)}" if c in rp.float32 else q(c) for c in rp.columns)
    if not rp.sampled:
        return _fetch(con, f"SELECT {select} FROM {relation}", rp, rp.rows_total)
    if relation.startswith('"'):        # a table: pick the rows by a narrow query, then read only those rows
        return _read_rows(con, relation, rp, select)
    # every k-th row along the stratum, k = total / used (fractional): floor(n·used/total) steps once per kept row
    order = f"ORDER BY {q(rp.stratum)} NULLS LAST" if rp.stratum else ""
    inner = (f"SELECT {cols}, row_number() OVER ({order}) - 1 AS _n FROM {relation}" if order else
             f"SELECT {cols}, row_number() OVER () - 1 AS _n FROM {relation}")
    keep = (f"floor((_n + 1) * {rp.rows_used}::DOUBLE / {rp.rows_total}) > "
            f"floor(_n * {rp.rows_used}::DOUBLE / {rp.rows_total})")
    frame = _fetch(con, f"SELECT {select} FROM ({inner}) WHERE {keep} ORDER BY _n", rp, rp.rows_used)
    rp.rows_used = len(frame)
    return frame


def _keep_condition(rp: ReadPlan) -> str:
    """Row number _n (0-based, along the stratum) is kept when floor(n·used/total) steps: exactly `rows_used` rows,
    every k-th with k = total / used (fractional)."""
    return (f"floor((_n + 1) * {rp.rows_used}::DOUBLE / {rp.rows_total}) > "
            f"floor(_n * {rp.rows_used}::DOUBLE / {rp.rows_total})")


def _read_rows(con, relation: str, rp: ReadPlan, select: str) -> pd.DataFrame:
    """A sample of a table in two passes: the kept row ids from a narrow query (row id and stratum only, so
    numbering 10 M rows along time never sorts the whole table), then a scan that reads only those rows (in table
    order, deterministic)."""
    order = f"ORDER BY {q(rp.stratum)} NULLS LAST, rowid" if rp.stratum else "ORDER BY rowid"
    kept = con.execute(f"SELECT _rid FROM (SELECT rowid AS _rid, row_number() OVER ({order}) - 1 AS _n "
                       f"FROM {relation}) WHERE {_keep_condition(rp)}").fetchnumpy()["_rid"]
    con.register("_studio_keep", pd.DataFrame({"_rid": np.sort(kept)}))
    try:
        frame = _fetch(con, f"SELECT {select} FROM {relation} WHERE rowid IN (SELECT _rid FROM _studio_keep)", rp,
                       len(kept))
    finally:
        con.unregister("_studio_keep")
    rp.rows_used = len(frame)
    return frame


def _fetch(con, sql: str, rp: ReadPlan, rows: int | None) -> pd.DataFrame:
    """The query's rows as a frame. A large all-number read streams Arrow batches into one preallocated matrix (one
    pandas block: the model matrix can share it), so the load never holds the table twice (DuckDB's result and
    pandas' copy); anything else is DuckDB's own conversion."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {sql}").fetchall()}
    kinds = set(types.values())
    if rp.table_mb < FLOAT32_FROM_MB or not rows or len(kinds) != 1 or kinds - {"DOUBLE", "FLOAT"}:
        return con.execute(sql).df()
    dtype = np.float64 if kinds == {"DOUBLE"} else np.float32
    matrix = np.empty((len(types), rows), dtype=dtype)      # rows of this = columns of the frame (C order)
    filled = 0
    saved = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    con.execute(f"SET memory_limit = '{STREAM_MEMORY}'")   # one lean scan: DuckDB would otherwise read far ahead
    con.execute("SET threads = 1")
    try:
        for batch in con.sql(sql).to_arrow_reader(STREAM_ROWS):   # streamed: never the whole result at once
            n = batch.num_rows
            if filled + n > rows:           # more rows than counted (the table changed): DuckDB's conversion
                return con.execute(sql).df()
            for j in range(batch.num_columns):
                matrix[j, filled:filled + n] = batch.column(j).to_numpy(zero_copy_only=False)
            filled += n
    finally:
        con.execute(f"SET memory_limit = '{saved[0]}'")
        con.execute(f"SET threads = {int(saved[1])}")
    return pd.DataFrame(matrix[:, :filled].T, columns=list(types), copy=False)


def _float32_exact(con, relation: str, columns: list[str]) -> list[str]:
    """DOUBLE columns every value of which float32 holds exactly (one scan; none when the table has no DOUBLE)."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    doubles = [c for c in columns if types.get(c) == "DOUBLE"]
    floats = [c for c in columns if types.get(c) == "FLOAT"]
    if not doubles:
        return floats
    checks = ", ".join(f"bool_and({q(c)} IS NULL OR isnan({q(c)}) OR {q(c)}::FLOAT::DOUBLE = {q(c)})"
                       for c in doubles)
    exact = con.execute(f"SELECT {checks} FROM {relation}").fetchone()
    return floats + [c for c, ok in zip(doubles, exact) if ok]
