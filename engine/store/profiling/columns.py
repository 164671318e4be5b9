"""Per-column statistics computed inside DuckDB, in a few scans of the table (never loaded into pandas).

  scan A  all rows, exact: non-missing count, min, max, mean, std; distinct count (exact up to EXACT_ROWS rows,
          HyperLogLog above). Table-level counts ride along (`extra`): rows, duplicate rows, closed-loop rows.
  scan B  robust statistics: quantiles and MAD, exact up to EXACT_ROWS rows, above that from a deterministic
          hash sample of about SAMPLE_ROWS rows (same table, same sample, same answer).
  scan C  all rows, exact: outlier counts against the fences from B, share of the median value, histogram.
  scan D  one GROUP BY per text/bool column: its top values with counts.

The near-constant test needs the most common value's share. Any value covering more than half of the
non-missing cells *is* the median, so counting the median's share (one cheap `count_if`) decides the test
exactly for every threshold above 0.5 — no per-column GROUP BY over a million distinct doubles.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

from engine.store.binding import dtype_class
from engine.store.catalog import quote

EXACT_ROWS = 200_000  # up to here every statistic is exact; the scans stay well under a second
SAMPLE_ROWS = 200_000  # rank error of a quantile from n sampled rows ≈ sqrt(p(1-p)/n) < 0.0003: below display precision
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HIST_BINS = 20
TOP_VALUES = 10
IQR_K = 1.5  # Tukey's fences: below Q1 − 1.5·IQR or above Q3 + 1.5·IQR
MAD_Z = 3.5  # Iglewicz & Hoaglin: modified z = 0.6745·|x − median| / MAD; above 3.5 is an outlier
MAD_SCALE = 0.6745  # makes MAD comparable to a standard deviation for normal data
IDENTIFIER_SHARE = 0.9  # a text column whose values are ≥ 90 % distinct is a key (batch id), not a feature
IDENTIFIER_MIN_ROWS = 20  # ... judged only once there are enough values to tell


def jsonable(value: Any) -> Any:
    """DuckDB values as JSON: decimals to float, dates to ISO text, NaN/inf to None."""
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def select_one(con, table: str, exprs: dict[Any, tuple[str, list]], where: str = "") -> dict:
    """Run one SELECT of many aggregates over the table; returns key -> value."""
    if not exprs:
        return {}
    keys = list(exprs)
    sql = "SELECT " + ", ".join(exprs[k][0] for k in keys) + f" FROM {quote(table)}{where}"
    params = [p for k in keys for p in exprs[k][1]]
    return dict(zip(keys, con.execute(sql, params).fetchone()))


def _kinds(types: dict[str, str]):
    """(column, type class) pairs: numeric / bool / datetime / text / other."""
    return ((name, dtype_class(t)) for name, t in types.items())


def _as_double(column: str) -> str:
    return f"CAST({quote(column)} AS DOUBLE)"


# -- scan A --------------------------------------------------------------------------------------------------
def scan_exact(con, table: str, types: dict[str, str], exact: bool, extra: dict) -> dict:
    exprs = dict(extra)
    for name, kind in _kinds(types):
        q = quote(name)
        exprs[(name, "n")] = (f"count({q})", [])
        if kind == "other":
            continue
        exprs[(name, "distinct")] = (f"count(DISTINCT {q})" if exact else f"approx_count_distinct({q})", [])
        if kind == "numeric":
            x = _as_double(name)
            for stat in ("min", "max", "avg", "stddev_samp"):
                exprs[(name, stat)] = (f"{stat}({x})", [])
        elif kind == "datetime":
            exprs[(name, "min")] = (f"min({q})", [])
            exprs[(name, "max")] = (f"max({q})", [])
    return select_one(con, table, exprs)


# -- scan B --------------------------------------------------------------------------------------------------
def sample_filter(rows: int) -> str:
    """Every row up to EXACT_ROWS; above, a deterministic hash sample of about SAMPLE_ROWS rows."""
    if rows <= EXACT_ROWS:
        return ""
    step = math.ceil(rows / SAMPLE_ROWS)
    return f" WHERE hash(rowid) % {step} = 0"


def scan_robust(con, table: str, types: dict[str, str], counts: dict, rows: int) -> dict:
    """Quantiles and MAD: exact for columns with up to EXACT_ROWS values, from the hash sample for larger ones."""
    exact, sampled = {}, {}
    for name, kind in _kinds(types):
        present = counts[(name, "n")]
        group = exact if present <= EXACT_ROWS else sampled
        if present and kind == "numeric":
            x = _as_double(name)
            group[(name, "quantiles")] = (f"quantile_cont({x}, {list(QUANTILES)})", [])
            group[(name, "mad")] = (f"mad({x})", [])
        elif present and kind == "datetime":
            group[(name, "median")] = (f"quantile_disc({quote(name)}, 0.5)", [])
    return {**select_one(con, table, exact), **select_one(con, table, sampled, sample_filter(rows))}


# -- scan C --------------------------------------------------------------------------------------------------
def numeric_fences(quantiles: list[float], mad: float | None) -> dict:
    """IQR and MAD fences of a numeric column from its quantiles and MAD (None where undefined)."""
    q = dict(zip(QUANTILES, quantiles))
    iqr = q[0.75] - q[0.25]
    fences = {"iqr": (q[0.25] - IQR_K * iqr, q[0.75] + IQR_K * iqr), "mad": None, "median": q[0.5]}
    if mad:  # MAD 0 (over half the values equal): the modified z-score is undefined
        reach = MAD_Z * float(mad) / MAD_SCALE
        fences["mad"] = (q[0.5] - reach, q[0.5] + reach)
    return fences


def hist_edges(low: float, high: float) -> list[float]:
    if high <= low:
        return [low, high]
    width = (high - low) / HIST_BINS
    return [low + i * width for i in range(HIST_BINS)] + [high]


def scan_counts(con, table: str, types: dict[str, str], stats: dict) -> dict:
    exprs = {}
    for name, kind in _kinds(types):
        if kind == "numeric" and stats[(name, "n")]:
            x, fences = _as_double(name), numeric_fences(stats[(name, "quantiles")], stats[(name, "mad")])
            exprs[(name, "iqr")] = (f"count_if({x} < ? OR {x} > ?)", list(fences["iqr"]))
            if fences["mad"]:
                exprs[(name, "mad_out")] = (f"count_if({x} < ? OR {x} > ?)", list(fences["mad"]))
            exprs[(name, "median_n")] = (f"count_if({x} = ?)", [fences["median"]])
            inner = hist_edges(stats[(name, "min")], stats[(name, "max")])[1:-1]
            if inner:  # DuckDB buckets are (edge_i, edge_i+1]; values above the last inner edge go to the last bin
                exprs[(name, "hist")] = (f"map_values(histogram({x}, ?::DOUBLE[]))", [inner])
        elif kind == "datetime" and stats.get((name, "median")) is not None:
            exprs[(name, "median_n")] = (f"count_if({quote(name)} = ?)", [stats[(name, "median")]])
    return select_one(con, table, exprs)


# -- scan D --------------------------------------------------------------------------------------------------
def top_values(con, table: str, column: str) -> list[dict]:
    q = quote(column)
    sql = (f"SELECT {q} AS v, count(*) AS n FROM {quote(table)} WHERE {q} IS NOT NULL "
           f"GROUP BY {q} ORDER BY n DESC, v LIMIT {TOP_VALUES}")
    return [{"value": jsonable(v), "count": int(n)} for v, n in con.execute(sql).fetchall()]


# -- assembling one column's profile -------------------------------------------------------------------------
def column_profile(name: str, duckdb_type: str, stats: dict, rows: int, exact: bool, near_constant: float,
                   top: list[dict] | None) -> dict:
    kind = dtype_class(duckdb_type)
    present = int(stats[(name, "n")])
    missing = rows - present
    distinct = stats.get((name, "distinct"))
    out = {"name": name, "type": duckdb_type, "class": kind, "missing": missing,
           "missing_pct": round(100.0 * missing / rows, 4) if rows else 0.0,
           "distinct": int(distinct) if distinct is not None else None, "distinct_exact": exact}
    common = _most_common(name, kind, stats, present, top)
    out["most_common"] = common
    share = common["share"] if common else 0.0
    out["constant"] = present == 0 or share == 1.0
    out["near_constant"] = present == 0 or share >= near_constant
    out["identifier_like"] = (kind == "text" and present >= IDENTIFIER_MIN_ROWS
                              and (distinct or 0) >= IDENTIFIER_SHARE * present)
    if kind == "numeric" and present:
        out.update(_numeric_part(name, stats))
    elif kind == "datetime" and present:
        out.update({"min": jsonable(stats[(name, "min")]), "max": jsonable(stats[(name, "max")])})
    elif top is not None:
        out["histogram"] = {"top": top, "other": present - sum(t["count"] for t in top)}
    return out


def _most_common(name: str, kind: str, stats: dict, present: int, top: list[dict] | None) -> dict | None:
    """The most common value and its share of the non-missing cells, where known (see the module docstring)."""
    if not present:
        return None
    if top:
        return {"value": top[0]["value"], "share": top[0]["count"] / present}
    hits = stats.get((name, "median_n"))
    if not hits or hits * 2 <= present:  # no value covers half the cells: not near-constant at any threshold > 0.5
        return None
    median = stats[(name, "quantiles")][3] if kind == "numeric" else stats[(name, "median")]
    return {"value": jsonable(median), "share": hits / present}


def _numeric_part(name: str, stats: dict) -> dict:
    fences = numeric_fences(stats[(name, "quantiles")], stats[(name, "mad")])
    edges = hist_edges(stats[(name, "min")], stats[(name, "max")])
    counts = [int(c) for c in stats.get((name, "hist")) or [stats[(name, "n")]]]
    counts += [0] * (len(edges) - 1 - len(counts))  # DuckDB omits an empty overflow (last) bucket
    mad_rule = None
    if fences["mad"]:
        mad_rule = {"count": int(stats[(name, "mad_out")]), "low": fences["mad"][0], "high": fences["mad"][1],
                    "rule": f"0.6745·|x − median| / MAD > {MAD_Z}"}
    return {
        "min": jsonable(stats[(name, "min")]), "max": jsonable(stats[(name, "max")]),
        "mean": jsonable(stats[(name, "avg")]),
        "std": jsonable(stats[(name, "stddev_samp")]), "mad": jsonable(stats[(name, "mad")]),
        "quantiles_exact": stats[(name, "n")] <= EXACT_ROWS,
        "quantiles": {f"p{round(q * 100)}": jsonable(v) for q, v in zip(QUANTILES, stats[(name, "quantiles")])},
        "outliers": {"iqr": {"count": int(stats[(name, "iqr")]), "low": fences["iqr"][0], "high": fences["iqr"][1],
                             "rule": f"x < Q1 − {IQR_K}·IQR or x > Q3 + {IQR_K}·IQR"},
                     "mad": mad_rule},
        "histogram": {"edges": edges, "counts": counts},
    }
