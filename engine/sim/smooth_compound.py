"""A compound whose quality is a smooth function of six fractions summing to 1 and two process settings, with a
known answer — the case where a piecewise-constant (tree) surrogate is the wrong model.

Quality (a Scheffé-style mixture response plus process terms): linear blending of the six fractions, pairwise
synergies and antagonisms, a quadratic optimum in cure temperature whose location moves with the filler share, and
a saturating cure time. History: batches scattered around a nominal recipe (Dirichlet), the process settings around
their nominal values, quality measured with noise. Costs per unit fraction are illustrative.
`optimum` is the true best inside the historical 1-99 % envelope under Σ fractions = 1 and cost <= budget
(multi-start SLSQP on the known response); `score` rates a recipe_tuning result against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FRACTIONS = ["resin", "filler", "fiber", "plasticizer", "binder", "additive"]
PROCESS = ["cure_temp_c", "cure_time_min"]
TARGET = "strength"
NOMINAL = np.array([0.34, 0.24, 0.14, 0.12, 0.10, 0.06])
COSTS = {"resin": 3.0, "filler": 0.6, "fiber": 4.0, "plasticizer": 1.5, "binder": 2.2, "additive": 6.0,
         "cure_time_min": 0.02}
LINEAR = np.array([40.0, 22.0, 55.0, 18.0, 35.0, 30.0])
PAIRS = {(0, 2): 60.0, (0, 1): 25.0, (1, 3): -40.0, (2, 4): 35.0, (0, 5): 80.0, (3, 4): -20.0, (1, 2): 30.0}


def true_quality(frame: pd.DataFrame) -> np.ndarray:
    x = frame[FRACTIONS].to_numpy(float)
    q = x @ LINEAR
    for (i, j), b in PAIRS.items():
        q = q + b * x[:, i] * x[:, j]
    q = q - 120.0 * (x[:, 5] - 0.09) ** 2 * (x[:, 5] > 0.09)          # too much additive turns brittle
    temp, time = frame["cure_temp_c"].to_numpy(float), frame["cure_time_min"].to_numpy(float)
    best_temp = 150.0 + 40.0 * (x[:, 1] - 0.24)
    q = q - 0.006 * (temp - best_temp) ** 2 + 3.0 * (1 - np.exp(-(time - 10.0) / 8.0))
    return q


@dataclass
class SmoothCompound:
    frame: pd.DataFrame
    seed: int

    @property
    def controllable(self) -> list[str]:
        return FRACTIONS + PROCESS

    def costs(self) -> dict[str, float]:
        return dict(COSTS)

    def cost(self, settings: dict) -> float:
        return float(sum(p * settings[c] for c, p in COSTS.items()))

    def envelope(self, quantiles=(0.01, 0.99)) -> dict[str, tuple[float, float]]:
        q = self.frame[self.controllable].quantile(list(quantiles))
        return {c: (float(q.iloc[0][c]), float(q.iloc[1][c])) for c in self.controllable}

    def optimum(self, budget: float) -> tuple[dict, float]:
        from scipy.optimize import minimize

        names = self.controllable
        box = self.envelope()
        bounds = [box[c] for c in names]
        rng = np.random.default_rng(self.seed)

        def quality(x):
            return float(true_quality(pd.DataFrame([dict(zip(names, x))]))[0])

        cons = [{"type": "eq", "fun": lambda x: sum(x[:6]) - 1.0},
                {"type": "ineq", "fun": lambda x: budget - self.cost(dict(zip(names, x)))}]
        best, best_q = None, -np.inf
        for _ in range(20):
            x0 = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
            res = minimize(lambda x: -quality(x), x0, method="SLSQP", bounds=bounds, constraints=cons,
                           options={"maxiter": 500, "ftol": 1e-12})
            inside = all(lo - 1e-7 <= v <= hi + 1e-7 for v, (lo, hi) in zip(res.x, bounds))
            if inside and all(abs(c["fun"](res.x)) <= 1e-6 if c["type"] == "eq" else c["fun"](res.x) >= -1e-6
                              for c in cons) and quality(res.x) > best_q:
                best, best_q = dict(zip(names, map(float, res.x))), quality(res.x)
        return best, best_q

    def score(self, result: dict, budget: float) -> dict:
        """Captured share and feasibility of a recipe_tuning result (baseline and recommendation read from it)."""
        base = {r["name"]: r["baseline"] for r in result["recommendations"]}
        rec = {r["name"]: r["value"] for r in result["recommendations"]}
        q_base = float(true_quality(pd.DataFrame([base]))[0])
        q_rec = float(true_quality(pd.DataFrame([rec]))[0])
        best, q_best = self.optimum(budget)
        box = self.envelope()
        feasible = {"sum": abs(sum(rec[c] for c in FRACTIONS) - 1.0) <= 1e-6,
                    "bounds": all(box[c][0] - 1e-6 <= rec[c] <= box[c][1] + 1e-6 for c in box),
                    "budget": self.cost(rec) <= budget * (1 + 1e-6)}
        return {"captured": (q_rec - q_base) / max(q_best - q_base, 1e-12), "feasible": feasible,
                "true_baseline": q_base, "true_recommended": q_rec, "true_best": q_best,
                "cost_recommended": self.cost(rec), "best": best}


def make_smooth_compound(rows: int = 600, seed: int = 0, noise: float = 0.3) -> SmoothCompound:
    rng = np.random.default_rng(seed)
    fractions = rng.dirichlet(NOMINAL * 60.0, rows)
    frame = pd.DataFrame(np.round(fractions, 5), columns=FRACTIONS)
    frame["resin"] = np.round(1.0 - frame[FRACTIONS[1:]].sum(axis=1), 5)   # the balance: sums to 1 exactly
    frame["cure_temp_c"] = np.round(rng.normal(150.0, 6.0, rows), 2)
    frame["cure_time_min"] = np.round(rng.normal(18.0, 3.0, rows), 2)
    frame[TARGET] = np.round(true_quality(frame) + rng.normal(0, noise, rows), 4)
    return SmoothCompound(frame, seed)
