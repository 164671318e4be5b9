"""Scoring benchmark: a run's saved model applied to a large file in chunks, against reading it whole.

    .venv/bin/python bench/bench_scoring.py                 # 1,000,000 rows × 100 columns
    .venv/bin/python bench/bench_scoring.py --rows 200000   # quicker

A quick_model run is trained on 5,000 rows × 100 numeric columns (a known function of 10 of them). The new data, N rows
of the same columns, is written as Parquet by DuckDB (never held in Python). Each way of scoring runs in its own
process, so its peak resident memory (ru_maxrss) is its own:
- studio: `api.score(run, file, out=pred.parquet)` — checks, then Arrow batches of `--chunk` rows;
- baseline: `pandas.read_parquet(file)` whole, the same saved booster's `predict` on all rows, `to_parquet`.
Printed: rows/s and peak memory of each, and the ratios. The predictions of both are compared (max |difference|).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = 100


def _make_data(path: Path, rows: int, seed: float) -> None:
    import duckdb

    cols = ", ".join(f"random() * 10 AS x{i:03d}" for i in range(COLUMNS))
    with duckdb.connect() as con:
        con.execute(f"SELECT setseed({seed})").fetchall()
        con.execute(f"COPY (SELECT range AS row_id, {cols} FROM range({rows})) TO '{path}' (FORMAT parquet)")


def _train(home: Path, folder: Path) -> str:
    import duckdb

    from engine import api

    train = folder / "train.parquet"
    _make_data(train, 5000, 0.1)
    with duckdb.connect() as con:  # target: a known function of 10 columns plus noise
        con.execute(f"COPY (SELECT *, x000 * 2 + sin(x001) * 5 + x002 * x003 / 10 + (x004 > 5)::INT * 3 "
                    f"+ random() AS y FROM read_parquet('{train}')) TO '{folder / 'train_y.parquet'}' (FORMAT parquet)")
    db = home / "studio.duckdb"
    api.ingest(folder / "train_y.parquet", "train", db=db)
    features = [f"x{i:03d}" for i in range(COLUMNS)]
    recipe = {"template": "quick_model", "name": "bench scoring", "data": {"table": "train"},
              "roles": {"target": "y", "controllable": features[:10], "context": features[10:],
                        "ignore": ["row_id"]},
              "params": {"folds": 2, "n_estimators": 200, "n_samples": 100}}
    return api.run_recipe(recipe, db=db)["run_id"]


def _child(mode: str, home: str, run_id: str, data: str, out: str, chunk: int) -> None:
    import resource

    os.environ["AI_STUDIO_HOME"] = home
    t0 = time.perf_counter()
    if mode == "studio":
        from engine import api

        res = api.score(run_id, data, out=out, chunk_rows=chunk, keep=["row_id"])
        rows = res.rows
    else:
        import lightgbm as lgb
        import pandas as pd

        from engine import api

        run_dir = Path(api.get_run(run_id)["run_dir"]) / "model"
        manifest = json.loads((run_dir / "model.json").read_text(encoding="utf-8"))
        booster = lgb.Booster(model_file=str(run_dir / "booster.txt"))
        frame = pd.read_parquet(data)
        pred = booster.predict(frame[manifest["features"]])
        pd.DataFrame({"row_id": frame["row_id"], "prediction": pred}).to_parquet(out, index=False)
        rows = len(frame)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_mb}))


def _measure(mode: str, home: Path, run_id: str, data: Path, out: Path, chunk: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, str(home), run_id, str(data), str(out),
                           str(chunk)], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, home, run_id, data, out, chunk = args.child
        _child(mode, home, run_id, data, out, int(chunk))
        return
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as tmp:
        folder, home = Path(tmp), Path(tmp) / "home"
        os.environ["AI_STUDIO_HOME"] = str(home)
        t0 = time.perf_counter()
        run_id = _train(home, folder)
        print(f"trained run {run_id} on 5,000 × {COLUMNS} in {time.perf_counter() - t0:.1f} s")
        data = folder / "new.parquet"
        _make_data(data, args.rows, 0.7)
        size = data.stat().st_size / 1e6
        print(f"new data: {args.rows:,} rows × {COLUMNS} columns (+ row_id), Parquet {size:.0f} MB "
              f"({args.rows * COLUMNS * 8 / 1e6:.0f} MB as float64)")
        studio = _measure("studio", home, run_id, data, folder / "studio.parquet", args.chunk)
        base = _measure("baseline", home, run_id, data, folder / "base.parquet", args.chunk)
        a = pd.read_parquet(folder / "studio.parquet")
        b = pd.read_parquet(folder / "base.parquet")
        diff = float((a["prediction"] - b["prediction"]).abs().max())
        for name, m in (("studio (chunked)", studio), ("baseline (whole)", base)):
            print(f"{name:<18} {m['rows'] / m['seconds']:>12,.0f} rows/s  {m['seconds']:7.1f} s  peak {m['peak_mb']:7.0f} MB")
        print(f"ratio studio/baseline: speed {base['seconds'] / studio['seconds']:.2f}×, "
              f"peak memory {studio['peak_mb'] / base['peak_mb']:.2f}×; max |prediction difference| {diff:.2e}; "
              f"out-of-range rows flagged by the studio: {int(a['out_of_range'].sum()):,}")


if __name__ == "__main__":
    main()
