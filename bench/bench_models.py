"""Model search bench: plain LightGBM against the studio's model search on UCI CCPP and Concrete, 10 folds.

    .venv/bin/python bench/bench_models.py [--budget 300] [--folds 10] [--data ccpp concrete]

Baseline, measured in the same run: `LGBMRegressor()` (library defaults) cross-validated on the same 10 shuffled
folds (scikit-learn's `cross_val_score`). Studio: the `model.search@3` operator (engine/ml/model_search.py; what quick_model 1.3.0 and recipe_tuning 1.3.0 run) with
the given time budget; its R² is the NESTED figure (each outer fold searched and picked on its training rows only),
the one result.json reports — not the best-of-N selection score. Targets: R² >= 0.970 (CCPP), >= 0.950 (Concrete).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.model_selection import KFold, cross_val_score  # noqa: E402

DATA = {"ccpp": (Path("/work/shared/data/ccpp/Folds5x2_pp.csv"), ROOT / "data/demo/ccpp.csv", "PE", 0.970),
        "concrete": (None, ROOT / "data/demo/concrete.csv", "strength_mpa", 0.950)}


def load(name: str) -> tuple[pd.DataFrame, str, float]:
    shared, bundled, target, goal = DATA[name]
    path = shared if shared is not None and shared.exists() else bundled
    return pd.read_csv(path), target, goal


def plain(frame: pd.DataFrame, target: str, folds: int) -> tuple[float, float, float]:
    x, y = frame.drop(columns=[target]), frame[target]
    t = time.perf_counter()
    s = cross_val_score(lgb.LGBMRegressor(verbose=-1, n_jobs=1), x, y, cv=KFold(folds, shuffle=True, random_state=0),
                        scoring="r2")
    return float(s.mean()), float(s.std()), time.perf_counter() - t


def studio(frame: pd.DataFrame, target: str, folds: int, budget: float, candidates: list[str]) -> tuple[dict, float]:
    from engine.pipeline.context import StepContext
    from engine.operators.model_search import ModelSearchParams, search_v3 as search

    params = ModelSearchParams(target=target, features=[c for c in frame.columns if c != target], folds=folds,
                               time_budget=budget, candidates=candidates)
    t = time.perf_counter()
    out = search(params, StepContext("bench", "search", 0), frame)
    return out, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--data", nargs="+", default=["ccpp", "concrete"])
    ap.add_argument("--candidates", nargs="+", default=["lightgbm_default", "lightgbm_tuned", "smooth"])
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    summary = []
    for name in args.data:
        frame, target, goal = load(name)
        base, base_std, base_s = plain(frame, target, args.folds)
        out, seconds = studio(frame, target, args.folds, args.budget, args.candidates)
        r2 = out["metrics"]["r2"]
        board = out["leaderboard"]
        print(f"\n{name}: {len(frame)} rows, {args.folds}-fold; plain LGBMRegressor() R² {base:.4f} ± {base_std:.4f} "
              f"({base_s:.1f} s)")
        print(f"  search (budget {args.budget:g} s): nested R² {r2['mean']:.4f} ± {r2['std']:.4f}, chosen "
              f"{board['chosen']} {board['chosen_settings']}, {seconds:.1f} s wall")
        for row in board["rows"]:
            mean = f"{row['mean']:.4f} ± {row['std']:.4f}" if row["mean"] is not None else "—"
            print(f"    {row['model']:<17} outer R² {mean}  selection {row['selection_score'] or float('nan'):.4f}  "
                  f"fit {row['fit_seconds']} s  trials {row['trials']}  {row['settings']}")
        if board["skipped"]:
            print(f"    skipped: {board['skipped']}")
        summary.append(f"{name:<9} plain {base:.4f}  search (nested) {r2['mean']:.4f}  ratio {r2['mean'] / base:.4f}  "
                       f"target >= {goal}: {'ok' if r2['mean'] >= goal else 'MISS'}  search wall {seconds:.0f} s")
    print(f"\nload average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("summary")
    for line in summary:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
