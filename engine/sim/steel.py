"""A steel plant's electricity meter, quarter-hour by quarter-hour: the shape of a real plant energy export.

The columns (and their names) follow the usual export of a plant's power meter, 11 columns:
- `date` every 15 minutes; `NSM` seconds since midnight (the time of day); `WeekStatus` Weekday/Weekend;
  `Day_of_week` Monday … Sunday; `Load_Type` Light_Load / Medium_Load / Maximum_Load (what the mill is running);
- `Usage_kWh`: the active energy used in the quarter-hour: the target an energy template should pick;
- the meters of the SAME electricity, linked by the power triangle (kVA² = kW² + kVAr²):
  `Lagging_Current_Reactive.Power_kVarh` (motors, furnaces), `Leading_Current_Reactive_Power_kVarh` (capacitor banks),
  `Lagging_Current_Power_Factor` = 100·kWh/√(kWh² + kVarh_lag²) and `Leading_Current_Power_Factor` likewise;
- `CO2(tCO2)`: the grid's emission factor × kWh (computed from the target).
None of the meters is a setting: each is a consequence of the same electricity as the target. Given the lagging
kVarh and power factor, kWh = kVarh·PF/√(1 − PF²) exactly — a model that "recommends" a power factor to save energy
reads the answer off the meter. Pure: returns the table, never stores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TARGET = "Usage_kWh"
LAG_KVARH = "Lagging_Current_Reactive.Power_kVarh"
LEAD_KVARH = "Leading_Current_Reactive_Power_kVarh"
CO2 = "CO2(tCO2)"
LAG_PF = "Lagging_Current_Power_Factor"
LEAD_PF = "Leading_Current_Power_Factor"
METERS = [LAG_KVARH, LEAD_KVARH, CO2, LAG_PF, LEAD_PF]     # consequences of the same electricity
CONTEXT = ["NSM", "WeekStatus", "Day_of_week", "Load_Type"]
EMISSION_T_PER_KWH = 0.0005   # tCO2 per kWh (a coal-heavy grid)
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
BASE_KWH = {"Light_Load": 4.0, "Medium_Load": 38.0, "Maximum_Load": 62.0}


@dataclass(frozen=True)
class SteelConfig:
    rows: int = 35_040        # a year of quarter-hours
    seed: int = 0
    start: str = "2018-01-01 00:15"


def load_type(hour: np.ndarray, weekend: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The mill's schedule: light at night and on most weekend hours, maximum around the day's peaks."""
    u = rng.random(len(hour))
    night = (hour < 8) | (hour >= 21)
    peak = ((hour >= 9) & (hour < 12)) | ((hour >= 14) & (hour < 18))
    out = np.where(night, "Light_Load", np.where(peak & (u < 0.7), "Maximum_Load", "Medium_Load"))
    out = np.where(weekend & (u < 0.6), "Light_Load", out)
    return out.astype(object)


def make_steel(config: SteelConfig | None = None, **overrides) -> pd.DataFrame:
    """The meter table; `make_steel(rows=2000, seed=1)` for a small one."""
    cfg = SteelConfig(**{**(config.__dict__ if config else {}), **overrides})
    rng = np.random.default_rng(cfg.seed)
    when = pd.date_range(cfg.start, periods=cfg.rows, freq="15min")
    hour = when.hour.to_numpy()
    dow = when.day_of_week.to_numpy()
    weekend = dow >= 5
    load = load_type(hour, weekend, rng)
    base = np.array([BASE_KWH[x] for x in load])
    kwh = base * (0.85 + 0.3 * rng.random(cfg.rows)) * np.where(weekend, 0.8, 1.0) + rng.gamma(2.0, 1.0, cfg.rows)
    # the afternoon's heat: cooling water and fans work harder (the one lever: when a load is scheduled)
    kwh = kwh * (1.0 + 0.08 * np.exp(-(((hour + when.minute.to_numpy() / 60) - 14.5) / 2.5) ** 2))
    kwh = np.round(np.maximum(kwh, 2.5), 2)
    tan_lag = np.clip(0.55 + 0.35 * (load == "Light_Load") + rng.normal(0, 0.12, cfg.rows), 0.1, 1.5)
    lag = np.round(kwh * tan_lag, 2)
    capacitor = (load == "Light_Load") & (rng.random(cfg.rows) < 0.5)          # banks switched in at light load
    lead = np.round(np.where(capacitor, kwh * np.clip(rng.normal(0.4, 0.15, cfg.rows), 0.05, 1.0), 0.0), 2)
    frame = pd.DataFrame({
        "date": when, TARGET: kwh, LAG_KVARH: lag, LEAD_KVARH: lead,
        CO2: np.round(kwh * EMISSION_T_PER_KWH, 5),
        LAG_PF: np.round(100 * kwh / np.sqrt(kwh ** 2 + lag ** 2), 2),
        LEAD_PF: np.round(100 * kwh / np.sqrt(kwh ** 2 + lead ** 2), 2),
        "NSM": (hour * 3600 + when.minute.to_numpy() * 60).astype("int64"),
        "WeekStatus": np.where(weekend, "Weekend", "Weekday").astype(object),
        "Day_of_week": np.array(DAYS, dtype=object)[dow],
        "Load_Type": load})
    return frame


def power_triangle_kwh(lag_kvarh: np.ndarray, lag_pf_pct: np.ndarray) -> np.ndarray:
    """kWh from the lagging reactive energy and the lagging power factor: kVarh · PF / √(1 − PF²)."""
    pf = np.clip(np.asarray(lag_pf_pct, dtype=float) / 100.0, 1e-9, 1 - 1e-9)
    return np.asarray(lag_kvarh, dtype=float) * pf / np.sqrt(1 - pf ** 2)
