"""Scale benchmark (issue 21): quick_model on a 1,000,000 × 100 regression Parquet file against a plain script.

    flock /work/wt/cpu.lock nice .venv/bin/python bench/bench_scale.py                # 1 M × 100
    flock /work/wt/cpu.lock nice .venv/bin/python bench/bench_scale.py --rows 200000  # quicker
    flock /work/wt/cpu.lock nice .venv/bin/python bench/bench_scale.py --ten-million  # 10 M × 100 (tens of minutes)
    .venv/bin/python bench/bench_scale.py --rows 200000 --skip-plain --skip-score     # the studio run only

In the SAME run, each in its own process under `/usr/bin/time -v` (so its peak resident memory is its own — a
child's ru_maxrss would start from the bench's own):
- plain: DuckDB read of the whole file into pandas + 5-fold `LGBMRegressor()` (shuffled KFold), R² per fold;
- studio: `python -m engine run recipe.yaml` with `data: {file: ...}` (quick_model, target y, 10 controllable,
  90 context columns), default settings and default memory budget (or `--memory-budget-mb`);
- score: `python -m engine score RUN --data FILE --out pred.parquet` over the same file (rows/s and peak memory).
Printed: wall seconds, peak RSS, the studio/plain ratio, and the data's size in memory (rows × columns × 8 bytes,
what the plain script's frame holds). Targets: studio ≤ 1.5 × plain; studio peak RSS ≤ 2.5 × the data's size.

`--cluster ADDRESS` is a hook for the Dask comparison (issue 21, point 2): `cluster_run(args, folder, data)` below is
called with the generated file; it prints nothing until a Dask backend registers itself there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 100
PY = sys.executable

GENERATE = textwrap.dedent("""
    import sys, duckdb
    path, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    xs = ", ".join(f"round(random() * 10, 3) AS x{i:03d}" for i in range(cols))  # 3 decimals, as a historian exports
    with duckdb.connect() as con:
        con.execute("SET memory_limit = '2GB'")
        con.execute("SET enable_progress_bar = false")
        con.execute("SELECT setseed(0.42)").fetchall()
        # a known function of 10 columns plus noise; the other 90 are noise columns
        con.execute(f'''COPY (SELECT *, x000 * 2 + sin(x001) * 5 + x002 * x003 / 10 + (x004 > 5)::INT * 3
                              + x005 * x006 / 20 - x007 + cos(x008) * 2 + x009 / 3 + random() * 2 AS y
                            FROM (SELECT {xs} FROM range({rows})))
                        TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)''')
""")

PLAIN = textwrap.dedent("""
    import sys, time, duckdb, numpy as np, lightgbm as lgb
    from sklearn.model_selection import KFold
    from sklearn.metrics import r2_score
    t0 = time.perf_counter()
    df = duckdb.sql(f"SELECT * FROM read_parquet('{sys.argv[1]}')").df()
    x, y = df.drop(columns=["y"]), df["y"].to_numpy()
    scores = []
    for train, test in KFold(5, shuffle=True, random_state=0).split(x):
        model = lgb.LGBMRegressor(verbose=-1).fit(x.iloc[train], y[train])
        scores.append(r2_score(y[test], model.predict(x.iloc[test])))
    print("PLAIN_R2", float(np.mean(scores)), "SECONDS", time.perf_counter() - t0)
