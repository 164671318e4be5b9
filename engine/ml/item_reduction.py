"""Greedy backward elimination of test items, with held-out products riding along.

The state of a reduced test on some rows: the items kept, and per product the number of flags it raises — kept
items failing their limits, plus the guard models of dropped items ("the prediction of item j from the kept items
lies within z·σ of j's limit: send the product to the full test"). A bad product the full test catches is *missed*
when it raises no flag.

Each step drops the item whose removal loses the fewest bad products of the training rows (its own guard model
counted when the false alarms stay in budget; a product flagged only by an unrelated item counts as lost); an item
no guard would cover counts at least as often as a normal fit puts it beyond its limits (the Cpk view: an item that
never failed here may still run close to a limit). Ties go to the item with fewer bad products resting on it and
one other flag (fragile), a lower expected failure count, fewer new false alarms, a higher cost, and a closer copy
among the kept items (a copy goes while its siblings can still predict it). Guard models whose predictors get
dropped are refitted on the items left, so the final rule needs only kept items. Held-out rows are scored after
every step: one run per fold gives the held-out curve "items dropped → misses".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Rows:
    values: np.ndarray              # products × items (NaN: not measured)
    fails: np.ndarray               # products × items, bool
    bad: np.ndarray                 # bool per product

    def __post_init__(self):
        self.caught = self.bad & self.fails.any(axis=1)      # bad products the full test catches
        self.good = ~self.bad


@dataclass(frozen=True)
class Settings:
    use_model: bool = True          # guard models of dropped items (else: kept items' limits only)
    z: float = 3.0                  # guard band in residual standard deviations
    max_predictors: int = 3
    min_corr: float = 0.5           # a guard uses kept items at least this correlated with the dropped one
    max_false_alarm: float = 0.05   # share of good products the guards may send to the full test
    stop_miss: float = 0.2          # stop once this share of the caught bad products would be missed (training)


@dataclass
class Guard:
    item: int
    predictors: tuple[int, ...]
    intercept: float
    coef: np.ndarray
    sigma: float
    r2: float
    flags_train: np.ndarray = field(repr=False)
    flags_test: np.ndarray | None = field(default=None, repr=False)


def guard_flags(pred: np.ndarray, sigma: float, z: float, low: float, high: float) -> np.ndarray:
    """Products whose predicted value lies within z·σ of a limit (or beyond it)."""
    return (pred + z * sigma > high) | (pred - z * sigma < low)


class Elimination:
    """One greedy elimination on training rows (optionally scoring held-out rows after every step)."""

    def __init__(self, train: Rows, low: np.ndarray, high: np.ndarray, passfail: np.ndarray, mandatory: np.ndarray,
                 cost: np.ndarray, settings: Settings, test: Rows | None = None):
        self.train, self.test, self.low, self.high = train, test, low, high
        self.passfail, self.mandatory, self.cost, self.s = passfail, mandatory, cost, settings
        p = train.values.shape[1]
        self.medians = _medians(train.values)
        self.filled = np.where(np.isnan(train.values), self.medians, train.values)
        self.filled_test = None if test is None else np.where(np.isnan(test.values), self.medians, test.values)
        self.corr = _abs_corr(self.filled)
        self.tail = _tail_rate(train.values, low, high, passfail)
        self.neighbours = _neighbours(self.corr, passfail, settings.min_corr)
        self.related = self.corr >= settings.min_corr
        self.fails_caught = train.fails[train.caught]
        self.guard_matrix = np.zeros(self.fails_caught.shape, bool)  # guard flags on caught rows, per guarded item
        self.kept = np.ones(p, bool)
        self.guards: dict[int, Guard] = {}
        self._cache: dict[tuple, Guard | None] = {}
        self.cover = train.fails.sum(axis=1)                  # flags per training product
        self.false_alarms = int((train.good & (self.cover > 0)).sum())
        if test is not None:
            self.kept_cover_test = test.fails.sum(axis=1)
            self.guard_cover_test = np.zeros(len(test.bad), int)
        self.dropped: list[dict] = []
        self.curve: list[dict] = []
        self.curve.append(self._record(None, 0, False))

    # -- one step ---------------------------------------------------------------------------------------------
    def step(self, max_loss: float | None = None) -> bool:
        """Drop one item; False when none is left to drop or the next would take the lost products (cumulative,
        as the greedy counts them) past `max_loss`."""
        cand = np.flatnonzero(self.kept & ~self.mandatory)
        if not len(cand):
            return False
        tr = self.train
        critical = tr.caught & (self.cover == 1)
        loss = tr.fails[critical][:, cand].sum(axis=0).astype(float)
        fragile = tr.fails[tr.caught & (self.cover == 2)][:, cand].sum(axis=0)
        new_fa, guards = np.zeros(len(cand)), [None] * len(cand)
        if self.s.use_model:
            budget = self.s.max_false_alarm * tr.good.sum() - self.false_alarms
            crit_rows, quiet_good = np.flatnonzero(critical), np.flatnonzero(tr.good & (self.cover == 0))
            # every measured item gets its guard, even one that never failed here: new products may fail it
            for i in np.flatnonzero(~self.passfail[cand]):
                guard = self._guard_for(cand[i])
                if guard is None:
                    continue
                rescued = int((tr.fails[crit_rows, cand[i]] & guard.flags_train[crit_rows]).sum())
                fa = int(guard.flags_train[quiet_good].sum())
                if fa <= budget:
                    loss[i] -= rescued
                    new_fa[i], guards[i] = fa, guard
        resting = {k for g in self.guards.values() for k in g.predictors}
        orphaned = np.zeros(len(cand))      # expected failures of dropped items whose guard would go with j
        for i, j in enumerate(cand):        # guards resting on j are refitted without it: count what they lose
            if j in resting:
                loss[i], new_fa[i], orphaned[i] = self._loss_with_refits(int(j), guards[i])
        loss = np.maximum(loss, self._unrelated_cover_loss(cand, guards))
        # an item no guard would cover is expected to fail as often as a normal fit puts it beyond its limits (the
        # Cpk view): one that never failed here but runs close to a limit still counts as a loss
        expected = np.where([g is None for g in guards], self.tail[cand], 0.0) * len(tr.bad) + orphaned
        loss = np.maximum(loss, expected)
        closest = self.corr[np.ix_(cand, np.flatnonzero(self.kept))].max(axis=1)   # diagonal is 0
        pick = np.lexsort((cand, -closest, -self.cost[cand], new_fa, expected, fragile, loss))[0]
        if max_loss is not None and self.curve[-1]["lost"] + loss[pick] > max_loss:
            return False
        self._drop(int(cand[pick]), guards[pick], float(loss[pick]))
        return True

    def _unrelated_cover_loss(self, cand: np.ndarray, guards: list) -> np.ndarray:
        """Per candidate: caught bad products failing it that no related item (a kept item correlated with it, or
        a guard of such an item, or its own guard) flags. A product that also failed some unrelated item is caught
        today by coincidence; new products failing this item will mostly not be."""
        out = np.zeros(len(cand))
        r, k = np.nonzero(self.fails_caught[:, cand])      # (caught product, candidate) pairs where it failed
        if not len(r):
            return out
        flags = (self.fails_caught & self.kept) | self.guard_matrix
        lost = ~(flags[r] & self.related[cand[k]]).any(axis=1)   # sparse: no BLAS, which a busy machine slows
        for i in np.unique(k[lost]):
            if guards[i] is not None:
                lost[k == i] &= ~guards[i].flags_train[self.train.caught][r[k == i]]
        np.add.at(out, k[lost], 1)
        return out

    def _loss_with_refits(self, j: int, guard: Guard | None) -> tuple[float, float, float]:
        """(bad products lost, good products newly flagged, expected failures of dependants left without a guard)
        if j goes, its dependants' guards refitted."""
        tr = self.train
        cover = self.cover - tr.fails[:, j] + (guard.flags_train if guard is not None else 0)
        orphaned = 0.0
        self.kept[j] = False
        try:
            for d, g in self.guards.items():
                if j in g.predictors:
                    refit = self._guard_for(d)
                    cover = cover - g.flags_train + (refit.flags_train if refit is not None else 0)
                    orphaned += self.tail[d] * len(tr.bad) if refit is None else 0.0
        finally:
            self.kept[j] = True
        lost = int((tr.caught & (cover == 0)).sum()) - int((tr.caught & (self.cover == 0)).sum())
        alarms = int((tr.good & (cover > 0)).sum()) - self.false_alarms
        return float(lost), float(max(alarms, 0)), orphaned

    def run(self, max_drops: int | None = None, max_loss: float | None = None, progress=None) -> "Elimination":
        caught = max(int(self.train.caught.sum()), 1)
        while max_drops is None or len(self.dropped) < max_drops:
            if not self.step(max_loss):
                break
            if progress:
                progress(len(self.dropped))
            if max_drops is None and self.curve[-1]["misses_train"] > self.s.stop_miss * caught:
                break
        return self

    def _drop(self, j: int, guard: Guard | None, loss: float) -> None:
        tr = self.train
        self.kept[j] = False
        self.cover = self.cover - tr.fails[:, j]
        if self.test is not None:
            self.kept_cover_test = self.kept_cover_test - self.test.fails[:, j]
        if guard is not None:
            self._add_guard(guard)
        for d in [d for d, g in self.guards.items() if j in g.predictors]:
            self._remove_guard(d)
            refit = self._guard_for(d)
            if refit is not None:
                self._add_guard(refit)
        self.dropped.append({"item": j, "loss": loss, "guard": guard is not None})
        self.curve.append(self._record(j, loss, guard is not None))

    def _add_guard(self, g: Guard) -> None:
        self.guards[g.item] = g
        self.guard_matrix[:, g.item] = g.flags_train[self.train.caught]
        self.cover = self.cover + g.flags_train
        if self.test is not None:
            self.guard_cover_test = self.guard_cover_test + g.flags_test
        self.false_alarms = int((self.train.good & (self.cover > 0)).sum())

    def _remove_guard(self, item: int) -> None:
        g = self.guards.pop(item)
        self.guard_matrix[:, item] = False
        self.cover = self.cover - g.flags_train
        if self.test is not None:
            self.guard_cover_test = self.guard_cover_test - g.flags_test

    # -- guard models -----------------------------------------------------------------------------------------
    def _guard_for(self, j: int) -> Guard | None:
        """Least squares of item j on its most correlated kept measured items (cached per predictor set)."""
        if self.passfail[j]:
            return None
        usable = [k for k in self.neighbours[j] if self.kept[k]][: self.s.max_predictors]
        top = tuple(sorted(usable))
        key = (j, top)
        if key not in self._cache:
            self._cache[key] = self._fit(j, top) if top else None
        return self._cache[key]

    def _fit(self, j: int, top: tuple[int, ...]) -> Guard | None:
        y = self.train.values[:, j]
        ok = ~np.isnan(y)
        if ok.sum() <= len(top) + 5:
            return None
        x = self.filled[:, list(top)]
        design = np.column_stack([np.ones(ok.sum()), x[ok]])
        beta, *_ = np.linalg.lstsq(design, y[ok], rcond=None)
        resid = y[ok] - design @ beta
        sigma = float(np.sqrt(resid @ resid / max(ok.sum() - len(beta), 1)))
        r2 = 1 - float(resid @ resid) / max(float(((y[ok] - y[ok].mean()) ** 2).sum()), 1e-300)
        flags = guard_flags(beta[0] + x @ beta[1:], sigma, self.s.z, self.low[j], self.high[j])
        flags_test = None
        if self.test is not None:
            pred = beta[0] + self.filled_test[:, list(top)] @ beta[1:]
            flags_test = guard_flags(pred, sigma, self.s.z, self.low[j], self.high[j])
        return Guard(j, top, float(beta[0]), beta[1:], sigma, r2, flags, flags_test)

    # -- bookkeeping ------------------------------------------------------------------------------------------
    def _record(self, j: int | None, loss: float, guarded: bool) -> dict:
        tr = self.train
        lost = (self.curve[-1]["lost"] if self.curve else 0) + loss
        rec = {"dropped": j, "kept": int(self.kept.sum()), "loss": round(loss, 4), "lost": lost, "guard": guarded,
               "misses_train": int((tr.caught & (self.cover == 0)).sum()), "false_alarms_train": self.false_alarms}
        te = self.test
        if te is not None:
            cover = self.kept_cover_test + self.guard_cover_test
            rec.update(misses=int((te.caught & (cover == 0)).sum()),
                       misses_kept_only=int((te.caught & (self.kept_cover_test == 0)).sum()),
                       false_alarms=int((te.good & (cover > 0)).sum()),
                       false_alarms_kept_only=int((te.good & (self.kept_cover_test > 0)).sum()))
        return rec


