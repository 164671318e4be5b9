"""A coal-fired boiler with a known answer: efficiency from air, mill and burner settings under load and coal drift.

Built so the energy template can be scored against the truth:
- context (cannot be set): steam demand (load, % of maximum continuous rating), coal calorific value and moisture
  drifting lot by lot, ambient temperature with a daily cycle;
- controllables: excess O₂ in the flue gas, primary-air share of the combustion air, mill outlet temperature and
  burner tilt;
- the true efficiency is 100 % minus losses: dry flue-gas (stack) loss grows with excess air and stack temperature;
  unburnt-carbon / CO loss grows steeply when the air is short (the O₂ it needs rises at low load and with poor,
  wet coal); the primary-air share, mill temperature and burner tilt each have an optimum that moves with coal and
  load. So the best excess O₂ shifts with load and coal;
- history: operators ran conservatively (O₂ a little high, scheduled with load), in a narrow window that drifts,
  with measurement noise on the efficiency.
`best_in_envelope(context)` finds the best settings inside the 1–99 % historical envelope for a context, and
`score()` says what share of that achievable improvement a recommendation captures, and whether it is feasible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.sim.yield_line import _slow  # a standardized slow drift (Ornstein-Uhlenbeck path)

CONTROLLABLE = ["excess_o2_pct", "primary_air_share", "mill_temp_c", "burner_tilt_deg"]
CONTEXT = ["steam_load_pct", "coal_cv_mj_kg", "coal_moisture_pct", "ambient_temp_c"]
TARGET = "efficiency_pct"
MCR_TPH = 1000.0  # steam flow at 100 % load
STEAM_ENTHALPY_GJ_T = 2.8  # heat given to a tonne of steam (feedwater to main steam), GJ


@dataclass(frozen=True)
class BoilerConfig:
    rows: int = 8760          # hourly records (a year)
    noise: float = 0.10       # efficiency measurement noise, percentage points (1 sd)
    seed: int = 0


def true_efficiency(frame: pd.DataFrame | dict) -> np.ndarray:
    """Expected boiler efficiency (%) at the settings and context in `frame` (columns as in the table)."""
    v = {c: np.asarray(frame[c], dtype=float) for c in CONTROLLABLE + CONTEXT}
    load = v["steam_load_pct"] / 100.0
    o2 = v["excess_o2_pct"]
    excess_air = 21.0 / (21.0 - o2)
    stack_temp = 105.0 + 35.0 * load + 1.5 * o2 - 0.25 * (v["mill_temp_c"] - 70.0)
    stack = 0.0048 * excess_air * (stack_temp - v["ambient_temp_c"]) * 10.0
    # the O₂ combustion needs: more at low load (poorer mixing) and with poor, wet coal
    o2_need = 2.2 + 1.6 * (1.0 - load) + 0.12 * (22.0 - v["coal_cv_mj_kg"]) + 0.04 * (v["coal_moisture_pct"] - 10.0)
    unburnt = 0.5 + 1.6 * np.exp(-(o2 - o2_need) / 0.55)
    pa_best = 0.30 + 0.012 * (22.0 - v["coal_cv_mj_kg"]) + 0.03 * (load - 0.8)
    mill_best = 72.0 + 1.2 * (v["coal_moisture_pct"] - 10.0)
    tilt_best = 8.0 * (0.8 - load) / 0.2
    mixing = 60.0 * (v["primary_air_share"] - pa_best) ** 2 + 0.012 * (v["mill_temp_c"] - mill_best) ** 2 \
        + 0.004 * (v["burner_tilt_deg"] - tilt_best) ** 2
    moisture = 0.12 * v["coal_moisture_pct"]
    return 100.0 - stack - unburnt - mixing - moisture


@dataclass
class Boiler:
    config: BoilerConfig
    frame: pd.DataFrame
    target: str = TARGET
    time: str = "timestamp"

    @property
    def controllable(self) -> list[str]:
        return list(CONTROLLABLE)

    @property
    def context(self) -> list[str]:
        return list(CONTEXT)

    def roles(self) -> dict:
        # coal feed and specific fuel follow from the efficiency (they are computed from it): left out as leaks
        return {"target": self.target, "controllable": self.controllable, "context": self.context, "time": self.time,
                "ignore": ["coal_feed_tph", "fuel_gj_per_t_steam"]}

    def envelope(self, quantiles: tuple[float, float] = (0.01, 0.99)) -> dict[str, tuple[float, float]]:
        q = self.frame[CONTROLLABLE].quantile(list(quantiles))
        return {c: (float(q.iloc[0][c]), float(q.iloc[1][c])) for c in CONTROLLABLE}

    def scenario(self, kind: str = "latest") -> dict[str, float]:
        """Context and settings of the latest row, or every column at its median (as the studio's scenarios)."""
        row = self.frame.iloc[-1] if kind == "latest" else self.frame[CONTROLLABLE + CONTEXT].median()
        return {c: float(row[c]) for c in CONTROLLABLE + CONTEXT}

    def contexts(self, n: int, seed: int = 0) -> list[dict[str, float]]:
        """n historical rows (their context and the settings run then), picked with a seed."""
        rows = self.frame.sample(n, random_state=seed)
        return [{c: float(r[c]) for c in CONTROLLABLE + CONTEXT} for _, r in rows.iterrows()]

    def efficiency(self, point: dict[str, float]) -> float:
        return float(true_efficiency({k: [v] for k, v in point.items()})[0])

    def best_in_envelope(self, context: dict[str, float]) -> tuple[dict[str, float], float]:
        """Best settings inside the 1–99 % envelope for `context` (coordinate ascent on dense grids: the response is
        smooth and unimodal in each setting, coupled only through the stack temperature)."""
        box = self.envelope()
        point = {**{c: (lo + hi) / 2 for c, (lo, hi) in box.items()}, **{c: context[c] for c in CONTEXT}}
        best = self.efficiency(point)
        for _ in range(30):
            before = best
            for c, (lo, hi) in box.items():
                for width in (hi - lo, (hi - lo) / 40):
                    grid = np.clip(np.linspace(point[c] - width, point[c] + width, 401), lo, hi)
                    values = true_efficiency({**{k: np.full(len(grid), v) for k, v in point.items()}, c: grid})
                    k = int(np.argmax(values))
                    if values[k] >= best:
                        point[c], best = float(grid[k]), float(values[k])
            if best - before < 1e-10:
                break
        return {c: point[c] for c in CONTROLLABLE}, best

    def score(self, recommended: dict[str, float], scenario: dict[str, float], tolerance: float = 1e-6) -> dict:
        """Captured share = (true(rec) − true(baseline)) / (true(best in envelope) − true(baseline)), feasibility =
        every setting inside the envelope. `scenario`: context and baseline settings (a row of the table)."""
        box = self.envelope()
        rec = {**scenario, **{c: recommended[c] for c in CONTROLLABLE}}
        base_eff, rec_eff = self.efficiency(scenario), self.efficiency(rec)
        _, best_eff = self.best_in_envelope(scenario)
        feasible = all(lo - tolerance * max(1, abs(lo)) <= recommended[c] <= hi + tolerance * max(1, abs(hi))
                       for c, (lo, hi) in box.items())
        return {"captured": (rec_eff - base_eff) / max(best_eff - base_eff, 1e-12), "feasible": feasible,
                "baseline": base_eff, "recommended": rec_eff, "best": best_eff}


def make_boiler(config: BoilerConfig | None = None, **overrides) -> Boiler:
    """A simulated boiler's hourly history; `make_boiler(rows=1500, seed=2)` for another one."""
    cfg = BoilerConfig(**{**(config.__dict__ if config else {}), **overrides})
    rng = np.random.default_rng(cfg.seed)
    n = cfg.rows
    hours = np.arange(n)
    load = np.clip(78 + 14 * np.sin(2 * np.pi * (hours % 24 - 8) / 24) + 6 * _slow(rng, n, 150)
                   + rng.normal(0, 2.0, n), 50, 100)
    lot = np.cumsum(rng.random(n) < 1 / 36)                      # a new coal lot every ~1.5 days
    cv = np.round(22 + 1.3 * _slow(rng, lot.max() + 1, 6)[lot] + rng.normal(0, 0.15, n), 2)
    moisture = np.round(np.clip(10 + 2.5 * _slow(rng, lot.max() + 1, 6)[lot] + rng.normal(0, 0.3, n), 4, 18), 2)
    ambient = 15 + 8 * np.sin(2 * np.pi * (hours % 24 - 9) / 24) + 5 * _slow(rng, n, 600) + rng.normal(0, 0.8, n)
    # operators: O₂ scheduled with load, kept on the safe (high) side, re-tuned now and then
    o2 = 4.2 + 0.8 * (0.8 - load / 100) + 0.25 * _slow(rng, n, 300) + 0.35 * _held(rng, n) + rng.normal(0, 0.05, n)
    pa = 0.325 + 0.008 * _slow(rng, n, 400) + 0.015 * _held(rng, n) + rng.normal(0, 0.002, n)
    mill = 68 + 2.0 * _slow(rng, n, 300) + 2.5 * _held(rng, n) + rng.normal(0, 0.3, n)
    tilt = 2.0 * _slow(rng, n, 300) + 5.0 * _held(rng, n) + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"timestamp": pd.date_range("2025-03-01", periods=n, freq="1h"),
                          "steam_load_pct": np.round(load, 2), "coal_cv_mj_kg": cv, "coal_moisture_pct": moisture,
                          "ambient_temp_c": np.round(ambient, 2), "excess_o2_pct": np.round(o2, 3),
                          "primary_air_share": np.round(pa, 4), "mill_temp_c": np.round(mill, 2),
                          "burner_tilt_deg": np.round(tilt, 2)})
    efficiency = true_efficiency(frame) + rng.normal(0, cfg.noise, n)
    steam = frame["steam_load_pct"] / 100 * MCR_TPH
    fuel_gj_h = steam * STEAM_ENTHALPY_GJ_T / (efficiency / 100)
    frame[TARGET] = np.round(efficiency, 3)
    frame["coal_feed_tph"] = np.round(fuel_gj_h / frame["coal_cv_mj_kg"], 2)
    frame["fuel_gj_per_t_steam"] = np.round(fuel_gj_h / steam, 4)
    return Boiler(cfg, frame)


def _held(rng: np.random.Generator, n: int) -> np.ndarray:
    """Operator moves: a standard-normal level held for 4–12 hours at a time."""
    out, i = np.empty(n), 0
    while i < n:
        hold = int(rng.integers(4, 13))
        out[i: i + hold] = rng.normal()
        i += hold
    return out


def recipe_for(boiler: Boiler, data: dict, name: str = "Simulated boiler — efficiency", **params) -> dict:
    """An energy_saving recipe (as a dict, as the UI builds one) for this boiler's table."""
    return {"template": "energy_saving@1.0.0", "name": name, "data": data, "roles": boiler.roles(),
            "params": {"goal": "maximize", "scenario": "latest", **params}}
