"""A turbofan-style run-to-failure simulator following the NASA C-MAPSS conventions (Saxena et al., 2008, FD001).

Not the NASA data: C-MAPSS is public domain but cannot be fetched here (no internet, and no package on PyPI ships it),
so this generates data with the same shape and conventions: units (engines) that start with unknown initial wear and
manufacturing variation, one operating condition (three settings with small noise), 21 sensors of which several are
constant, an exponential degradation that grows until failure; training units run to failure, test units stop at a
random cycle before it and the benchmark scores the RUL at each test unit's last cycle (true RUL 7–145 cycles).
Sensor names follow C-MAPSS (s1..s21), with FD001's recording precision (s17 whole numbers, s15/s21 four decimals);
an HPC-degradation signature on s2, s3, s4, s7, s8, s9, s11–s15, s17, s20, s21 whose noise is calibrated on FD001's
published training-set statistics: each sensor's mean, std, min and max over the 100 training engines match FD001's
within a few per cent (tests/sim/test_pdm_sims.py), as do the lives (128–362 cycles, mean ≈ 206, right-skewed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# sensor: (baseline, change at failure, noise std); change 0 = constant in FD001. Calibrated on FD001's published
# training-set statistics (train_FD001 describe(): each sensor's overall std): the degradation's share of that spread
# is change × std(damage) (std(damage) ≈ 0.245 over the rows of this damage process), the noise is the rest; where the
# change alone would exceed FD001's spread (s7, s11, s20, s21) it is scaled to 80 % of it.
_SENSORS = {
    "s1": (518.67, 0.0, 0.0), "s2": (642.2, 1.7, 0.277), "s3": (1585.0, 18.0, 4.26), "s4": (1398.0, 30.0, 5.2),
    "s5": (14.62, 0.0, 0.0), "s6": (21.61, 0.0, 0.001), "s7": (554.0, -2.89, 0.531), "s8": (2388.0, 0.16, 0.0592),
    "s9": (9040.0, 25.0, 21.2), "s10": (1.3, 0.0, 0.0), "s11": (47.3, 0.873, 0.16), "s12": (522.0, -2.41, 0.443),
    "s13": (2388.0, 0.16, 0.0603), "s14": (8130.0, 18.0, 18.6), "s15": (8.41, 0.11, 0.0261), "s16": (0.03, 0.0, 0.0),
    "s17": (392.0, 5.0, 0.949), "s18": (2388.0, 0.0, 0.0), "s19": (100.0, 0.0, 0.0), "s20": (38.9, -0.592, 0.109),
    "s21": (23.35, -0.353, 0.0648),
}
_DECIMALS = {"s15": 4, "s21": 4, "s17": 0, "s6": 2, "s1": 2}  # as FD001 records them; the others to 0.01
SENSORS = list(_SENSORS)
SETTINGS = ["setting_1", "setting_2", "setting_3"]


@dataclass
class Turbofan:
    train: pd.DataFrame  # unit, cycle, settings, s1..s21, rul (run to failure: rul 0 on the last cycle)
    test: pd.DataFrame  # the same columns without rul, each unit cut before its failure
    test_rul: pd.DataFrame  # unit, rul: the true RUL at each test unit's last cycle


def _unit(rng: np.random.Generator, unit: int, life: int, stop: int) -> pd.DataFrame:
    cycles = np.arange(1, stop + 1)
    wear0 = rng.uniform(0.0, 0.12)  # initial wear, unknown to the analyst
    rate = rng.uniform(3.0, 6.0)
    damage = wear0 + (1 - wear0) * (np.exp(rate * cycles / life) - 1) / (np.exp(rate) - 1)
    rows = {"unit": unit, "cycle": cycles,
            "setting_1": rng.normal(0, 0.0022, stop).round(4), "setting_2": rng.normal(0, 0.0003, stop).round(4),
            "setting_3": np.full(stop, 100.0)}
    for name, (base, change, noise) in _SENSORS.items():
        variation = rng.normal(0, abs(change) * 0.05) if change else 0.0  # manufacturing variation
        value = base + variation + change * damage + (rng.normal(0, noise, stop) if noise else 0.0)
        rows[name] = np.round(value, _DECIMALS.get(name, 2))
    return pd.DataFrame(rows)


def _life(rng: np.random.Generator) -> int:
    """Cycles to failure: 128–362 and right-skewed with mean ≈ 206 and std ≈ 46, as FD001's 100 training engines."""
    return int(np.clip(round(128 + rng.gamma(2.87, 27.1)), 128, 362))


def make_turbofan(units: int = 100, test_units: int = 100, seed: int = 0) -> Turbofan:
    """Training units run to failure (life 128–362 cycles, mean ≈ 206 as FD001); test units stop 7–145 cycles before
    theirs."""
    rng = np.random.default_rng(seed)
    train = []
    for u in range(1, units + 1):
        life = _life(rng)
        frame = _unit(rng, u, life, life)
        frame["rul"] = life - frame["cycle"]
        train.append(frame)
    test, truth = [], []
    for u in range(1, test_units + 1):
        life = _life(rng)
        rul = int(rng.integers(7, 146))
        stop = max(31, life - rul)
        test.append(_unit(rng, u, life, stop))
        truth.append({"unit": u, "rul": life - stop})
    return Turbofan(pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True), pd.DataFrame(truth))
