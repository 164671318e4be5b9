"""A tiny process with a known response: used by operator examples and the contract test."""

from __future__ import annotations

import numpy as np
import pandas as pd


def tiny_plant(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    """temp and speed are controllable, humidity is context; yield peaks at temp≈850, rises with speed."""
    rng = np.random.default_rng(seed)
    temp = rng.uniform(820, 880, rows)
    speed = rng.uniform(1.0, 3.0, rows)
    humidity = rng.uniform(30, 70, rows)
    shift = rng.choice(np.array(["A", "B"], dtype=object), rows)
    yield_ = 90 - 0.02 * (temp - 850) ** 2 + 2.0 * speed - 0.05 * humidity + rng.normal(0, 0.3, rows)
    return pd.DataFrame({"temp": temp, "speed": speed, "humidity": humidity, "shift": shift,
                         "constant": 1.0, "yield": yield_})
