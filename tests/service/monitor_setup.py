"""A trained run on the simulated monitored line and a table of live batches with planted faults (shared by the
monitor's service, CLI and page tests)."""

from __future__ import annotations

from pathlib import Path

from engine import api
from engine.sim import monitor_line as ml

BASELINE = 60
SHIFT_AT, LEAVE_AT, DRIFT_AT = 100, 120, 130


def train(tmp_path: Path) -> tuple[str, dict]:
    path = tmp_path / "history.csv"
    ml.history(500, 0).to_csv(path, index=False)
    api.ingest(path, "line_hist")
    recipe = {"template": "quick_model", "name": "monitored line", "data": {"table": "line_hist"},
              "roles": {"target": ml.TARGET, "time": ml.TIME, "controllable": list(ml.CONTROLLABLE),
                        "context": list(ml.CONTEXT)},
              "params": {"goal": "maximize", "folds": 3, "n_estimators": 60, "n_samples": 300}}
    result = api.run_recipe(recipe)
    return result["run_id"], result


def windows(result: dict) -> dict:
    return {r["name"]: (r["low"], r["high"]) for r in result["recommendations"]}


def live_frame(result: dict, batches: int = 160, seed: int = 3, **faults):
    return ml.live(batches, seed, window=windows(result), **faults)


def faulty(result: dict, batches: int = 160):
    """Batches on the recommendation; the yield drops 3 sigma from SHIFT_AT, belt_speed leaves its window at
    LEAVE_AT, wafer_resistivity drifts away from DRIFT_AT."""
    return live_frame(result, batches, shift_at=SHIFT_AT, shift_sigma=-3.0, leave_at=LEAVE_AT, drift_at=DRIFT_AT)
