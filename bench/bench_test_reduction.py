"""Test-item reduction benchmark: the operator on the simulated product test, scored on fresh products.

    .venv/bin/python bench/bench_test_reduction.py                  # 300 items × 4,000 products, seed 0
    .venv/bin/python bench/bench_test_reduction.py --seeds 0 1 2    # several simulated lines
    .venv/bin/python bench/bench_test_reduction.py --products 8000 --fresh 50000 --limit 0.005

Per line: items 300 → N, the cross-validated miss rate of bad products (with its one-sided Clopper-Pearson bounds)
and the miss rate on `--fresh` new products of the same line (never seen by the run), false alarms, wall and CPU
seconds; for the template's rule (kept items + guard models), for kept items only (`use_model=False`), for limits
inferred from the data instead of given, and for the plain plant rule "drop every item that never failed in the
history" as the baseline. Targets: fresh miss rate ≤ the limit, reduction ≥ 25 %, wall ≤ 60 s. The machine is
shared: the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.pipeline.context import StepContext  # noqa: E402
from engine.ml.reduction_cv import bounds  # noqa: E402
from engine.operators.item_reduction import ItemReductionParams, test_items  # noqa: E402
from engine.sim.check_items import make_test_line  # noqa: E402

TARGET_REDUCTION, TARGET_SECONDS = 25.0, 60.0


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fresh_rates(flags: np.ndarray, bad: np.ndarray) -> tuple[int, int, float]:
    return int((bad & ~flags).sum()), int(bad.sum()), float((~bad & flags).mean())


def run(line, fresh, bad, limit: float, seed: int, **params) -> dict:
    p = ItemReductionParams(target="verdict", items=line.item_names, mandatory=line.truth.mandatory,
                            max_miss_rate=limit, **params)
    wall, cpu = time.perf_counter(), time.process_time()
    out = test_items(p, StepContext("bench", "reduce", seed), line.frame)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    r = out["test_reduction"]
    misses, n_bad, alarms = fresh_rates(out["plan"].flags(fresh)["flagged"], bad)
    kept = set(out["plan"].kept)
    return {"kept": r["items_kept"], "reduction": r["reduction_pct"], "cv": r["miss_rate"], "fresh": (misses, n_bad),
            "fresh_fa": alarms, "cv_fa": r["false_alarm_rate"]["value"], "wall": wall, "cpu": cpu,
            "necessary": sum(n in kept for n in line.truth.necessary), "criterion": r["decision"]["criterion"]}


def never_failed_baseline(line, fresh, bad) -> dict:
    """What a plant often does by hand: drop every item that never failed in the history."""
    frame, kept = line.frame, []
    for name in line.item_names:
        if name in line.truth.passfail:
            failed = (frame[name] == "FAIL").any()
        else:
            lo, hi = line.limits[name]
            failed = ((frame[name] < lo) | (frame[name] > hi)).any()
        if failed or name in line.truth.mandatory:
            kept.append(name)
    flags = np.zeros(len(fresh), bool)
    for name in kept:
        if name in line.truth.passfail:
            flags |= (fresh[name] == "FAIL").to_numpy()
        else:
            lo, hi = line.limits[name]
            flags |= ((fresh[name] < lo) | (fresh[name] > hi)).to_numpy()
    misses, n_bad, alarms = fresh_rates(flags, bad)
    return {"kept": len(kept), "fresh": (misses, n_bad), "fresh_fa": alarms}


def pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def show(name: str, r: dict, total: int, confidence: float) -> None:
    misses, n_bad = r["fresh"]
    lo, hi = bounds(misses, n_bad, confidence)
    line = f"  {name:<24} {total} → {r['kept']:>3} items ({100 * (total - r['kept']) / total:4.1f} % fewer)   "
    if "cv" in r:
        cv = r["cv"]
        line += f"CV miss {pct(cv['value'])} [{pct(cv['low'])}, {pct(cv['high'])}] ({cv['criterion'] if 'criterion' in cv else r['criterion']}), "
    line += f"fresh miss {misses}/{n_bad} = {pct(misses / max(n_bad, 1))} [{pct(lo)}, {pct(hi)}], fresh FA {pct(r['fresh_fa'])}"
    if "wall" in r:
        line += f", {r['wall']:.1f} s wall / {r['cpu']:.1f} s CPU, necessary kept {r['necessary']}"
    print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--products", type=int, default=4000)
    parser.add_argument("--fresh", type=int, default=20000)
    parser.add_argument("--limit", type=float, default=0.005)
    parser.add_argument("--confidence", type=float, default=0.95)
    args = parser.parse_args(argv)
    print(f"load average at start: {load()}")
    ok = True
    for seed in args.seeds:
        line = make_test_line(products=args.products, seed=seed)
        fresh = line.sample(args.fresh, seed=1000 + seed)
        bad = (fresh["verdict"] == "bad").to_numpy()
        total = len(line.items)
        print(f"line seed {seed}: {total} items, {args.products} products ({int((line.frame.verdict == 'bad').sum())} "
              f"bad), fresh {args.fresh} ({int(bad.sum())} bad); at least {line.truth.min_kept} items needed; "
              f"limit {pct(args.limit)}")
        base = never_failed_baseline(line, fresh, bad)
        show("baseline: never failed", base, total, args.confidence)
        main_run = run(line, fresh, bad, args.limit, seed, limits=line.limits)
        show("template (given limits)", main_run, total, args.confidence)
        show("kept items only", run(line, fresh, bad, args.limit, seed, limits=line.limits, use_model=False), total,
             args.confidence)
        show("inferred limits", run(line, fresh, bad, args.limit, seed), total, args.confidence)
        misses, n_bad = main_run["fresh"]
        passed = (misses / n_bad <= args.limit and main_run["reduction"] >= TARGET_REDUCTION
                  and main_run["wall"] <= TARGET_SECONDS)
        ok &= passed
        print(f"  ratio items kept template / baseline: {main_run['kept'] / base['kept']:.2f}; "
              f"targets (fresh miss ≤ {pct(args.limit)}, reduction ≥ {TARGET_REDUCTION:.0f} %, wall ≤ "
              f"{TARGET_SECONDS:.0f} s): {'PASS' if passed else 'FAIL'}")
    print(f"load average at end: {load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
