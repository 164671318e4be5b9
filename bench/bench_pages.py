"""Page bench: rerun time of every studio page with a 100,000-row table in the data factory, as a ratio to the
rerun of a one-line Streamlit page in the same process (AppTest, headless).

    .venv/bin/python bench/bench_pages.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGES = ["pages/home.py", "pages/data.py", "pages/gallery.py", "pages/build.py", "pages/results.py",
         "pages/trials.py", "pages/history.py"]


def rerun_seconds(at: AppTest, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    os.environ["AI_STUDIO_HOME"] = str(home)
    os.chdir(ROOT)
    from engine import api

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{j}": rng.normal(size=args.rows) for j in range(20)})
    frame["y"] = frame.sum(axis=1) + rng.normal(size=args.rows)
    csv = home / "big.csv"
    frame.to_csv(csv, index=False)
    api.ingest(csv, "big")
    api.ensure_demo()
    api.run_recipe(ROOT / "recipes" / "concrete_strength.yaml", overrides=["n_estimators=60", "folds=3"])

    plain = AppTest.from_string("import streamlit as st\nst.write('hello')")
    plain.run()
    baseline = rerun_seconds(plain)
    print(f"baseline: a one-line page reruns in {baseline * 1000:.1f} ms; table 'big' has {args.rows:,} rows × 21")
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state["lang"] = "en"
        at.run()
        at.switch_page(page).run()
        if page == "pages/data.py" and at.selectbox:
            for box in at.selectbox:
                if "big" in (box.options or []):
                    box.set_value("big").run()
        first = rerun_seconds(at, 1)
        again = rerun_seconds(at)
        print(f"{page:<20} rerun {again * 1000:7.1f} ms  ({again / baseline:6.1f}x baseline)   "
              f"first {first * 1000:7.1f} ms  exceptions: {len(at.exception)}")


if __name__ == "__main__":
    main()
