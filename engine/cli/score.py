"""Command line: score RUN_ID --data FILE | --table NAME [--out PRED.csv|PRED.parquet] [--into TABLE] [--keep COL ...]."""

from __future__ import annotations

import json
import sys

from engine import api


def cmd_score(args) -> int:
    if args.cluster is not None:
        return _score_on_cluster(args)
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


def _score_on_cluster(args) -> int:
    """score --table NAME --cluster ...: a map over the table's Parquet partitions on a Dask cluster."""
    if not args.table:
        from engine.core.errors import InvalidInput, Issue
        from engine.core.i18n import Msg

        raise InvalidInput(Issue(Msg("--cluster scores a data-factory table: give --table NAME (ingest a file first)",
                                     "--cluster 对数据工厂中的表打分：请给出 --table 表名（文件请先导入）"),
                                 path="--cluster"))
    result = api.score_on_cluster(args.run_id, args.table, cluster=args.cluster, out=args.out, into=args.into,
                                  keep=args.keep, db=args.db)
    summary = result.to_dict()
    if args.json:
        print(json.dumps({**summary, "cluster": result.warnings[-1]}, ensure_ascii=False, indent=2, default=str))
    else:
        where = " and ".join(x for x in (result.path and f"file {result.path}", result.table and f"table {result.table}") if x)
        print(f"scored {result.rows:,} rows with run {result.run_id} on {args.cluster} "
              f"({result.warnings[-1]['partitions']} partitions) in {result.seconds:.2f} s "
              f"({result.rows_per_second:,.0f} rows/s); predictions: {where}")
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
    p.add_argument("--cluster", metavar="local[:N]|tcp://HOST:8786", default=None,
                   help="score a --table as a map over its Parquet partitions on a Dask cluster (needs --out or --into)")
    p.set_defaults(fn=cmd_score)
