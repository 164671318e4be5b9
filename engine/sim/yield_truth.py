"""The true response of the simulated line (engine/sim/yield_line.py): expected quality from the settings.

On the logit scale: an intercept, one effect per driver (a quadratic optimum or a saturating ramp, in units of the
driver's historical half-window, whose location may move with the context), pairwise interactions and a context
effect. `best` finds the best driver settings inside a box (the historical envelope) for a fixed context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Driver:
    name: str
    offset: float      # physical = offset + span * u (u: the normalized design range 0..1)
    span: float
    kind: str          # "peak": −amp·s², "ramp": amp·tanh(s)
    amp: float
    centre: float      # centre of the historical window (u units)
    width: float       # half-width of the historical window (u units)
    delta: float       # optimum / knee, in half-widths from the centre, at the average context
    shift: float       # how far the optimum moves per standard deviation of the context (half-widths)

    def scaled(self, physical: np.ndarray) -> np.ndarray:
        """Position in half-widths from the window centre."""
        return ((physical - self.offset) / self.span - self.centre) / self.width

    def effect(self, physical: np.ndarray, c: np.ndarray) -> np.ndarray:
        s = self.scaled(physical) - self.delta - self.shift * c
        return -self.amp * s ** 2 if self.kind == "peak" else self.amp * np.tanh(s)


@dataclass(frozen=True)
class Interaction:
    a: str
    b: str
    amp: float


@dataclass
class Truth:
    drivers: list[Driver]
    interactions: list[Interaction]
    context: str
    context_mean: float
    context_sd: float
    context_coef: float
    intercept: float = 0.0

    def logit(self, frame: pd.DataFrame, with_intercept: bool = True) -> np.ndarray:
        values = {n: frame[n].to_numpy(float) for n in [d.name for d in self.drivers] + [self.context]}
        return self._logit(values) + (self.intercept if with_intercept else 0.0)

    def _logit(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Without the intercept, from plain arrays (the optimiser calls it thousands of times)."""
        c = (values[self.context] - self.context_mean) / self.context_sd
        z = self.context_coef * c
        by_name = {d.name: d for d in self.drivers}
        for d in self.drivers:
            z = z + d.effect(values[d.name], c)
        for i in self.interactions:
            z = z + i.amp * by_name[i.a].scaled(values[i.a]) * by_name[i.b].scaled(values[i.b])
        return z

    def rate(self, frame: pd.DataFrame) -> np.ndarray:
        return 1 / (1 + np.exp(-self.logit(frame)))

    def calibrate(self, z: np.ndarray, wanted: float) -> None:
        """Choose the intercept so the history's mean rate is `wanted` (bisection on a monotone function)."""
        lo, hi = -20.0, 20.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.mean(1 / (1 + np.exp(-(z + mid)))) < wanted else (lo, mid)
        self.intercept = (lo + hi) / 2

    def best(self, base: pd.Series, box: dict[str, tuple[float, float]]) -> tuple[pd.Series, float]:
        """Best driver settings within `box` (others as in `base`), by coordinate ascent on dense grids.

        Each driver's own effect is unimodal and the interactions are weak and bilinear, so cycling through the
        drivers (a 401-point grid over the box, then finer grids around the current value) until nothing moves
        finds the optimum; started from the baseline and from each driver's own best value, the better one wins."""
        names = [d.name for d in self.drivers if d.name in box]
        values = {n: np.array([float(base[n])]) for n in [d.name for d in self.drivers] + [self.context]}
        best_values, best_z = None, -np.inf
        for start in (None, self._separable_best(values, names, box)):
            current = {n: v.copy() for n, v in values.items()}
            for k, n in enumerate(names):
                lo, hi = box[n]
                current[n] = np.clip(current[n], lo, hi) if start is None else start[k: k + 1]
            z = self._ascend(current, names, box)
            if z > best_z:
                best_values, best_z = current, z
        point = base.copy()
        for n in names:
            point[n] = float(best_values[n][0])
        return point, float(1 / (1 + np.exp(-(best_z + self.intercept))))

    def _ascend(self, values: dict[str, np.ndarray], names: list[str], box: dict, sweeps: int = 50) -> float:
        z = float(self._logit(values)[0])
        for _ in range(sweeps):
            before = z
            for n in names:
                lo, hi = box[n]
                for width in (hi - lo, (hi - lo) / 50):
                    centre = float(values[n][0])
                    grid = np.clip(np.linspace(centre - width, centre + width, 401), lo, hi)
                    scores = self._logit({**values, n: grid})
                    k = int(np.argmax(scores))
                    if scores[k] >= z:
                        values[n], z = grid[k: k + 1], float(scores[k])
            if z - before < 1e-10:
                break
        return z

    def _separable_best(self, values: dict[str, np.ndarray], names: list[str], box: dict) -> np.ndarray:
        """Each driver at its own best value on a dense grid, the others and the interactions ignored."""
        c = (values[self.context] - self.context_mean) / self.context_sd
        by_name = {d.name: d for d in self.drivers}
        out = []
        for n in names:
            grid = np.linspace(*box[n], 401)
            out.append(grid[int(np.argmax(by_name[n].effect(grid, np.repeat(c, len(grid)))))])
        return np.array(out)
