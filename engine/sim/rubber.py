"""A rubber compound plant with a known answer: a recipe (wt %, summing to 100), two process settings, a choice of
natural-rubber origin, and a true tensile strength that depends on them nonlinearly.

- composition: polymer (the balance), carbon black, silica, oil, sulfur, accelerator, zinc oxide — reinforcement
  peaks at an effective filler loading, cure saturates with sulfur × accelerator and turns brittle beyond it, oil
  dilutes (less so at a cooler mix), zinc oxide activates up to a point;
- process: mixing temperature (its optimum moves with the incoming rubber's Mooney viscosity, the context) and cure
  time (rises, saturates, then reverts slightly); origin: each source's rubber is a little stronger or weaker;
- history: batches ran near one nominal recipe with small, slowly drifting variations (narrow operation), the
  origin in campaigns; tensile measured with noise.
`optimum` computes the true best inside the historical 1–99 % envelope under the same constraints (sum = 100, cost
budget or quality spec) by multi-start SLSQP per origin; `score` rates a recipe_tuning result against it.
Costs are illustrative list prices (currency units per kg; press time per minute), not market quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.i18n import Msg
from engine.sim.yield_line import _slow  # the same slow drift as the simulated yield line

COMPOSITION = ["polymer", "carbon_black", "silica", "oil", "sulfur", "accelerator", "zinc_oxide"]
PROCESS = ["mix_temp_c", "cure_time_min"]
ORIGIN = "rubber_origin"
CONTEXT = "mooney"
TARGET = "tensile_mpa"
TOTAL = 100.0
# nominal recipe (wt %; polymer is the balance), its batch-to-batch spread and the process nominal/spread
NOMINAL = {"carbon_black": (27.0, 1.4), "silica": (4.0, 0.5), "oil": (6.0, 0.5), "sulfur": (1.6, 0.12),
           "accelerator": (0.8, 0.07), "zinc_oxide": (2.6, 0.2), "mix_temp_c": (158.0, 2.5),
           "cure_time_min": (8.0, 0.6)}
COSTS = {"polymer": 1.70, "carbon_black": 1.10, "silica": 1.60, "oil": 0.80, "sulfur": 0.25, "accelerator": 5.00,
         "zinc_oxide": 2.90, "cure_time_min": 0.60}  # per kg of ingredient in 100 kg of compound; per press minute
ORIGINS = {"TH": 0.0, "MY": 0.45, "CI": -0.35}  # tensile offset (MPa) of each natural-rubber origin
ORIGIN_COSTS = {"MY": 2.0, "CI": -1.5}  # surcharge per 100 kg of compound against TH
ORIGIN_SHARE = {"TH": 0.6, "MY": 0.25, "CI": 0.15}


def true_tensile(frame: pd.DataFrame) -> np.ndarray:
    """Expected tensile strength (MPa) at the settings (columns as in the plant's table)."""
    v = {c: frame[c].to_numpy(float) for c in COMPOSITION + PROCESS + [CONTEXT]}
    origin = frame[ORIGIN].astype(str).map(ORIGINS).to_numpy(float) if ORIGIN in frame else 0.0
    return _tensile(v) + origin


def _tensile(v: dict) -> np.ndarray:
    """The origin-free response from plain arrays (the optimum search calls it thousands of times)."""
    filler = v["carbon_black"] + 1.3 * v["silica"]
    crosslink = v["sulfur"] * (1.0 + 0.7 * v["accelerator"])
    t_best = 150.0 + 0.4 * (v[CONTEXT] - 60.0)
    cure = v["cure_time_min"] - 4.0
    out = (20.0 - 0.03 * (filler - 38.0) ** 2
           + 4.0 * (1 - np.exp(-crosslink / 1.4)) - 0.8 * np.maximum(crosslink - 3.0, 0) ** 2
           - v["oil"] * (0.22 + 0.012 * (v["mix_temp_c"] - 150.0))
           + 0.9 * np.tanh((v["zinc_oxide"] - 2.0) / 0.8)
           - 0.012 * (v["mix_temp_c"] - t_best) ** 2
           + 2.0 * (1 - np.exp(-cure / 3.0)) - 0.04 * cure
           - 0.02 * (v[CONTEXT] - 60.0))
    return out


def cost_of(frame: pd.DataFrame) -> np.ndarray:
    """Cost per 100 kg of compound: ingredients, press time and the origin's surcharge."""
    total = sum(price * frame[c].to_numpy(float) for c, price in COSTS.items())
    return total + frame[ORIGIN].astype(str).map(ORIGIN_COSTS).fillna(0.0).to_numpy(float)


@dataclass
class CompoundPlant:
    frame: pd.DataFrame
    seed: int

    @property
    def controllable(self) -> list[str]:
        return COMPOSITION + PROCESS + [ORIGIN]

    def costs(self) -> dict[str, float]:
        """expert.costs for a recipe: per column, and per origin level as 'rubber_origin=MY'."""
        return {**COSTS, **{f"{ORIGIN}={k}": v for k, v in ORIGIN_COSTS.items()}}

    def envelope(self, quantiles=(0.01, 0.99)) -> dict[str, tuple[float, float]]:
        q = self.frame[COMPOSITION + PROCESS].quantile(list(quantiles))
        return {c: (float(q.iloc[0][c]), float(q.iloc[1][c])) for c in COMPOSITION + PROCESS}

    def optimum(self, context: float, budget: float | None = None, spec: float | None = None,
                objective: str = "max_quality", origins: list[str] | None = None) -> tuple[dict, float, float]:
        """(settings, true tensile, cost) of the true best inside the envelope with Σ composition = 100 and
        cost <= budget (max_quality) or tensile >= spec (min_cost)."""
        from scipy.optimize import minimize

        names = COMPOSITION + PROCESS
        box = self.envelope()
        bounds = [box[c] for c in names]
        rng = np.random.default_rng(self.seed)
        best = (None, -np.inf, np.inf, None)
        for origin in origins or list(ORIGINS):
            def quality(x, origin=origin):
                return float(_tensile({**dict(zip(names, x)), CONTEXT: context})) + ORIGINS[origin]

            def cost(x, origin=origin):
                return sum(COSTS[c] * v for c, v in zip(names, x) if c in COSTS) + ORIGIN_COSTS.get(origin, 0.0)

            cons = [{"type": "eq", "fun": lambda x: sum(x[:len(COMPOSITION)]) - TOTAL}]
            if objective == "max_quality":
                fun = lambda x: -quality(x)  # noqa: E731
                if budget is not None:
                    cons.append({"type": "ineq", "fun": lambda x: budget - cost(x)})
            else:
                fun = cost
                cons.append({"type": "ineq", "fun": lambda x: quality(x) - spec})
            for _ in range(8):
                x0 = np.array([rng.uniform(lo, hi) for lo, hi in bounds])
                res = minimize(fun, x0, method="SLSQP", bounds=bounds, constraints=cons,
                               options={"maxiter": 500, "ftol": 1e-10})
                if not _feasible(res.x, bounds, cons):
                    continue
                q, c = quality(res.x), cost(res.x)
                better = q > best[1] + 1e-9 if objective == "max_quality" else c < best[2] - 1e-9
                if better:
                    best = (dict(zip(names, map(float, res.x)), **{ORIGIN: origin}), q, c, origin)
        if best[0] is None:
            raise ValueError(Msg("no feasible setting inside the envelope under these constraints",
                                 "在这些约束下，运行包络内没有可行的设定"))
        return best[0], best[1], best[2]

    def score(self, result: dict, budget: float | None = None, spec: float | None = None,
              objective: str = "max_quality", origins: list[str] | None = None) -> dict:
        """Captured share of the achievable improvement and feasibility of a recipe_tuning result (result.json
        shape): baseline and recommendation read from it, the optimum under the same constraints and context."""
        settings = result["predicted"]["settings"]
        context = float(settings[CONTEXT])
        base = {r["name"]: r["baseline"] for r in result["recommendations"]}
        rec = {r["name"]: r["value"] for r in result["recommendations"]}
        if ORIGIN not in rec:  # the origin held as context: at the value the recommendation was made for
            base[ORIGIN] = rec[ORIGIN] = settings[ORIGIN]
        row = lambda s: pd.DataFrame([{**s, CONTEXT: context}])  # noqa: E731
        q_base, q_rec = float(true_tensile(row(base))[0]), float(true_tensile(row(rec))[0])
        c_base, c_rec = float(cost_of(row(base))[0]), float(cost_of(row(rec))[0])
        best, q_best, c_best = self.optimum(context, budget, spec, objective, origins)
        if objective == "max_quality":
            captured = (q_rec - q_base) / max(q_best - q_base, 1e-12)
        else:
            captured = (c_base - c_rec) / max(c_base - c_best, 1e-12)
        box = self.envelope()
        slack = 1e-6
        feasible = {"sum": abs(sum(rec[c] for c in COMPOSITION) - TOTAL) <= 1e-6 * TOTAL,
                    "bounds": all(box[c][0] - slack <= rec[c] <= box[c][1] + slack for c in box),
                    "budget": budget is None or c_rec <= budget * (1 + 1e-6),
                    "spec_true": spec is None or q_rec >= spec}
        return {"captured": captured, "feasible": feasible, "true_baseline": q_base, "true_recommended": q_rec,
                "true_best": q_best, "cost_baseline": c_base, "cost_recommended": c_rec, "cost_best": c_best,
                "best": best}


def _feasible(x, bounds, cons) -> bool:
    inside = all(lo - 1e-7 <= v <= hi + 1e-7 for v, (lo, hi) in zip(x, bounds))
    ok = [abs(c["fun"](x)) <= 1e-6 if c["type"] == "eq" else c["fun"](x) >= -1e-6 for c in cons]
    return inside and all(ok)


def make_compound(rows: int = 2500, seed: int = 0, noise: float = 0.35) -> CompoundPlant:
    """Batches of the plant's history: narrow, drifting operation around the nominal recipe."""
    rng = np.random.default_rng(seed)
    cols = {}
    for c, (centre, sd) in NOMINAL.items():
        drift = _slow(rng, rows, rng.uniform(150, 400))
        excursion = _slow(rng, rows, rng.uniform(2, 8))
        cols[c] = np.round(centre + sd * (0.6 * drift + 0.8 * excursion), 3)
    frame = pd.DataFrame(cols)
    frame["polymer"] = np.round(TOTAL - frame[COMPOSITION[1:]].sum(axis=1), 3)
    frame[CONTEXT] = np.round(60.0 + 5.0 * _slow(rng, rows, 60) + rng.normal(0, 1.0, rows), 1)
    frame[ORIGIN] = _campaigns(rng, rows)
    frame[TARGET] = np.round(true_tensile(frame) + rng.normal(0, noise, rows), 3)
    frame.insert(0, "batch_time", pd.date_range("2026-01-05", periods=rows, freq="3h"))
    return CompoundPlant(frame[["batch_time", *COMPOSITION, *PROCESS, ORIGIN, CONTEXT, TARGET]], seed)


def _campaigns(rng, rows: int) -> np.ndarray:
    """The origin runs in campaigns of a few dozen batches."""
    levels, p = list(ORIGIN_SHARE), list(ORIGIN_SHARE.values())
    out, i = np.empty(rows, dtype=object), 0
    while i < rows:
        n = int(rng.integers(20, 60))
        out[i: i + n] = rng.choice(levels, p=p)
        i += n
    return out


def recipe_for(plant: CompoundPlant, data: dict, name: str = "Simulated rubber compound — tensile",
               **params) -> dict:
    """A recipe_tuning recipe (as a dict) for this plant's table."""
    return {"template": "recipe_tuning@1.0.0", "name": name, "data": data,
            "roles": {"target": TARGET, "controllable": plant.controllable, "context": [CONTEXT],
                      "time": "batch_time"},
            "params": {"composition": COMPOSITION, "total": TOTAL, **params},
            "expert": {"costs": plant.costs()}}
