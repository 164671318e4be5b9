"""Put the simulated product test into the data factory (and, with --recipe, write the recipe that runs on it).

    .venv/bin/python scripts/make_test_items_data.py                     # table test_items_sim (as `python -m engine demo`)
    .venv/bin/python scripts/make_test_items_data.py --products 8000 --seed 1 --db /tmp/s.duckdb
    .venv/bin/python scripts/make_test_items_data.py --recipe recipes/test_reduction_sim.yaml   # regenerate the recipe

The recipe gives the test program's limits as expert bounds (a plant knows them); without them the template infers
limits from the range of the good products.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from make_sim_data import flow_list  # noqa: E402

from engine.sim.check_items import TestLineConfig, make_test_line  # noqa: E402

from engine.api import ingest_frame

HEADER = """# Demo (simulated): a product test of {items} items on {products} products; which items can be dropped?
# Make the table first:  .venv/bin/python -m engine demo   (or scripts/make_test_items_data.py; engine/sim/test_items.py, seed {seed})
# This file is written by that script with --recipe. The limits below are the test program's (expert bounds); the
# truth (necessary items, redundant groups) is in the simulator, and bench/bench_test_reduction.py scores against it.
"""


def recipe_text(line, table: str) -> str:
    recipe = line.recipe(table)
    cfg = line.config
    out = [HEADER.format(items=len(line.items), products=cfg.products, seed=cfg.seed),
           f"template: {recipe['template']}", f"name: {recipe['name']}", f"data: {{table: {table}}}", "roles:",
           f"  target: {recipe['roles']['target']}", f"  ignore: [{', '.join(recipe['roles']['ignore'])}]"]
    prefix = "  controllable: "
    out.append(prefix + flow_list(recipe["roles"]["controllable"], len(prefix)))
    out += ["params:", f"  mandatory: [{', '.join(recipe['params']['mandatory'])}]", "  max_miss_rate: 0.005",
            "expert:", "  bounds:                       # test limits [low, high] per measured item"]
    out += [f"    {name}: [{lo!r}, {hi!r}]" for name, (lo, hi) in line.limits.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="data factory file (default: AI_STUDIO_DB or ~/.ai_studio/studio.duckdb)")
    parser.add_argument("--table", default="test_items_sim")
    parser.add_argument("--products", type=int, default=4000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipe", help="also write the recipe for the table to this path")
    args = parser.parse_args(argv)
    line = make_test_line(TestLineConfig(n_items=args.items, products=args.products, seed=args.seed))
    info = ingest_frame(line.frame, args.table, db=args.db, replace=True)
    bad = int((line.frame["verdict"] == "bad").sum())
    print(f"table {info.name}: {info.rows} products × {len(line.items)} items, {bad} bad; at least "
          f"{line.truth.min_kept} items are needed (necessary + one per failing group + mandatory)")
    if args.recipe:
        Path(args.recipe).write_text(recipe_text(line, args.table), encoding="utf-8")
        print(f"recipe written to {args.recipe}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
