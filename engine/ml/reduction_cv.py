"""How many items to drop, decided on held-out products; and the reduced test as a rule a plant can run.

Each fold runs the whole greedy elimination on its training rows (limits inferred there too) and scores its
held-out rows after every drop, so the curve "items dropped → bad products missed" is out-of-sample end to end.
Misses are counted over all bad products (each held out once). The number of drops is the longest prefix of the
curve on which the miss rate stays within the limit — judged on the Clopper-Pearson upper bound when the data has
enough bad products to confirm the limit at all, else on the median-unbiased estimate (the 50 % upper bound, which
unlike k/n does not call 0 misses a 0 % rate; the report says so) — and on which the share of good products flagged
stays within the false-alarm budget (or what the full test already flags). Scanning a noisy curve for its last good
point would flatter the result; taking the first point that fails is the conservative reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from scipy.stats import beta

from engine.core.i18n import Msg
from engine.ml import check_items as ti
from engine.ml.item_reduction import Elimination, Rows, Settings, guard_flags


def bounds(k: int, n: int, confidence: float) -> tuple[float, float]:
    """One-sided Clopper-Pearson bounds (lower, upper) of a rate seen k times in n, each at `confidence`."""
    if n <= 0:
        return 0.0, 1.0
    low = float(beta.ppf(1 - confidence, k, n - k + 1)) if k > 0 else 0.0
    high = float(beta.ppf(confidence, k + 1, n - k)) if k < n else 1.0
    return low, high


def needed_bad(limit: float, confidence: float) -> int:
    """Bad products needed so that zero misses confirms a miss rate below `limit` (upper bound ≤ limit)."""
    return int(np.ceil(np.log(1 - confidence) / np.log(1 - limit))) if 0 < limit < 1 else 0


@dataclass
class Fold:
    curve: list[dict]
    dropped: list[int]
    caught_train: int               # bad products the full test catches among the training rows
    bad: int
    good: int
    full_misses: int                # bad products the full test (all items) passes: not the reduction's doing


def run_folds(data: ti.ItemData, bad: np.ndarray, given: dict, mandatory: np.ndarray, cost: np.ndarray,
              settings: Settings, fold_idx: list, progress: Callable[[float, str], None]) -> list[Fold]:
    folds = []
    for k, (train, test) in enumerate(fold_idx):
        progress(k / (len(fold_idx) + 1), Msg(f"fold {k + 1}/{len(fold_idx)}", f"第 {k + 1}/{len(fold_idx)} 折"))
        low, high, _ = ti.limits(_subset(data, train), bad[train], given)
        tr = Rows(data.values[train], ti.fails(data.values[train], low, high), bad[train])
        te = Rows(data.values[test], ti.fails(data.values[test], low, high), bad[test])
        elim = Elimination(tr, low, high, data.passfail, mandatory, cost, settings, te).run()
        folds.append(Fold(elim.curve, [d["item"] for d in elim.dropped], int(tr.caught.sum()), int(te.bad.sum()),
                          int(te.good.sum()), int((te.bad & ~te.caught).sum())))
    return folds


def _subset(data: ti.ItemData, rows: np.ndarray) -> ti.ItemData:
    return ti.ItemData(data.names, data.values[rows], data.passfail, data.fail_value)


def curve(folds: list[Fold], confidence: float) -> list[dict]:
    """Held-out totals after each number of drops (as far as every fold went)."""
    n_bad, n_good = sum(f.bad for f in folds), sum(f.good for f in folds)
    out = []
    for d in range(min(len(f.curve) for f in folds)):
        recs = [f.curve[d] for f in folds]
        misses = sum(r["misses"] for r in recs)
        plain = sum(r["misses_kept_only"] for r in recs)
        alarms = sum(r["false_alarms"] for r in recs)
        low, high = bounds(misses, n_bad, confidence)
        out.append({"dropped": d, "kept": recs[0]["kept"], "misses": misses, "miss_rate": misses / max(n_bad, 1),
                    "miss_low": low, "miss_high": high, "misses_kept_only": plain,
                    "miss_rate_kept_only": plain / max(n_bad, 1), "false_alarms": alarms,
                    "false_alarm_rate": alarms / max(n_good, 1),
                    "false_alarm_rate_kept_only": sum(r["false_alarms_kept_only"] for r in recs) / max(n_good, 1)})
    return out


def choose(points: list[dict], n_bad: int, limit: float, confidence: float, max_false_alarm: float) -> dict:
    """The number of drops: the longest prefix of the curve within the miss limit and the false-alarm budget."""
    confirmable = bounds(0, n_bad, confidence)[1] <= limit
    alarm_cap = max(max_false_alarm, points[0]["false_alarm_rate"])
    drops = 0
    for p in points[1:]:
        within = (p["miss_high"] if confirmable else bounds(p["misses"], n_bad, 0.5)[1]) <= limit
        if not (within and p["false_alarm_rate"] <= alarm_cap + 1e-12):
            break
        drops = p["dropped"]
    return {"drops": drops, "criterion": "upper_bound" if confirmable else "median",
            "bad_needed": needed_bad(limit, confidence), "false_alarm_cap": alarm_cap}


@dataclass
class ReductionPlan:
    """The reduced test: the kept items with their limits, and the guard models of the dropped items.

    A product is sent to the full test (or rejected) when a kept item fails its limits, or a guard predicts a
    dropped item within z·σ of its limit."""

    items: list[str]
    kept: list[str]
    limits: dict[str, tuple[float, float]]        # every item (PASS/FAIL items: coded 1 = fail, limit 0.5)
    fail_value: dict[str, object]
    medians: dict[str, float]                     # kept items: stand-in when not measured (guards only)
    guards: list[dict]                            # item, predictors, intercept, coef, sigma, r2
    z: float

    def flags(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per product: a kept item failed, a guard flagged it, either."""
        kept = self._values(frame, self.kept)
        low = np.array([self.limits[k][0] for k in self.kept])
        high = np.array([self.limits[k][1] for k in self.kept])
        kept_fail = ti.fails(kept, low, high).any(axis=1)
        filled = np.where(np.isnan(kept), np.array([self.medians[k] for k in self.kept]), kept)
        col = {k: j for j, k in enumerate(self.kept)}
        model = np.zeros(len(frame), bool)
        for g in self.guards:
            pred = g["intercept"] + filled[:, [col[p] for p in g["predictors"]]] @ np.array(g["coef"])
            lo, hi = self.limits[g["item"]]
            model |= guard_flags(pred, g["sigma"], self.z, lo, hi)
        return {"kept_fail": kept_fail, "model": model, "flagged": kept_fail | model}

    def _values(self, frame: pd.DataFrame, names: list[str]) -> np.ndarray:
        out = np.empty((len(frame), len(names)))
        for j, name in enumerate(names):
            if name in self.fail_value:
                s = frame[name]
                out[:, j] = np.where(s.isna(), np.nan, (s == self.fail_value[name]).to_numpy(float))
            else:
                out[:, j] = pd.to_numeric(frame[name], errors="coerce").to_numpy(float)
        return out