""")


def timed(cmd: list[str], env: dict | None = None, label: str = "") -> dict:
    """Run `cmd` under /usr/bin/time -v: wall seconds, peak RSS (MB), exit code, its output."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    out = {"label": label, "seconds": wall, "peak_mb": int(peak.group(1)) / 1024 if peak else float("nan"),
           "rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
    if proc.returncode != 0:
        print(f"{label} FAILED (exit {proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
    return out


def studio_env(home: Path, budget_mb: float | None) -> dict:
    env = {**os.environ, "AI_STUDIO_HOME": str(home), "PYTHONPATH": str(ROOT)}
    if budget_mb:
        env["AI_STUDIO_MEMORY_BUDGET_MB"] = str(budget_mb)
    return env


def write_recipe(folder: Path, data: Path) -> Path:
    features = [f"x{i:03d}" for i in range(COLUMNS)]
    recipe = {"template": "quick_model", "name": "bench scale", "data": {"file": str(data)},
              "roles": {"target": "y", "controllable": features[:10], "context": features[10:]},
              "params": {"folds": 5}}
    path = folder / "recipe.yaml"
    path.write_text(json.dumps(recipe))   # JSON is YAML
    return path


def cluster_run(args, folder: Path, data: Path) -> None:
    """The Dask comparison (--cluster): 5 M × 100 on the cluster vs one process with 2 threads — ratio, peak memory per
    worker, metrics within 1 % (bench/bench_cluster.py, which also runs on its own)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_cluster import cluster_bench

    cluster_bench(cluster=args.cluster if ":" in args.cluster else "local:2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--ten-million", action="store_true", help="10,000,000 rows (the memory budget in force)")
    ap.add_argument("--memory-budget-mb", type=float, default=None, help="AI_STUDIO_MEMORY_BUDGET_MB for the studio")
    ap.add_argument("--skip-plain", action="store_true")
    ap.add_argument("--with-plain", action="store_true", help="also run the plain script at 10 M (hours, ~25 GB)")
    ap.add_argument("--skip-score", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="keep the data and the run in DIR (reused when present)")
    ap.add_argument("--cluster", metavar="ADDRESS", help="also run the Dask comparison (local[:N] or tcp://...)")
    args = ap.parse_args()
    rows = 10_000_000 if args.ten_million else args.rows
    tmp = tempfile.TemporaryDirectory(prefix="bench-scale-") if not args.keep else None
    folder = Path(args.keep or tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"scale_{rows}.parquet"
    if not data.exists():
        t = time.perf_counter()
        subprocess.run([PY, "-c", GENERATE, str(data), str(rows), str(COLUMNS)], check=True)
        print(f"generated {data.name}: {rows:,} × {COLUMNS} + y, {data.stat().st_size / 1e6:.0f} MB on disk "
              f"in {time.perf_counter() - t:.1f} s")
    in_memory_mb = rows * (COLUMNS + 1) * 8 / 2**20
    print(f"data in memory (float64, as the plain script's frame): {in_memory_mb:,.0f} MB")

    plain = None
    if args.ten_million and not args.with_plain:
        args.skip_plain = True          # 8 GB read whole into pandas + 5 folds: more than this machine holds
    if not args.skip_plain:
        plain = timed([PY, "-c", PLAIN, str(data)], label="plain")
        r2 = re.search(r"PLAIN_R2 ([\d.eE+-]+)", plain["stdout"])
        print(f"plain  (DuckDB read + 5-fold LGBMRegressor()): {plain['seconds']:8.1f} s  peak {plain['peak_mb']:8.0f} MB"
              f"  R² {float(r2.group(1)) if r2 else float('nan'):.4f}")

    home = folder / "home"
    recipe = write_recipe(folder, data)
    out = folder / "run"
    studio = timed([PY, "-m", "engine", "run", str(recipe), "--out", str(out), "--quiet"],
                   env=studio_env(home, args.memory_budget_mb), label="studio")
    result = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else {}
    metrics = result.get("metrics", {})
    r2 = (metrics.get("r2") or {}).get("mean") if isinstance(metrics.get("r2"), dict) else metrics.get("r2")
    print(f"studio (quick_model end to end):               {studio['seconds']:8.1f} s  peak {studio['peak_mb']:8.0f} MB"
          f"  R² {r2 if r2 is not None else float('nan'):.4f}  status {result.get('status')}")
    scale = result.get("scale") or {}
    if scale:
        print(f"  training rows used: {scale.get('rows_used'):,} of {scale.get('rows_total'):,}"
              f" (memory budget {scale.get('budget_mb')} MB); sample for SHAP/curves: {scale.get('explain_rows')}")
        for point in scale.get("learning_curve", {}).get("points", []):
            print(f"    learning curve: {point['rows']:>10,} rows  {point['metric']} {point['mean']:.4f}")
    for step in result.get("timings", {}).get("steps") or []:
        print(f"  step {step['step']}: {step['seconds']:.1f} s (+ {step.get('io_seconds', 0):.1f} s loading)")
    board = (result.get("outputs") or {}).get("leaderboard") or {}
    if board:
        print(f"  model search: chosen {board.get('chosen')}, budget {board.get('budget_seconds')} s, "
              f"final model from {scale.get('final_model_from')}, skipped "
              f"{sorted({s['family'] for s in board.get('skipped') or []})}")
    if plain and plain["rc"] == 0 and studio["rc"] == 0:
        ratio = studio["seconds"] / plain["seconds"]
        print(f"ratio studio / plain: {ratio:.2f} (target ≤ 1.5)   studio peak / data in memory: "
              f"{studio['peak_mb'] / in_memory_mb:.2f} (target ≤ 2.5)   plain peak / data: "
              f"{plain['peak_mb'] / in_memory_mb:.2f}")

    if not args.skip_score and studio["rc"] == 0:
        run_id = result.get("run_id")
        pred = folder / "pred.parquet"
        scored = timed([PY, "-m", "engine", "score", run_id, "--data", str(data), "--out", str(pred), "--json"],
                       env=studio_env(home, None), label="score")
        if scored["rc"] == 0:
            summary = json.loads(scored["stdout"])
            print(f"score  {summary['rows']:,} rows: {scored['seconds']:.1f} s wall, "
                  f"{summary['rows_per_second']:,.0f} rows/s (scoring loop), peak {scored['peak_mb']:.0f} MB")
    if args.cluster:
        cluster_run(args, folder, data)
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
