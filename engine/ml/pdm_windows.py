"""Window features of predictive maintenance, version 2: trailing means at several lengths (per-unit smoothing), the
spread, extremes and slope over the longest, the change since the unit's first rows, and an optional health index —
one linear combination of the standardised sensors (their first principal component, fitted on the training rows
without the target) whose smoothed level and slopes carry the common degradation with the sensors' noise averaged out.

As in version 1 (engine/ml/pdm.py) this SQL is the single definition: training runs it on the training frame, scoring
runs the same text over the new rows, from the parameters kept with the model (`spec`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.ml.pdm import _q, window_sql

HEALTH = "health_index"


def spec_of(params: dict) -> dict:
    """The window spec a saved model kept: version 1 had one `window`, version 2 has `windows` (and `health`)."""
    return params if "windows" in params else {**params, "windows": [params["window"]], "health": None, "v": 1}


def windows_sql(relation: str, spec: dict) -> str:
    """SELECT * plus the window features of `spec` (group, time, columns, windows, health), ordered by unit and time."""
    if spec.get("v") == 1:
        return window_sql(relation, spec["group"], spec["time"], spec["columns"], spec["windows"][0])
    group, time, columns, windows = spec["group"], spec["time"], spec["columns"], sorted(spec["windows"])
    part = f"PARTITION BY {_q(group)} ORDER BY {_q(time)}"
    longest = windows[-1]
    inner = f"SELECT *, CAST(row_number() OVER ({part}) AS DOUBLE) AS __step{_health_sql(spec.get('health'))} " \
            f"FROM {relation}"
    cols = []
    for c in columns:
        cols += _column_sql(_q(c), c, windows, longest, part, full=True)
    if spec.get("health"):
        cols += _column_sql("__hi", HEALTH, windows, longest, part, full=False)
        cols.append(f"__hi AS {_q(HEALTH)}")
    cols.append("__step AS steps_in_service")
    frames = ", ".join(f"w{w} AS ({part} ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW)" for w in windows)
    return (f"SELECT * EXCLUDE (__step{', __hi' if spec.get('health') else ''}), {', '.join(cols)} FROM ({inner}) "
            f"WINDOW {frames} ORDER BY {_q(group)}, {_q(time)}")


def _health_sql(health: dict | None) -> str:
    if not health:
        return ""
    terms = [f"(CAST({_q(c)} AS DOUBLE) - {m!r}) / {s!r} * {w!r}"
             for c, m, s, w in zip(health["columns"], health["mean"], health["std"], health["weights"])]
    return f", ({' + '.join(terms)}) AS __hi"


def _column_sql(x: str, name: str, windows: list[int], longest: int, part: str, full: bool) -> list[str]:
    """Means at every window and slope at every window; for a sensor (full) also std/min/max over the longest; the
    change of the shortest mean since the mean of the unit's first `longest` rows."""
    x = f"CAST({x} AS DOUBLE)" if x != "__hi" else x
    out = [f"avg({x}) OVER w{w} AS {_q(f'{name}__mean{w}')}" for w in windows]
    out += [f"regr_slope({x}, __step) OVER w{w} AS {_q(f'{name}__slope{w}')}" for w in windows if w >= 3]
    if full:
        out += [f"stddev_samp({x}) OVER w{longest} AS {_q(f'{name}__std{longest}')}",
                f"min({x}) OVER w{longest} AS {_q(f'{name}__min{longest}')}",
                f"max({x}) OVER w{longest} AS {_q(f'{name}__max{longest}')}"]
    start = f"avg(CASE WHEN __step <= {longest} THEN {x} END) OVER ({part} ROWS UNBOUNDED PRECEDING)"
    out.append(f"avg({x}) OVER w{windows[0]} - {start} AS {_q(f'{name}__since_start')}")
    return out


def windows_names(spec: dict) -> list[str]:
    if spec.get("v") == 1:
        from engine.ml.pdm import window_names

        return window_names(spec["columns"], spec["windows"][0])
    windows = sorted(spec["windows"])
    longest = windows[-1]

    def names(c: str, full: bool) -> list[str]:
        out = [f"{c}__mean{w}" for w in windows] + [f"{c}__slope{w}" for w in windows if w >= 3]
        if full:
            out += [f"{c}__std{longest}", f"{c}__min{longest}", f"{c}__max{longest}"]
        return out + [f"{c}__since_start"]

    out = [n for c in spec["columns"] for n in names(c, True)]
    if spec.get("health"):
        out += names(HEALTH, False) + [HEALTH]
    return out + ["steps_in_service"]


def fit_health(frame: pd.DataFrame, columns: list[str], group: str, time: str) -> dict | None:
    """The first principal component of the standardised sensors (those that vary), its sign such that it grows with
    time in service; fitted on the rows given (no target involved). None with fewer than two varying sensors."""
    x = frame[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    std = x.std()
    keep = [c for c in columns if np.isfinite(std[c]) and std[c] > 1e-9 * max(1.0, abs(x[c].mean()))
            and x[c].nunique() > 10]
    if len(keep) < 2:
        return None
    z = ((x[keep] - x[keep].mean()) / x[keep].std()).fillna(0.0).to_numpy()
    _, _, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
    w = vt[0]
    steps = frame.sort_values([group, time]).groupby(group).cumcount().reindex(frame.index).to_numpy(float)
    if np.corrcoef(z @ w, steps)[0, 1] < 0:
        w = -w
    return {"columns": keep, "mean": [float(v) for v in x[keep].mean()], "std": [float(v) for v in x[keep].std()],
            "weights": [round(float(v), 8) for v in w]}


def add_windows_v2(frame: pd.DataFrame, spec: dict) -> pd.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET threads = 1")
        con.register("pdm_input", frame)
        return con.execute(windows_sql("pdm_input", spec)).df()
