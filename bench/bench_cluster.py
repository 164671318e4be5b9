"""Cluster benchmark: the Dask path (`--cluster local:2`) against one process with 2 threads, same data, same code.

    flock /work/wt/cpu.lock nice .venv/bin/python bench/bench_cluster.py                  # 5,000,000 × 100
    .venv/bin/python bench/bench_cluster.py --rows 200000 --trees 30                      # quick look

Both sides run the studio's own code on the same generated table (float32, a known nonlinear function of 8 of the
columns plus noise; seed fixed), each in its own process so that its peak memory is its own:
- **one process, 2 threads**: K cross-validation folds one after the other (`engine.ml.lgbm.fit_fold` through
  `engine.core.compute.map_tasks` with no cluster, LightGBM `num_threads=2`), then the final model on every row
  (`fit_booster`, 2 threads);
- **LocalCluster, 2 workers × 1 thread** (`engine.service.cluster.open_session(local:2)`): the same folds as tasks
  side by side (the matrix sent to each worker once), then ONE final model over Parquet partitions of the matrix
  across both workers with `lightgbm.dask` (`engine.ml.distributed.fit_partitioned`).
SHAP importance is left out of the folds on both sides (`explain=False`): on millions of test rows it is the cost the
one-machine work samples away, and it is the same work on either side.
Printed: seconds of each part and the ratio cluster / one process, peak memory (VmHWM) of the driving process and
of each worker, the cross-validated R² / RMSE of both (must agree within 1 %), and both final models' R² on a
separate hold-out table. `cluster_bench()` is the function bench/bench_scale.py's `--cluster` calls.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_table(rows: int, cols: int, seed: int):
    """A float32 table of `cols` features and a target that depends nonlinearly on 8 of them."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols), dtype=np.float32)
    y = (2.0 * x[:, 0] - x[:, 1] ** 2 + 1.5 * np.sin(3 * x[:, 2]) + x[:, 3] * x[:, 4] + 0.5 * np.abs(x[:, 5])
         + 0.8 * (x[:, 6] > 0.5) - 0.6 * x[:, 7] + rng.normal(0, 0.5, rows)).astype(np.float64)
    return pd.DataFrame(x, columns=[f"x{i:03d}" for i in range(cols)], copy=False), y


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def side(kind: str, rows: int, cols: int, folds: int, trees: int, cluster: str = "local:2") -> dict:
    """One side of the benchmark in this process: 'local' (2 threads) or 'cluster' (`cluster`, LocalCluster 2 × 1
    by default; a tcp:// address uses that scheduler's workers)."""
    import numpy as np

    from engine.core import compute
    from engine.ml.distributed import fit_partitioned
    from engine.ml.lgbm import fit_booster, fit_fold, lgb_params, splits, summarize
    from engine.service import cluster as clusters

    t0 = time.perf_counter()
    x, y = make_table(rows, cols, seed=1)
    hold_x, hold_y = make_table(max(rows // 20, 10_000), cols, seed=2)
    made = time.perf_counter() - t0
    params = {**lgb_params("regression", trees, 0.1, 31, 20, 0, None), "num_threads": 2}
    fold_idx = splits(rows, folds, 0, None, None, y, "regression")
    session = clusters.open_session(clusters.parse(cluster)) if kind == "cluster" else None
    out = {"side": kind, "cluster": cluster if session else None, "rows": rows, "cols": cols, "folds": folds,
           "trees": trees, "make_seconds": round(made, 1)}
    try:
        with compute.using(session):
            t = time.perf_counter()
            task = partial(fit_fold, task="regression", params=params, tune_threshold=False, explain=False)
            done = compute.map_tasks(task, fold_idx, shared={"x": x, "y": y})
            out["cv_seconds"] = round(time.perf_counter() - t, 1)
            out["cv"] = {k: v["mean"] for k, v in summarize([d["metrics"] for d in done]).items()}
            t = time.perf_counter()
            final = fit_partitioned(x, y, params) if session else fit_booster(x, y, params)
            out["final_seconds"] = round(time.perf_counter() - t, 1)
        pred = final.predict(hold_x)
        out["holdout_r2"] = float(1 - np.sum((hold_y - pred) ** 2) / np.sum((hold_y - hold_y.mean()) ** 2))
        if session:
            peaks = session.client.run(_peak_kb)
            out["worker_peak_mb"] = sorted(round(v / 1024) for v in peaks.values())
    finally:
        clusters.close_session(session)
    out["driver_peak_mb"] = round(_peak_kb() / 1024)
    out["data_mb"] = round(x.memory_usage(deep=True).sum() / 2 ** 20)
    return out


def _run_side(kind: str, args) -> dict:
    cmd = [sys.executable, __file__, "--side", kind, "--rows", str(args.rows), "--cols", str(args.cols),
           "--folds", str(args.folds), "--trees", str(args.trees), "--cluster", args.cluster]
    env = {**os.environ, "AI_STUDIO_HOME": args.home}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} side failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cluster_bench(rows: int = 5_000_000, cols: int = 100, folds: int = 3, trees: int = 50,
                  home: str | None = None, cluster: str = "local:2") -> dict:
    """Both sides, each in its own process; returns the figures and prints them. bench/bench_scale.py's
    `cluster_run(args, folder, data)` hook calls `cluster_bench(cluster=args.cluster)`."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        args = argparse.Namespace(rows=rows, cols=cols, folds=folds, trees=trees, home=home or tmp, cluster=cluster)
        local = _run_side("local", args)
        cluster = _run_side("cluster", args)
    figures = {"local": local, "cluster": cluster,
               "ratio_cv": round(cluster["cv_seconds"] / local["cv_seconds"], 2),
               "ratio_final": round(cluster["final_seconds"] / local["final_seconds"], 2),
               "ratio_total": round((cluster["cv_seconds"] + cluster["final_seconds"])
                                    / (local["cv_seconds"] + local["final_seconds"]), 2),
               "cv_r2_diff_pct": round(100 * abs(cluster["cv"]["r2"] - local["cv"]["r2"]) / abs(local["cv"]["r2"]), 3),
               "cv_rmse_diff_pct": round(100 * abs(cluster["cv"]["rmse"] - local["cv"]["rmse"]) / local["cv"]["rmse"], 3),
               "holdout_r2_diff_pct": round(100 * abs(cluster["holdout_r2"] - local["holdout_r2"])
                                            / abs(local["holdout_r2"]), 3)}
    _print(figures)
    return figures


def _print(f: dict) -> None:
    lo, cl = f["local"], f["cluster"]
    print(f"{lo['rows']:,} rows × {lo['cols']} columns (float32 {lo['data_mb']} MB), {lo['folds']}-fold CV, "
          f"{lo['trees']} trees, 31 leaves")
    name = "LocalCluster 2 × 1" if cl["cluster"] == "local:2" else cl["cluster"]
    print(f"{'':34}{'one process, 2 threads':>24}{name:>22}{'ratio':>8}")
    print(f"{'cross-validation folds (s)':34}{lo['cv_seconds']:>24}{cl['cv_seconds']:>22}{f['ratio_cv']:>8}")
    print(f"{'final model on every row (s)':34}{lo['final_seconds']:>24}{cl['final_seconds']:>22}{f['ratio_final']:>8}")
    print(f"{'total (s)':34}{lo['cv_seconds'] + lo['final_seconds']:>24.1f}"
          f"{cl['cv_seconds'] + cl['final_seconds']:>22.1f}{f['ratio_total']:>8}")
    print(f"{'peak memory, driving process (MB)':34}{lo['driver_peak_mb']:>24}{cl['driver_peak_mb']:>22}")
    print(f"{'peak memory per worker (MB)':34}{'—':>24}{' / '.join(map(str, cl['worker_peak_mb'])):>22}")
    print(f"{'CV R² / RMSE':34}{lo['cv']['r2']:>15.5f} / {lo['cv']['rmse']:.4f}{cl['cv']['r2']:>13.5f} / "
          f"{cl['cv']['rmse']:.4f}")
    print(f"{'final model hold-out R²':34}{lo['holdout_r2']:>24.5f}{cl['holdout_r2']:>22.5f}")
    print(f"metrics: CV R² differs by {f['cv_r2_diff_pct']} %, RMSE by {f['cv_rmse_diff_pct']} %, final hold-out R² by "
          f"{f['holdout_r2_diff_pct']} % (target: within 1 %)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--cols", type=int, default=100)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--trees", type=int, default=50)
    ap.add_argument("--cluster", default="local:2", help="the cluster side: local:2 (default) or tcp://HOST:8786")
    ap.add_argument("--side", choices=["local", "cluster"], help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = ap.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.rows, args.cols, args.folds, args.trees, args.cluster)))
        return
    figures = cluster_bench(args.rows, args.cols, args.folds, args.trees, cluster=args.cluster)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
