"""Report bench: HTML and PDF for every bundled demo recipe in both languages, timed; the PDF time is printed as a
ratio to Chromium printing a one-line page in the same run (the fixed cost of starting a browser).

    .venv/bin/python bench/bench_report.py [--out out/reports]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import api
from engine.report.pdf import html_to_pdf  # noqa: E402

RECIPES = ["concrete_strength.yaml", "ccpp_power.yaml", "yield_ai4i_failures.yaml", "yield_sim_line.yaml"]
TARGET_PDF_SECONDS = 10.0


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out" / "reports"))
    args = parser.parse_args()
    out = Path(args.out)
    os.environ.setdefault("AI_STUDIO_HOME", tempfile.mkdtemp(prefix="bench_report_"))
    api.ensure_demo(simulated=True)
    baseline = statistics.median(timed(lambda: html_to_pdf("<p>baseline</p><script>window.reportReady=true"
                                                           "</script>", out / "baseline.pdf")) for _ in range(3))
    print(f"baseline: Chromium prints a one-line page in {baseline:.2f} s (median of 3)")
    rows = []
    for recipe in RECIPES:
        run_id = api.run_recipe(ROOT / "recipes" / recipe)["run_id"]
        for lang in ("en", "zh"):
            stem = out / f"{Path(recipe).stem}_{lang}"
            html_s = timed(lambda: api.write_report(run_id, stem.with_suffix(".html"), fmt="html", lang=lang))
            pdf_s = timed(lambda: api.write_report(run_id, stem.with_suffix(".pdf"), fmt="pdf", lang=lang))
            rows.append((recipe, lang, html_s, pdf_s))
            print(f"{recipe:<26} {lang}  html {html_s:5.2f} s  pdf {pdf_s:5.2f} s  ({pdf_s / baseline:.1f}x baseline)"
                  f"  {'PASS' if pdf_s < TARGET_PDF_SECONDS else 'FAIL'} (< {TARGET_PDF_SECONDS:.0f} s)")
    worst = max(r[3] for r in rows)
    print(f"\nslowest PDF {worst:.2f} s (target < {TARGET_PDF_SECONDS:.0f} s): {'PASS' if worst < TARGET_PDF_SECONDS else 'FAIL'}"
          f"; reports written to {out}")


if __name__ == "__main__":
    main()
