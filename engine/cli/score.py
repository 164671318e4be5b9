"""Command line: score RUN_ID --data FILE | --table NAME [--out PRED.csv|PRED.parquet] [--into TABLE] [--keep COL ...]."""

from __future__ import annotations

import json
import sys

from engine import api


def cmd_score(args) -> int:
    result = api.score(args.run_id, args.data, table=args.table, keep=args.keep, out=args.out, into=args.into,
                       collect=not (args.out or args.into), db=args.db, chunk_rows=args.chunk_rows,
                       latest=args.latest)
    summary = result.to_dict()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        where = " and ".join(x for x in (result.path and f"file {result.path}",
                                          result.table and f"table {result.table}") if x) or "below"
        print(f"scored {result.rows:,} rows with run {result.run_id} ({summary['model'].get('task', summary['model']['kind'])}) "
              f"in {result.seconds:.2f} s ({result.rows_per_second:,.0f} rows/s); predictions: {where}")
        if result.out_of_range:
            cols = ", ".join(f"{c} ({n})" for c, n in sorted(result.out_of_range_columns.items(), key=lambda x: -x[1])[:8])
            print(f"{result.out_of_range:,} rows lie outside the training range (out_of_range = true): {cols}",
                  file=sys.stderr)
        if result.frame is not None:
            print(result.frame.to_csv(index=False), end="")
    return 0


def add_commands(add) -> None:
    p = add("score", help="apply a run's saved model to new data (predictions with interval / probability)")
    p.add_argument("run_id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="FILE", help="CSV, Parquet or Excel file of new rows")
    src.add_argument("--table", metavar="NAME", help="a data-factory table of new rows")
    p.add_argument("--out", metavar="PRED.csv|PRED.parquet", help="write the predictions to this file")
    p.add_argument("--into", metavar="TABLE", help="keep the predictions as a new data-factory table")
    p.add_argument("--keep", nargs="+", default=[], metavar="COL", help="input columns to carry into the output")
    p.add_argument("--chunk-rows", type=int, default=100_000, help="rows scored at a time (memory bound)")
    p.add_argument("--latest", action="store_true",
                   help="predictive maintenance: each unit's last row only (its current RUL / alarm)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON (not the predictions)")
    p.set_defaults(fn=cmd_score)
