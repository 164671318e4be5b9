"""Predictive maintenance, the pure parts: trailing-window features as DuckDB SQL, labels (remaining useful life,
fails-within-H), the NASA score, and the alarm threshold for a false-alarm budget with recall and lead time.

The window SQL is the single definition of the features: training runs it on the training frame, scoring runs the
same text over the new rows (engine/service/scoring.py), so the two can never drift apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STATS = ("mean", "std", "min", "max", "slope")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def window_names(columns: list[str], window: int) -> list[str]:
    names = [f"{c}__{s}{window}" for c in columns for s in STATS]
    return names + [f"{c}__since_start" for c in columns] + ["steps_in_service"]


def window_sql(relation: str, group: str, time: str, columns: list[str], window: int) -> str:
    """SELECT * plus, per sensor, the trailing mean/std/min/max/slope over the last `window` rows of the unit, the
    change since the unit's first row, and the unit's steps in service. Rows come back ordered by unit and time."""
    part = f"PARTITION BY {_q(group)} ORDER BY {_q(time)}"
    frame = f"({part} ROWS BETWEEN {window - 1} PRECEDING AND CURRENT ROW)"
    step = f"row_number() OVER ({part})"
    inner = f"SELECT *, CAST({step} AS DOUBLE) AS __step FROM {relation}"
    cols = []
    for c in columns:
        x = f"CAST({_q(c)} AS DOUBLE)"
        cols += [f"avg({x}) OVER w AS {_q(f'{c}__mean{window}')}",
                 f"stddev_samp({x}) OVER w AS {_q(f'{c}__std{window}')}",
                 f"min({x}) OVER w AS {_q(f'{c}__min{window}')}",
                 f"max({x}) OVER w AS {_q(f'{c}__max{window}')}",
                 f"regr_slope({x}, __step) OVER w AS {_q(f'{c}__slope{window}')}",
                 f"{x} - first_value({x} IGNORE NULLS) OVER ({part}) AS {_q(f'{c}__since_start')}"]
    cols.append("__step AS steps_in_service")
    return (f"SELECT * EXCLUDE (__step), {', '.join(cols)} FROM ({inner}) "
            f"WINDOW w AS {frame} ORDER BY {_q(group)}, {_q(time)}")


def add_windows(frame: pd.DataFrame, group: str, time: str, columns: list[str], window: int) -> pd.DataFrame:
    """The window features of an in-memory frame (DuckDB, the same SQL as at scoring time)."""
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET threads = 1")
        con.register("pdm_input", frame)
        return con.execute(window_sql("pdm_input", group, time, columns, window)).df()


# ---------------------------------------------------------------- labels

def steps_to_failure(frame: pd.DataFrame, group: str, failure: str) -> np.ndarray:
    """Per row (frame ordered by unit and time): rows until the unit's next failure row (0 on it); NaN when no
    failure follows (a censored stretch: the unit had not failed when the record ends)."""
    out = np.full(len(frame), np.nan)
    flags = frame[failure].fillna(0).to_numpy(dtype=float) > 0
    for rows in frame.groupby(group, sort=False).indices.values():
        nxt = np.nan
        for i in rows[::-1]:
            nxt = 0.0 if flags[i] else nxt + 1.0
            out[i] = nxt
    return out


def nasa_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The PHM08 / C-MAPSS score: late predictions (pred > true) cost exp(d/10) − 1, early ones exp(−d/13) − 1."""
    d = np.asarray(y_pred, float) - np.asarray(y_true, float)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))


# ---------------------------------------------------------------- alarms

def alarm_episodes(alarm: np.ndarray, units: np.ndarray, gap: int = 1) -> np.ndarray:
    """Rows where an alarm episode starts (the alarm switches on within a unit). With `gap` > 1 an alarm that clears
    for fewer than `gap` rows and comes back is the same episode (a flickering alarm is one alarm, not many)."""
    prev = np.concatenate([[False], alarm[:-1]])
    new_unit = np.concatenate([[True], units[1:] != units[:-1]])
    starts = alarm & (~prev | new_unit)
    if gap <= 1 or not len(alarm):
        return starts
    idx = np.arange(len(alarm))
    last_on = np.maximum.accumulate(np.concatenate([[-1], np.where(alarm, idx, -1)[:-1]]))  # last alarm row before
    first = np.maximum.accumulate(np.where(new_unit, idx, 0))  # the unit's first row
    recent = (last_on >= first) & (idx - last_on <= gap)
    return starts & ~recent


def evaluate_alarms(prob: np.ndarray, threshold: float, units: np.ndarray, to_failure: np.ndarray,
                    horizon: int, persist: int = 1) -> dict:
    """Alarm = probability ≥ threshold for `persist` rows in a row. A failure is caught when an alarm starts within
    the `horizon` rows before it (lead = rows from the first such alarm to the failure); an alarm episode starting
    elsewhere is false (an alarm off for fewer than `persist` rows before it returns continues its episode). Rows
    must be ordered by unit and time."""
    raw = prob >= threshold
    alarm = _persistent(raw, units, persist)
    starts = alarm_episodes(alarm, units, gap=persist)
    in_window = (to_failure >= 1) & (to_failure <= horizon)
    false = int(np.sum(starts & ~in_window))
    caught, leads, failures = 0, [], 0
    fail_rows = np.flatnonzero(to_failure == 0)
    for f in fail_rows:
        failures += 1
        lo = f
        while lo - 1 >= 0 and units[lo - 1] == units[f] and to_failure[lo - 1] <= horizon and to_failure[lo - 1] >= 1:
            lo -= 1
        hits = np.flatnonzero(alarm[lo:f])
        if len(hits):
            caught += 1
            leads.append(float(f - (lo + hits[0])))
    return {"false_alarms": false, "failures": failures, "caught": caught,
            "recall": caught / failures if failures else None,
            "mean_lead": float(np.mean(leads)) if leads else None, "leads": leads}


def _persistent(raw: np.ndarray, units: np.ndarray, persist: int) -> np.ndarray:
    if persist <= 1:
        return raw
    out = np.zeros_like(raw)
    run = 0
    for i in range(len(raw)):
        if i and units[i] != units[i - 1]:
            run = 0
        run = run + 1 if raw[i] else 0
        out[i] = run >= persist
    return out


def threshold_for_false_alarms(prob: np.ndarray, units: np.ndarray, to_failure: np.ndarray, horizon: int,
                               budget: float, persist: int = 1) -> float:
    """The lowest probability cut whose false alarm episodes stay within `budget` (a count over these rows). The cuts
    tried are quantiles from the median up, denser towards the top (a budget of a few alarms per unit-year sits in the
    top fraction of a per-cent of the rows, where an even grid would jump past it)."""
    finite = prob[np.isfinite(prob)]
    if not len(finite):
        return float("inf")
    levels = 1.0 - np.geomspace(0.5, 0.5 / max(2, len(finite)), 300)
    grid = np.unique(np.quantile(finite, levels))
    for cut in grid:
        if evaluate_alarms(prob, float(cut), units, to_failure, horizon, persist)["false_alarms"] <= budget:
            return float(cut)
    return float(np.nextafter(finite.max(), np.inf))
