"""The live-monitoring demo: train on the simulated line, then make live batches with planted faults — as a table,
or dropped into a folder file by file as an MES would (for `python -m engine watch`).

    .venv/bin/python scripts/make_monitor_demo.py                       # run + table monitor_line_live (300 batches)
    .venv/bin/python scripts/make_monitor_demo.py --folder /tmp/mes --every 5   # drop 30-batch files every 5 s
    .venv/bin/python scripts/make_monitor_demo.py --run RUN_ID          # reuse a run of recipes/monitor_sim_line.yaml

Faults (engine/sim/monitor_line.py): the yield drops 1.5 sigma from batch 200, belt_speed leaves its window at 260,
wafer_resistivity drifts away from 230. Then: python -m engine monitor RUN_ID --table monitor_line_live, or the Monitor
page.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import api  # noqa: E402
from engine.sim import monitor_line  # noqa: E402

LIVE_TABLE = "monitor_line_live"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="data-factory file (default: the studio's)")
    parser.add_argument("--run", help="a succeeded run of recipes/monitor_sim_line.yaml (default: run it now)")
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--folder", help="drop the batches into this folder as CSV files instead of a table")
    parser.add_argument("--per-file", type=int, default=30, help="batches per dropped file")
    parser.add_argument("--every", type=float, default=0.0, help="seconds between dropped files")
    args = parser.parse_args()
    api.ensure_demo(args.db, simulated=True)
    result = api.load_result(args.run, args.db) if args.run else \
        api.run_recipe(ROOT / "recipes" / "monitor_sim_line.yaml", db=args.db)
    windows = {r["name"]: (r["low"], r["high"]) for r in result["recommendations"]}
    live = monitor_line.live(args.batches, 1, window=windows, shift_at=200, shift_sigma=-1.5, leave_at=260,
                             drift_at=230, drift_rate=0.2)
    if args.folder:
        folder = Path(args.folder)
        folder.mkdir(parents=True, exist_ok=True)
        for i, start in enumerate(range(0, len(live), args.per_file)):
            part = folder / f"batches_{i:03d}.csv.part"
            live.iloc[start:start + args.per_file].to_csv(part, index=False)
            part.rename(part.with_suffix(""))  # appear whole: the MES writes, then renames
            print(f"dropped {part.with_suffix('').name}", flush=True)
            time.sleep(args.every)
    else:
        api.ingest_frame(live, LIVE_TABLE, db=args.db, replace=True)
        print(f"table {LIVE_TABLE}: {len(live)} batches")
    print(f"run {result['run_id']}: python -m engine monitor {result['run_id']} --table {LIVE_TABLE} [--json]")


if __name__ == "__main__":
    main()
