"""Sampling search over a model inside a box: random candidates, historical points, local refinement.

The sampling baseline the exact optimiser is measured against, and its fallback for models too large to encode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.i18n import Msg


@dataclass
class Box:
    """Numeric bounds per controllable (categorical controllables take one of their observed levels)."""

    low: dict[str, float]
    high: dict[str, float]
    levels: dict[str, list]
    integer: list[str]

    @property
    def names(self) -> list[str]:
        return list(self.low) + list(self.levels)


def sample(box: Box, n: int, rng: np.random.Generator) -> pd.DataFrame:
    cols = {c: rng.uniform(box.low[c], box.high[c], n) for c in box.low}
    cols.update({c: rng.choice(np.array(levels, dtype=object), n) for c, levels in box.levels.items()})
    return _round(pd.DataFrame(cols), box)


def perturb(best: pd.DataFrame, box: Box, scale: float, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n points around each row of `best`, with a step of `scale` × the box width, clipped to the box."""
    rows = best.loc[best.index.repeat(n)].reset_index(drop=True)
    for c in box.low:
        width = box.high[c] - box.low[c]
        rows[c] = np.clip(rows[c].to_numpy(float) + rng.normal(0, scale * width, len(rows)), box.low[c], box.high[c])
    for c, levels in box.levels.items():
        switch = rng.random(len(rows)) < 0.15
        rows.loc[switch, c] = rng.choice(np.array(levels, dtype=object), int(switch.sum()))
    return _round(rows, box)


def clip_to_box(frame: pd.DataFrame, box: Box) -> pd.DataFrame:
    """Numeric settings clipped into the box; unknown categorical levels replaced by the first level."""
    frame = frame.copy()
    for c in box.low:
        frame[c] = np.clip(frame[c].to_numpy(float), box.low[c], box.high[c])
    for c, levels in box.levels.items():
        frame.loc[~frame[c].isin(levels), c] = levels[0]
    return _round(frame, box)


def _round(frame: pd.DataFrame, box: Box) -> pd.DataFrame:
    for c in box.integer:
        if c in box.low:
            frame[c] = np.clip(np.round(frame[c]), np.ceil(box.low[c]), np.floor(box.high[c]))
    return frame


def search(score, box: Box, seeds: pd.DataFrame, n_samples: int, rounds: int, rng: np.random.Generator,
           progress=lambda f, m: None) -> tuple[pd.Series, float, int]:
    """Best point for `score(frame) -> array` (higher is better); returns (point, score, evaluations)."""
    pool = pd.concat([seeds[box.names], sample(box, n_samples, rng)], ignore_index=True)
    values = score(pool)
    evaluations = len(pool)
    for r in range(rounds):
        progress((r + 1) / (rounds + 1), Msg(f"refining {r + 1}/{rounds}", f"细化 {r + 1}/{rounds}"))
        top = pool.iloc[np.argsort(-values)[:10]].reset_index(drop=True)
        local = perturb(top, box, 0.1 / (2 ** r), max(20, n_samples // 40), rng)
        local_values = score(local)
        evaluations += len(local)
        pool = pd.concat([top, local], ignore_index=True)
        values = np.concatenate([values[np.argsort(-values)[:10]], local_values])
    best = int(np.argmax(values))
    return pool.iloc[best], float(values[best]), evaluations


def window(score, point: pd.Series, box: Box, col: str, floor: float, steps: int = 41) -> tuple[float, float]:
    """The contiguous range of `col` around its value in `point` where score stays ≥ floor (others held)."""
    grid = np.linspace(box.low[col], box.high[col], steps)
    if col in box.integer:
        grid = np.unique(np.round(grid))
    frame = pd.DataFrame([point] * len(grid)).reset_index(drop=True)
    frame[col] = grid
    ok = score(frame) >= floor
    centre = int(np.argmin(np.abs(grid - float(point[col]))))
    lo = hi = centre
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < len(grid) - 1 and ok[hi + 1]:
        hi += 1
    return float(min(grid[lo], point[col])), float(max(grid[hi], point[col]))


ENVELOPE_ROWS = 50_000   # historical points the trust region is built from at most (issue 21: big tables)


class TrustRegion:
    """Keeps candidates near historical operation: the distance (in box-width units) to the nearest historical
    point must not exceed what is typical between historical points themselves (a quantile of their NN distances).
    A box alone is not enough: each value can be inside its range while the combination was never run."""

    def __init__(self, history: pd.DataFrame, box: Box, quantile: float = 0.95):
        from sklearn.neighbors import NearestNeighbors

        self.cols = list(box.low)
        # scale by the data's own 1-99% spread, not the box: narrow expert bounds must not stretch distances
        spread = history[self.cols].quantile([0.01, 0.99])
        self.scale = np.array([max(float(spread.loc[0.99, c] - spread.loc[0.01, c]), 1e-12) for c in self.cols])
        points = history[self.cols].dropna().drop_duplicates().to_numpy(float) / self.scale
        if len(points) > ENVELOPE_ROWS:   # a big table: the envelope from an even sample (its own NN distances)
            points = points[np.random.default_rng(0).choice(len(points), ENVELOPE_ROWS, replace=False)]
        self.points_used = len(points)
        self.enabled = len(self.cols) > 0 and len(points) >= 3
        if not self.enabled:
            self.radius = float("inf")
            return
        self.nn = NearestNeighbors(n_neighbors=2).fit(points)
        own = self.nn.kneighbors(points)[0][:, 1]
        self.radius = float(np.quantile(own, quantile)) if quantile < 1 else float("inf")

    def distance(self, candidates: pd.DataFrame) -> np.ndarray:
        if not self.enabled:
            return np.zeros(len(candidates))
        return self.nn.kneighbors(candidates[self.cols].to_numpy(float) / self.scale, n_neighbors=1)[0][:, 0]

    def inside(self, candidates: pd.DataFrame) -> np.ndarray:
        return self.distance(candidates) <= self.radius + 1e-12
