"""The normal-behaviour model of predictive maintenance, as one object that training returns and scoring applies:
each watched temperature's expected value (a regression on load and weather), its residual standardised by the
healthy spread, against the unit's OWN normal (the median of its residual over the 4·H rows that ended H rows ago),
averaged over `persist` rows; the alarm score is the largest of the watched ones, the alarm that score at or above the
threshold chosen for the false-alarm budget. Training and scoring call the same functions, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_HISTORY = 24  # rows of a unit's own history before its residual baseline is trusted ("warming up" before)


def own_baseline(r: pd.Series, units: np.ndarray, horizon: int, persist: int) -> np.ndarray:
    """Each unit's residual against its OWN normal: minus the median of its residual over the 4·H rows that ended H
    rows ago (a slow drift then still stands out; a machine that simply runs warmer does not), then averaged over
    `persist` rows. Only past rows are used (an expanding median while the unit's history is short). Rows must be
    ordered by unit and time."""

    def per_unit(s: pd.Series) -> pd.Series:
        base = s.shift(horizon).rolling(4 * horizon, min_periods=MIN_HISTORY).median().fillna(s.expanding().median())
        return (s - base).rolling(persist, min_periods=1).mean()

    return r.groupby(units).transform(per_unit).to_numpy()


@dataclass
class NormalBehaviour:
    """The fitted normal-behaviour model: one regression per watched temperature (a ModelBundle when trained, a
    SavedModel when loaded: both `.predict`), the healthy residual spread of each, and the alarm rule."""

    group: str
    time: str
    watch: list[str]
    models: dict  # watched column -> its regression on load and weather
    spread: dict[str, float]  # watched column -> std of its healthy residual (°C)
    horizon: int
    persist: int
    threshold: float
    prep: list = field(default_factory=list)  # the window features the regressions read (pdm.window_features)

    def expected(self, frame: pd.DataFrame, col: str) -> np.ndarray:
        model = self.models[col]
        out = model.predict(frame)
        return out["prediction"].to_numpy(float) if isinstance(out, pd.DataFrame) else np.asarray(out, float)

    def score_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per row (ordered by unit and time, window features built): expected_<col>, residual_<col> (°C), the alarm
        score, the alarm flag and the unit's state (alarm / normal / warming_up), on `frame`'s index."""
        units = frame[self.group].to_numpy()
        out, zs = {}, []
        for col in self.watch:
            actual = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
            expected = self.expected(frame, col)
            out[f"expected_{col}"] = expected
            out[f"residual_{col}"] = actual - expected
            zs.append(own_baseline(pd.Series((actual - expected) / (self.spread[col] or 1.0), index=frame.index),
                                   units, self.horizon, self.persist))
        score = np.nanmax(np.vstack(zs), axis=0) if zs else np.full(len(frame), np.nan)
        alarm = np.nan_to_num(score, nan=-np.inf) >= self.threshold
        history = frame.groupby(self.group, sort=False).cumcount().to_numpy() + 1
        out["alarm_score"] = score
        out["alarm"] = alarm
        out["state"] = np.where(alarm, "alarm", np.where(history < MIN_HISTORY, "warming_up", "normal"))
        return pd.DataFrame(out, index=frame.index)
