"""Bench: live monitoring on a simulated line (engine/sim/monitor_line.py) — false alarms in control, batches to
detect a planted shift, drift and compliance flags, speed — against plain Shewhart 3-sigma charts in the same run.

    .venv/bin/python bench/bench_monitor.py [--seeds 60] [--baseline 100] [--quick]

The run: quick_model trained on 1,500 historical batches (the studio's own template, model saved by the run);
every live stream is generated on the run's recommended windows and predicted by that saved model (api.score),
then checked with the default rule set exactly as `python -m engine monitor` does (engine.ml.monitoring).
A "false alarm" is an alert of any kind (outcome chart, residual chart, compliance, drift, retrain) in an
in-control stream; the Shewhart baseline counts points beyond centre ± 3 sigma on the outcome and residual charts
(same estimated limits). Detection = batches from the first shifted batch to the first chart alert (1 = at once).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("AI_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-monitor-"))

from engine import api  # noqa: E402
from engine.ml import control_charts as cc  # noqa: E402
from engine.ml.monitoring import Batches, MonitorSettings, evaluate  # noqa: E402
from engine.sim import monitor_line as ml  # noqa: E402

SHIFT_AT = 50  # batches after the baseline before a fault starts (the EWMA is in its steady state)


def train(workdir: Path) -> tuple[str, dict]:
    path = workdir / "history.csv"
    ml.history(1500, 0).to_csv(path, index=False)
    api.ingest(path, "line_hist", replace=True)
    recipe = {"template": "quick_model", "name": "bench monitor", "data": {"table": "line_hist"},
              "roles": {"target": ml.TARGET, "time": ml.TIME, "controllable": list(ml.CONTROLLABLE),
                        "context": list(ml.CONTEXT)}, "params": {"goal": "maximize"}}
    result = api.run_recipe(recipe)
    return result["run_id"], result


class Checker:
    """The monitor's inputs for one run, reused across many simulated streams."""

    def __init__(self, run_id: str, result: dict, settings: MonitorSettings):
        self.run_id, self.settings = run_id, settings
        self.windows = {r["name"]: (r["low"], r["high"]) for r in result["recommendations"]}
        hist = api.catalog().read_table("line_hist")
        recommended = set(self.windows)
        self.keys = [k["name"] for k in result["key_parameters"] if k["name"] not in recommended]
        self.reference = {c: hist[c].to_numpy(float) for c in self.keys}
        self.cv = result["metrics"]["rmse"]["mean"]

    def predict(self, frames: list) -> list[np.ndarray]:
        import pandas as pd

        whole = pd.concat(frames, ignore_index=True)
        pred = api.score(self.run_id, data=whole, collect=True).frame["prediction"].to_numpy(float)
        return np.split(pred, np.cumsum([len(f) for f in frames])[:-1])

    def check(self, frame, pred) -> dict:
        b = Batches(frame[ml.TARGET].to_numpy(float), pred, {c: frame[c].to_numpy(float) for c in self.windows},
                    {c: frame[c].to_numpy(float) for c in self.keys})
        return evaluate(b, self.windows, self.reference, target=ml.TARGET, cv_rmse=self.cv, settings=self.settings)


def shewhart_alarms(out: dict, start: int) -> np.ndarray:
    """Batches (relative to the baseline's end) where a 3-sigma Shewhart chart of the outcome or residual fires."""
    s = out["series"]
    base = s["baseline"]
    flags = cc.shewhart_flags(s["outcome"][base:], s["outcome_chart"]["limits"])
    flags |= cc.shewhart_flags(s["residual"][base:], s["residual_chart"]["limits"])
    return np.flatnonzero(flags[start:])


def in_control(checker: Checker, seeds, batches: int = 500) -> dict:
    base = checker.settings.baseline
    frames = [ml.live(base + batches, s, window=checker.windows) for s in seeds]
    kinds, ours, plain, sigmas = {}, 0, 0, []
    for frame, pred in zip(frames, checker.predict(frames)):
        out = checker.check(frame, pred)
        sigmas.append(out["summary"]["limits"]["residual"]["sigma"])
        ours += len(out["alerts"])
        for a in out["alerts"]:
            kinds[f"{a['kind']}/{a['rule']}"] = kinds.get(f"{a['kind']}/{a['rule']}", 0) + 1
        plain += len(shewhart_alarms(out, 0))
    n = len(seeds) * batches / 500
    return {"ours": ours / n, "shewhart": plain / n, "kinds": {k: v / n for k, v in sorted(kinds.items())},
            "residual_sigma": float(np.median(sigmas))}


