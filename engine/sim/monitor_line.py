"""A small line to watch: a history to train on, then live batches on a recommendation, with planted faults.

Three controllable setpoints (`furnace_temp`, `belt_speed`, `paste_thickness`) and four context parameters
(`wafer_resistivity`, `humidity` act on the yield; `line_pressure`, `ambient_temp` do not). The yield peaks inside
the historical range of the setpoints; the context explains about half of the live line's yield variance, so the
residual of a good model is quieter than the yield itself (as on a real line held on its settings).

`live(...)` returns batches run inside a recommended window, optionally with
- `shift_at`, `shift_sigma`: the yield's mean moves by that many (live) standard deviations from that batch on;
- `drift_at`, `drift_column`, `drift_rate`: a context parameter ramps away, `drift_rate` training sds per batch;
- `leave_at`, `leave_column`: a setpoint is run outside its window from that batch on.
Pure: returns frames; `ingest_*` helpers live with the callers (the store is a higher layer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "yield_pct"
CONTROLLABLE = ("furnace_temp", "belt_speed", "paste_thickness")
CONTEXT = ("wafer_resistivity", "humidity", "line_pressure", "ambient_temp")
TIME = "batch_time"
HISTORY_RANGE = {"furnace_temp": (830.0, 870.0), "belt_speed": (1.0, 3.0), "paste_thickness": (18.0, 26.0)}
CONTEXT_LAW = {"wafer_resistivity": (1.5, 0.25), "humidity": (45.0, 8.0), "line_pressure": (101.0, 0.6),
               "ambient_temp": (24.0, 2.0)}
NOISE = 0.6
WINDOW = {"furnace_temp": (848.0, 856.0), "belt_speed": (2.2, 2.6), "paste_thickness": (20.0, 21.5)}


def true_yield(frame: pd.DataFrame) -> np.ndarray:
    """The expected yield (%) of batches (without noise)."""
    t, s, p = (frame[c].to_numpy(float) for c in CONTROLLABLE)
    rho, hum = frame["wafer_resistivity"].to_numpy(float), frame["humidity"].to_numpy(float)
    return (90 - 0.012 * (t - 852 - 6 * (rho - 1.5)) ** 2 + 1.5 * np.tanh(s - 1.8) - 0.25 * (p - 20.5) ** 2
            + 2.4 * (rho - 1.5) - 0.05 * (hum - 45))


def _context(rng, n: int) -> dict:
    return {c: rng.normal(mu, sd, n) for c, (mu, sd) in CONTEXT_LAW.items()}


def _times(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="2h")


def history(rows: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Batches run across the historical range of the setpoints: what a run trains on."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.uniform(lo, hi, rows) for c, (lo, hi) in HISTORY_RANGE.items()} | _context(rng, rows))
    frame[TARGET] = true_yield(frame) + rng.normal(0, NOISE, rows)
    frame.insert(0, TIME, _times("2026-01-01", rows))
    return frame


def live(batches: int = 500, seed: int = 1, *, window: dict | None = None, shift_at: int | None = None,
         shift_sigma: float = 0.0, drift_at: int | None = None, drift_column: str = "wafer_resistivity",
         drift_rate: float = 0.5, leave_at: int | None = None, leave_column: str = "belt_speed",
         start: str = "2026-06-01") -> pd.DataFrame:
    """Batches on the recommended window (default WINDOW), with the faults asked for (see the module docstring)."""
    rng = np.random.default_rng(seed)
    window = window or WINDOW
    frame = pd.DataFrame({c: rng.uniform(lo, hi, batches) for c, (lo, hi) in window.items()} | _context(rng, batches))
    i = np.arange(batches)
    if drift_at is not None:
        mu, sd = CONTEXT_LAW[drift_column]
        frame[drift_column] += np.where(i >= drift_at, (i - drift_at + 1) * drift_rate * sd, 0.0)
    if leave_at is not None:
        lo, hi = window[leave_column]
        frame.loc[i >= leave_at, leave_column] = hi + 0.5 * (hi - lo)
    y = true_yield(frame) + rng.normal(0, NOISE, batches)
    if shift_at is not None:
        y = y + np.where(i >= shift_at, shift_sigma * live_sigma(window), 0.0)
    frame[TARGET] = y
    frame.insert(0, TIME, _times(start, batches))
    return frame


def live_sigma(window: dict | None = None, n: int = 20000) -> float:
    """Standard deviation of the yield of in-control live batches (what "a 1-sigma shift" means)."""
    rng = np.random.default_rng(12345)
    window = window or WINDOW
    frame = pd.DataFrame({c: rng.uniform(lo, hi, n) for c, (lo, hi) in window.items()} | _context(rng, n))
    return float((true_yield(frame) + rng.normal(0, NOISE, n)).std())
