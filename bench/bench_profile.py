"""Profile benchmark: `engine.store.profiling.profile_table` vs DuckDB's own `SUMMARIZE`, measured in the same run.

Run from the repo root:  .venv/bin/python bench/bench_profile.py [--rows N --cols N --repeat N | --quick]

The table is generated inside DuckDB (no CSV): a timestamp with a planted gap and repeated instants, a text
category, a constant column, four integer columns and float columns (every tenth with ~1 % NULLs and a few
planted outliers). The profile computes more than SUMMARIZE (outliers by two rules, histograms, top values,
duplicate rows, the time axis, the readiness score), so a ratio below 1 means it is also cheaper.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def table_sql(rows: int, cols: int) -> str:
    """CREATE TABLE t AS SELECT ... FROM range(rows): plant-like columns from DuckDB's random()."""
    gap_at, gap_len = rows // 2, 3600  # one hour without readings half-way through
    columns = [
        f"TIMESTAMP '2024-01-01' + to_seconds(CASE WHEN i < {gap_at} THEN i ELSE i + {gap_len} END"
        " - CASE WHEN i % 1000 = 999 THEN 1 ELSE 0 END) AS ts",  # every 1000th reading repeats an instant
        "['A1', 'A2', 'B1', 'B2', 'C1'][1 + (hash(i) % 5)::INT] AS line",
        "42.0 AS constant",
    ]
    columns += [f"(random() * {10 ** (k + 2)})::INT AS n{k}" for k in range(min(4, cols - 3))]
    for k in range(max(cols - 3 - 4, 0)):
        value = f"round({10 ** (k % 4)} * (1 + random() + CASE WHEN random() < 0.001 THEN 20 ELSE 0 END), 3)"
        if k % 10 == 0:
            value = f"CASE WHEN random() < 0.01 THEN NULL ELSE {value} END"
        columns.append(f"{value} AS x{k}")
    return f"CREATE TABLE t AS SELECT {', '.join(columns[:cols])} FROM range({rows}) r(i)"


def make_factory(path: Path, rows: int, cols: int) -> float:
    """The data factory with table t registered like an ingested table; returns the seconds it took."""
    import duckdb

    from engine.store.catalog import Catalog, TableInfo

    started = time.perf_counter()
    catalog = Catalog(path)
    with catalog.transaction() as con:
        con.execute("SELECT setseed(0.42)")
        con.execute(table_sql(rows, cols))
        types = {r[0]: r[1] for r in con.execute("DESCRIBE t").fetchall()}
        info = TableInfo("t", "bench", "-", f"bench-{rows}x{cols}-duckdb{duckdb.__version__}", rows, types, [],
                         "2024-01-01T00:00:00")
        catalog.register_table(con, info)
    return time.perf_counter() - started


def time_summarize(path: Path) -> float:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        started = time.perf_counter()
        con.execute("SUMMARIZE t").fetchall()
        return time.perf_counter() - started
    finally:
        con.close()


def time_profile(path: Path, refresh: bool) -> tuple[float, dict]:
    from engine.store.catalog import Catalog
    from engine.store.profiling import profile_table

    started = time.perf_counter()
    profile = profile_table(Catalog(path), "t", refresh=refresh)
    return time.perf_counter() - started, profile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = 100_000, 2
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        print(f"table t: {args.rows:,} rows × {args.cols} columns generated in DuckDB in "
              f"{make_factory(path, args.rows, args.cols):.2f} s")
        baseline, cold = [], []
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            baseline.append(time_summarize(path))
            seconds, profile = time_profile(path, refresh=True)
            cold.append(seconds)
        cached, again = time_profile(path, refresh=False)
        assert again["cached"], "the second profile should come from the cache"
    base, prof = statistics.median(baseline), statistics.median(cold)
    print(f"SUMMARIZE t (baseline)     median {base:6.2f} s   runs {', '.join(f'{s:.2f}' for s in baseline)}")
    print(f"profile_table (computed)   median {prof:6.2f} s   runs {', '.join(f'{s:.2f}' for s in cold)}")
    print(f"profile_table (cached)            {cached:6.3f} s")
    print(f"ratio profile / SUMMARIZE: {prof / base:.2f} (best runs {min(cold) / min(baseline):.2f})")
    r = profile["readiness"]
    axis = profile["time"]
    print(f"readiness {r['score']} (data {r['data_density']}, collection {r['collection_density']}); "
          f"duplicate rows {profile['duplicate_rows']}; time gaps {axis['gaps']['count']}, "
          f"repeated instants {axis['duplicate_timestamps']}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