def detection(checker: Checker, seeds, sigma: float) -> dict:
    base = checker.settings.baseline
    at = base + SHIFT_AT
    frames = [ml.live(at + 60, s, window=checker.windows, shift_at=at, shift_sigma=sigma * (-1) ** s) for s in seeds]
    ours, plain = [], []
    for frame, pred in zip(frames, checker.predict(frames)):
        out = checker.check(frame, pred)
        rows = [a["row"] for a in out["alerts"] if a["kind"] in ("outcome", "residual") and a["row"] >= at]
        ours.append(min(rows) - at + 1 if rows else np.inf)
        hits = shewhart_alarms(out, SHIFT_AT)
        plain.append(hits[0] + 1 if len(hits) else np.inf)
    return {"ours": float(np.median(ours)), "ours_q": np.percentile(ours, [25, 75]).tolist(),
            "shewhart": float(np.median(plain)), "missed": int(np.sum(~np.isfinite(ours)))}


def drift_delay(checker: Checker, seeds, rate: float) -> list[float]:
    base = checker.settings.baseline
    at = base + SHIFT_AT
    frames = [ml.live(at + 60, s, window=checker.windows, drift_at=at, drift_rate=rate) for s in seeds]
    out = []
    for frame, pred in zip(frames, checker.predict(frames)):
        rows = [a["row"] for a in checker.check(frame, pred)["alerts"] if a["kind"] == "drift" and a["row"] >= at]
        out.append(min(rows) - at + 1 if rows else np.inf)
    return out


def leave_delay(checker: Checker, seeds) -> list[float]:
    base = checker.settings.baseline
    at = base + SHIFT_AT
    frames = [ml.live(at + 20, s, window=checker.windows, leave_at=at) for s in seeds]
    out = []
    for frame, pred in zip(frames, checker.predict(frames)):
        rows = [a["row"] for a in checker.check(frame, pred)["alerts"]
                if a["kind"] == "compliance" and a["column"] == "belt_speed" and a["row"] >= at]
        out.append(min(rows) - at + 1 if rows else np.inf)
    return out


def speed(run_id: str, checker: Checker, n: int = 10_000) -> tuple[float, float]:
    frame = ml.live(n, 7, window=checker.windows)
    started = time.perf_counter()
    report = api.monitor_report(run_id, data=frame)
    whole = time.perf_counter() - started
    pred = report["series"]["predicted"]
    started = time.perf_counter()
    checker.check(frame, pred)
    return whole, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--baseline", type=int, default=MonitorSettings.baseline)
    parser.add_argument("--quick", action="store_true", help="20 seeds, no speed check")
    args = parser.parse_args()
    seeds = list(range(100, 100 + (20 if args.quick else args.seeds)))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run_id, result = train(Path(tmp))
    settings = MonitorSettings(baseline=args.baseline)
    checker = Checker(run_id, result, settings)
    print(f"Monitor bench — simulated line (engine/sim/monitor_line.py), run {run_id} (quick_model, CV RMSE "
          f"{checker.cv:.3f}); baseline {args.baseline} batches; {len(seeds)} seeds; default rules "
          f"{','.join(settings.rules)} + compliance + drift ({settings.drift.method}) + retrain")
    fa = in_control(checker, seeds)
    print(f"in control, false alarms per 500 batches: default rule set {fa['ours']:.2f}  |  plain Shewhart 3σ "
          f"(outcome + residual) {fa['shewhart']:.2f}  (ratio {fa['shewhart'] / max(fa['ours'], 1e-9):.1f}×)")
    print("   by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in fa["kinds"].items()))
    live_sd = ml.live_sigma(checker.windows)
    print(f"   yield sd on the live line {live_sd:.3f}; residual chart sigma (median over seeds) "
          f"{fa['residual_sigma']:.3f}: a 1σ yield shift is {live_sd / fa['residual_sigma']:.2f} residual sigmas")
    for sigma in (1.0, 2.0):
        d = detection(checker, seeds, sigma)
        print(f"{sigma:.0f}σ shift of the yield's mean (σ = live sd {live_sd:.3f}): median "
              f"batches to detect {d['ours']:.1f} (IQR {d['ours_q'][0]:.0f}–{d['ours_q'][1]:.0f}, missed within 60: "
              f"{d['missed']})  |  Shewhart 3σ {d['shewhart']:.1f}")
    for rate in (0.5, 0.2):
        dd = np.array(drift_delay(checker, seeds, rate))
        print(f"drift of wafer_resistivity, {rate} training sd per batch: flagged after a median of "
              f"{np.median(dd):.0f} batches (worst {np.max(dd):.0f}; within 20: {np.mean(dd <= 20):.0%})")
    ld = np.array(leave_delay(checker, seeds))
    print(f"belt_speed set outside its recommended window: flagged on batch {np.median(ld):.0f} after it left "
          f"(all seeds on the first: {bool(np.all(ld == 1))})")
    if not args.quick:
        whole, stats = speed(run_id, checker)
        print(f"10,000 batches checked in {whole:.2f} s end to end (api.monitor_report: saved model + statistics), "
              f"statistics alone {stats:.2f} s")
    print(f"bench wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
