"""A wind-farm SCADA simulator for predictive maintenance: hourly records per turbine with wind speed, power,
ambient, nacelle, gearbox-bearing and generator-winding temperatures; incipient faults that drift one component's
temperature relative to load for 1–3 weeks before the failure; healthy turbines; missing records.

The truth is known: `faults` lists each failure (turbine, component, onset, failure time), so a benchmark can count
the faults alarmed at least 7 days ahead and the false alarms per turbine-year. Returns frames; storing them is the
service layer's job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RATED_KW = 2000.0
COMPONENTS = {"gearbox": "gearbox_bearing_temp_c", "generator": "generator_winding_temp_c"}


@dataclass
class WindFarm:
    frame: pd.DataFrame  # turbine, timestamp, wind_speed_ms, power_kw, ambient/nacelle/gearbox/generator temps, failure
    faults: pd.DataFrame  # turbine, component, onset, failure (timestamps)


def _power(wind: np.ndarray) -> np.ndarray:
    """A 2 MW power curve: cut-in 3 m/s, rated at 12 m/s, cut-out 25 m/s."""
    frac = np.clip((wind - 3.0) / 9.0, 0.0, 1.0) ** 3
    return np.where(wind > 25.0, 0.0, RATED_KW * frac)


def _turbine(rng: np.random.Generator, name: str, hours: pd.DatetimeIndex, faults: list[dict]) -> pd.DataFrame:
    n = len(hours)
    t = np.arange(n)
    day = 2 * np.pi * (hours.hour.to_numpy() / 24.0)
    season = 2 * np.pi * (hours.day_of_year.to_numpy() / 365.25)
    gust = np.zeros(n)
    shocks = rng.normal(0, 1.0, n)
    for i in range(1, n):  # AR(1) weather
        gust[i] = 0.95 * gust[i - 1] + shocks[i]
    wind = np.clip(7.5 + 0.6 * gust + 1.2 * np.sin(day - 1.0) + 1.0 * np.cos(season), 0.0, 30.0)
    power = np.clip(_power(wind) * rng.uniform(0.97, 1.0) + rng.normal(0, 15, n), 0.0, RATED_KW)
    ambient = 12.0 - 10.0 * np.cos(season) + 4.0 * np.sin(day - 2.0) + rng.normal(0, 0.8, n)
    load = power / RATED_KW
    nacelle = ambient + 8.0 + 9.0 * load + rng.normal(0, 0.6, n)
    offset_g, offset_w = rng.normal(0, 1.5), rng.normal(0, 1.5)  # each machine runs a little warmer or cooler
    gearbox = nacelle + 18.0 + offset_g + 22.0 * load + rng.normal(0, 1.0, n)
    winding = nacelle + 25.0 + offset_w + 40.0 * load ** 1.5 + rng.normal(0, 1.5, n)
    failure = np.zeros(n, dtype=int)
    down = np.zeros(n, dtype=bool)
    for f in faults:
        onset, end = f["onset_i"], f["failure_i"]
        ramp = np.clip((t - onset) / max(1, end - onset), 0.0, 1.0) * (t <= end)
        drift = f["size"] * ramp ** 1.5 * (0.4 + load)  # the faulty part runs hot relative to its load
        if f["component"] == "gearbox":
            gearbox = gearbox + drift
        else:
            winding = winding + drift
        failure[end] = 1
        down[end + 1: end + 1 + f["repair_h"]] = True  # stopped for repair: no records
    frame = pd.DataFrame({"turbine": name, "timestamp": hours, "wind_speed_ms": wind.round(2),
                          "power_kw": power.round(1), "ambient_temp_c": ambient.round(2),
                          "nacelle_temp_c": nacelle.round(2), "gearbox_bearing_temp_c": gearbox.round(2),
                          "generator_winding_temp_c": winding.round(2), "failure": failure})
    gaps = rng.random(n) < 0.01  # scattered lost records
    outage_start = rng.integers(0, n - 48)
    gaps[outage_start: outage_start + int(rng.integers(6, 48))] = True  # a communication outage
    gaps &= failure == 0
    return frame[~(down | gaps)].reset_index(drop=True)


def make_wind_farm(turbines: int = 12, days: int = 365, faulty: int = 8, seed: int = 0) -> WindFarm:
    """`faulty` turbines get one failure each (gearbox or generator) after a 7–21-day incipient drift; the others
    stay healthy. Hourly records over `days`."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-01-01", periods=days * 24, freq="h")
    names = [f"WT{i + 1:02d}" for i in range(turbines)]
    frames, faults = [], []
    for k, name in enumerate(names):
        planned = []
        if k < faulty:
            end = int(rng.integers(40 * 24, len(hours) - 10 * 24))
            lead_days = float(rng.uniform(7.0, 21.0))
            planned.append({"component": str(rng.choice(list(COMPONENTS))), "failure_i": end,
                            "onset_i": end - int(lead_days * 24), "size": float(rng.uniform(10.0, 16.0)),
                            "repair_h": int(rng.integers(48, 120))})
        frames.append(_turbine(rng, name, hours, planned))
        faults += [{"turbine": name, "component": f["component"], "onset": hours[f["onset_i"]],
                    "failure": hours[f["failure_i"]]} for f in planned]
    return WindFarm(pd.concat(frames, ignore_index=True), pd.DataFrame(faults))
