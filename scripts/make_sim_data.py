"""Put the simulated yield line into the data factory (and, with --recipe, write the recipe that runs on it).

    .venv/bin/python scripts/make_sim_data.py                      # table yield_line_sim in ~/.ai_studio/studio.duckdb
    .venv/bin/python scripts/make_sim_data.py --db /tmp/s.duckdb --rows 5000 --seed 1
    .venv/bin/python scripts/make_sim_data.py --recipe recipes/yield_sim_line.yaml   # regenerate the bundled recipe

The data is generated, not bundled: 2,000 × 300 is a few MB as CSV, and the generator is deterministic with its seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.sim.yield_line import LineConfig, make_line, recipe_for  # noqa: E402

from engine.api import ingest_frame

HEADER = """# Demo (simulated): a solar-cell line with {params} parameters, of which {drivers} setpoints drive the A-grade rate.
# Make the table first:  .venv/bin/python scripts/make_sim_data.py   (engine/sim/yield_line.py, seed {seed})
# This file is written by that script with --recipe; the truth (drivers, best setting in the envelope) is in the
# simulator, and bench/bench_yield.py scores the template against it.
"""


def flow_list(items: list[str], indent: int, width: int = 116) -> str:
    """A YAML flow list wrapped at `width`, continuation lines aligned under the first item."""
    lines, line = [], "["
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else "]")
        if indent + len(line) + len(piece) > width and line.strip("["):
            lines.append(line.rstrip())
            line = " "
        line += piece
    lines.append(line)
    return ("\n" + " " * indent).join(lines)


def recipe_text(recipe: dict, cfg: LineConfig) -> str:
    roles = recipe["roles"]
    out = [HEADER.format(params=cfg.n_params, drivers=cfg.n_drivers, seed=cfg.seed),
           f"template: {recipe['template']}", f"name: {recipe['name']}", f"data: {{table: {recipe['data']['table']}}}",
           "roles:", f"  target: {roles['target']}", f"  time: {roles['time']}"]
    for role in ("controllable", "context"):
        prefix = f"  {role}: "
        out.append(prefix + flow_list(roles[role], len(prefix)))
    out += ["params:", "  goal: maximize", "  top_k: 30", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="data factory file (default: AI_STUDIO_DB or ~/.ai_studio/studio.duckdb)")
    parser.add_argument("--table", default="yield_line_sim")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--params", type=int, default=300)
    parser.add_argument("--drivers", type=int, default=15)
    parser.add_argument("--missing", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipe", help="also write the recipe for the table to this path")
    args = parser.parse_args(argv)
    cfg = LineConfig(n_params=args.params, n_drivers=args.drivers, rows=args.rows, missing=args.missing,
                     seed=args.seed)
    line = make_line(cfg)
    info = ingest_frame(line.frame, args.table, db=args.db, replace=True)
    print(f"table {info.name}: {info.rows} rows × {len(info.columns)} columns; true drivers: {', '.join(line.drivers)}")
    if args.recipe:
        Path(args.recipe).write_text(recipe_text(recipe_for(line, {"table": args.table}), cfg), encoding="utf-8")
        print(f"recipe written to {args.recipe}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