def lost_share(folds: list[Fold], drops: int) -> float:
    """The share of their caught bad products the fold runs had given up (as the greedy counts) after `drops`."""
    return float(np.mean([f.curve[drops]["lost"] / max(f.caught_train, 1) for f in folds]))


def final_plan(data: ti.ItemData, bad: np.ndarray, given: dict, mandatory: np.ndarray, cost: np.ndarray,
               settings: Settings, drops: int, lost: float) -> tuple[ReductionPlan, Elimination]:
    """The greedy on every row as a plan: at most `drops` drops, and no further than the fold runs went in
    evidence — giving up at most the share `lost` of the caught bad products. More rows show more failures, so
    the same count of drops would reach deeper into items the folds had good reason to keep."""
    low, high, _ = ti.limits(data, bad, given)
    rows = Rows(data.values, ti.fails(data.values, low, high), bad)
    elim = Elimination(rows, low, high, data.passfail, mandatory, cost, settings)
    elim.run(max_drops=drops, max_loss=lost * rows.caught.sum())
    names = data.names
    kept = [names[j] for j in np.flatnonzero(elim.kept)]
    guards = [{"item": names[g.item], "predictors": [names[k] for k in g.predictors], "intercept": g.intercept,
               "coef": [float(c) for c in g.coef], "sigma": g.sigma, "r2": g.r2} for g in elim.guards.values()]
    plan = ReductionPlan(names, kept, {n: (float(low[j]), float(high[j])) for j, n in enumerate(names)},
                         {n: v for n, v in data.fail_value.items()},
                         {n: float(elim.medians[names.index(n)]) for n in kept}, guards, settings.z)
    return plan, elim