def _tail_rate(values: np.ndarray, low: np.ndarray, high: np.ndarray, passfail: np.ndarray) -> np.ndarray:
    """Per item, the share of products a normal fit puts beyond its limits (the Cpk view): an item that never
    failed here but runs close to a limit may well fail on new products; one far from its limits hardly."""
    import warnings

    from scipy.stats import norm

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # an item never measured: no fit, no tail
        mean, sd = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
        sd = np.where(sd > 0, sd, np.inf)
        tail = norm.sf((high - mean) / sd) + norm.sf((mean - low) / sd)
    return np.nan_to_num(np.where(passfail, mean, tail))   # PASS/FAIL items (1 = fail): their observed fail share


def _medians(values: np.ndarray) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(values, axis=0)
    return np.where(np.isnan(med), 0.0, med)


def _neighbours(corr: np.ndarray, passfail: np.ndarray, min_corr: float) -> list[list[int]]:
    """Per item, the measured items correlated at least `min_corr` with it, closest first."""
    out = []
    for j in range(corr.shape[0]):
        c = np.where(passfail, 0.0, corr[j])
        close = np.flatnonzero(c >= min_corr)
        out.append([int(k) for k in close[np.argsort(-c[close], kind="stable")]])
    return out


def _abs_corr(x: np.ndarray) -> np.ndarray:
    """|Pearson| between items (constant items correlate with nothing)."""
    centred = x - x.mean(axis=0)
    scale = np.sqrt((centred ** 2).sum(axis=0))
    z = centred / np.where(scale > 0, scale, np.inf)
    corr = np.abs(z.T @ z)
    np.fill_diagonal(corr, 0.0)
    return corr
