"""Model search within a time budget, scored by nested cross-validation.

Outer folds (the ones `metrics` reports: time-ordered with a time column, grouped with a group column) each run
the whole search on their training rows only — every candidate family scored on the same inner folds, LightGBM's
settings picked by an Optuna TPE study — then the family that won the inner folds is refitted on the outer
training rows and scored on the outer test rows it never saw. So the reported figure is that of the *procedure*
"search, pick, refit", not the best-of-N score it picked on. A last search on every row picks the final model.

model.search@2 (version 1 does neither): the tuned family's model averages (one merged booster) its best settings and up to BLEND - 1 next best ones (engine/ml/search_tune.py)
the inner folds cannot tell apart from it (within one standard error): a pick among noisy scores matters less.
Small tables (up to SMALL_TABLE_ROWS rows) get 5 inner folds, larger ones 3.
model.search@3 (Setup.linear_leaves): for a regression the tuned study may also choose piecewise-linear leaves
(LightGBM `linear_tree`, its coefficient penalty `linear_lambda`), and the averaged settings hold both kinds of leaves
when the inner folds cannot tell the best of each kind apart (smooth physical responses are learnt by trees as a
staircase; a linear piece per leaf follows the slope). Such a model has no SHAP (importance by shuffling) and no
exact MILP (the optimiser's verified multi-start path takes it: engine/optim/smooth.py).

Leaderboard: per family, the outer-fold metric (mean ± std) of that family tuned inside each fold, its settings in
the final search, and its mean fit seconds. `lightgbm_default` is always run first and always a row; a family
replaces it in the final pick only when it beats it on the final search's folds, so the chosen model is never
worse than the default on cross-validation.

The deadline is hard for everything but the default model: it is checked between trials and between folds;
what did not run is listed as skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from engine.core import compute
from engine.ml import candidates as cand
from engine.ml import distributed, sizing, smooth
from engine.ml import search_board as board_of
from engine.ml import search_tasks as tasks
from engine.ml import search_tune
from engine.ml.lgbm import splits
from engine.ml.search_state import SEARCH_SHARE, Deadline, Pick, SearchInput, tell, warm_starts

INNER_FOLDS = 3
SMALL_TABLE_ROWS = 2000   # up to this many rows the inner folds are 5: trials are cheap there, and choosing on 60 %
SMALL_INNER_FOLDS = 5     # of the rows (3 folds) picks settings for a smaller table than the refit sees
SMALL_SEARCH_SHARE = 0.8  # model.search@3, small tables: their refits take seconds, so the searches get more
ORDER = ("lightgbm_default", "smooth", "extra_trees", "lightgbm_tuned")  # the tuned study takes what time is left


def _search_key(inp: SearchInput) -> np.ndarray | None:
    """What a search's sample is spread along: time when there is one, else the target (stratified)."""
    return inp.order if inp.order is not None else inp.y


@dataclass
class SearchResult:
    chosen: Pick
    final: object
    fold_models: list
    oof: np.ndarray
    outer_scores: list[float]
    leaderboard: list[dict]
    skipped: list[dict]
    seconds: float
    budget: float
    fold_index: list[int] = field(default_factory=list)   # outer fold of each fold model
    final_from: str = "every row"                          # the rows the final model was fitted on


def run(inp: SearchInput) -> SearchResult:
    t0 = time.perf_counter()
    deadline = Deadline(inp.budget)
    k = len(inp.outer)
    family_scores = {f: [None] * k for f in inp.families}
    fold_fits: dict[str, list] = {f: [None] * k for f in inp.families}
    oof = np.full(len(inp.y), np.nan)
    outer_scores, skipped, fold_picks = [], [], {}
    big = sizing.is_big(len(inp.y))
    for i, (train, test) in enumerate(inp.outer):
        inp.stage = (i, k + 1)
        tell(inp, 0.0, "searching", "搜索中")
        picks = _search(inp, train, _until(deadline, inp.budget, k + 1 - i, inp.share), deadline, skipped)
        best = _best(picks)
        for family, pick in picks.items():
            fold_picks.setdefault(family, []).append(pick)
        if deadline.passed() and best.family != "lightgbm_default":   # the procedure under the deadline
            skipped.append({"family": best.family, "reason": "deadline passed before its outer-fold refit: the "
                                                             "default LightGBM scored that fold"})
            best = picks["lightgbm_default"]
        if big and best.family != "lightgbm_default" and sizing.refit_seconds(best.fit_seconds, len(train),
                                                                                _inner_folds(inp)) > deadline.left():
            skipped.append({"family": best.family, "reason": "big table: its refit on the outer fold's rows would "
                                                             "overrun the time budget; the default LightGBM scored it"})
            best = picks["lightgbm_default"]
        for family, pick in sorted(picks.items(), key=lambda kv: kv[0] != best.family):
            if family != best.family and deadline.passed():   # the pick's refit is needed; the others' are not
                skipped.append({"family": family, "reason": "time budget used up before its outer-fold refit"})
                continue
            if big and family not in (best.family, "lightgbm_default"):
                skipped.append({"family": family, "reason": f"big table ({len(inp.y):,} rows): an outer fold "
                                                            "refits only the pick and the default LightGBM"})
                continue
            tell(inp, 0.5, f"refitting {family} on {len(train):,} rows", f"在 {len(train):,} 行上重新拟合 {family}")
            model = _fit(inp, family, pick.settings, train)
            pred = model.predict(inp.x.iloc[test])
            family_scores[family][i] = cand.score(inp.task, inp.y[test], pred)
            fold_fits[family][i] = model
            if family == best.family:
                oof[test] = pred
                outer_scores.append(family_scores[family][i])
    inp.stage = (k, k + 1)
    tell(inp, 0.0, "searching", "搜索中")
    everything = np.arange(len(inp.y))
    final_picks = _search(inp, everything, _until(deadline, inp.budget, 1, inp.share), deadline, skipped)
    chosen = _final_choice(inp, final_picks, fold_picks, family_scores)
    final, final_from = sizing.final_from_folds(len(inp.y), inp.order is not None, chosen.family,
                                                fold_fits[chosen.family]), "every row"
    if final is None:
        tell(inp, 0.5, f"fitting the final {chosen.family} on {len(everything):,} rows",
              f"在 {len(everything):,} 行上拟合最终的 {chosen.family}")
        final = _fit(inp, chosen.family, chosen.settings, everything)
    else:
        final_from = f"outer fold {len(inp.outer)} ({len(inp.outer[-1][0]):,} training rows)"
    folds, fold_index = [], []          # the chosen family's outer-fold models (intervals, importance)
    for i, (m, (tr, _)) in enumerate(zip(fold_fits[chosen.family], inp.outer)):
        if m is None and deadline.passed() and folds:
            continue                        # past the deadline: the fold models already fitted are enough
        folds.append(m if m is not None else _fit(inp, chosen.family, chosen.settings, tr))
        fold_index.append(i)
    shown = {f: final_picks.get(f) or max(fold_picks[f], key=lambda p: p.score) for f in inp.families
             if f in final_picks or f in fold_picks}
    board = board_of.leaderboard(inp.task, inp.families, shown, family_scores, chosen.family)
    return SearchResult(chosen, final, folds, oof, outer_scores, board, board_of.dedupe(skipped),
                        time.perf_counter() - t0, inp.budget, fold_index, final_from)


def search_share(rows: int, version: int) -> float:
    """The budget's share for the searches: SMALL_SEARCH_SHARE for small tables from model.search@3 on (their
    refits take seconds, and 40 % of the budget was left unused), else SEARCH_SHARE."""
    return SMALL_SEARCH_SHARE if version >= 3 and rows <= SMALL_TABLE_ROWS else SEARCH_SHARE


def _until(deadline: Deadline, budget: float, searches_left: int, share: float = SEARCH_SHARE) -> float:
    """This search's end: an equal share of the search time still left (a slow earlier search does not starve the
    later ones of their turn, and the last one — the final pick — always gets its share)."""
    search_end = deadline.start + share * budget
    left = max(search_end - time.monotonic(), 0.0)
    floor = 0.5 * share * budget / (searches_left + 5)   # a little time even when earlier searches overran
    return min(time.monotonic() + max(left / searches_left, floor), deadline.end)


def _final_choice(inp: SearchInput, final_picks: dict[str, Pick], fold_picks: dict[str, list[Pick]],
                  family_scores: dict[str, list]) -> Pick:
    """The family with the best outer-fold metric, paired with the default on the folds both were scored on (the
    default unless another beats it: never worse than the default on cross-validation); its settings from the
    final search on every row, or — when the deadline left that search no time for it — from its best fold."""
    default = family_scores["lightgbm_default"]
    best, best_gain = "lightgbm_default", 0.0
    for family, scores in family_scores.items():
        both = [(s, d) for s, d in zip(scores, default) if s is not None and d is not None]
        if family == "lightgbm_default" or not both or (family not in final_picks and family not in fold_picks):
            continue
        gain = float(np.mean([s - d for s, d in both]))
        if gain > best_gain + 1e-12:
            best, best_gain = family, gain
    if best in final_picks:
        return final_picks[best]
    return max(fold_picks[best], key=lambda p: p.score)


def _best(picks: dict[str, Pick]) -> Pick:
    """The default LightGBM unless another family beats it on the same folds (ties keep the default)."""
    best = picks["lightgbm_default"]
    for pick in picks.values():
        if pick.score > best.score + 1e-12:
            best = pick
    return best


def _search(inp: SearchInput, rows: np.ndarray, until: float, deadline: Deadline, skipped: list) -> dict[str, Pick]:
    """Every family on the inner folds of `rows` (at most sizing.SEARCH_ROWS of them, spread along time or the
    target); the default always, the others while time is left."""
    rows = sizing.spread(rows, sizing.SEARCH_ROWS, _search_key(inp))
    inner = _inner(inp, rows)
    tell(inp, 0.05, f"default LightGBM on {len(rows):,} rows × {len(inner)} inner folds",
          f"默认 LightGBM，{len(rows):,} 行 × {len(inner)} 个内层折")
    picks = {"lightgbm_default": _score_fixed(inp, rows, inner, "lightgbm_default", {})}
    for n, family in enumerate(sorted(inp.families, key=ORDER.index)):
        if family == "lightgbm_default":
            continue
        if family in ("smooth", "extra_trees") and sizing.is_big(len(inp.y)):
            skipped.append({"family": family, "reason": f"big table (≥ {sizing.BIG_ROWS:,} rows): only LightGBM "
                                                        "is refitted on every row (memory and time)"})
            continue
        tell(inp, 0.1 + 0.3 * n / len(inp.families), f"searching {family}", f"搜索 {family}")
        warm = family == "lightgbm_tuned" and bool(warm_starts(inp))   # an outer fold's winner: one trial at least
        if deadline.passed() or (time.monotonic() >= until and not warm):
            skipped.append({"family": family, "reason": "time budget used up"})
            continue
        if family == "smooth":
            if inp.setup.monotone and any(inp.setup.monotone):
                skipped.append({"family": family, "reason": "monotone directions were set: a polynomial cannot "
                                                            "promise them"})
                continue
            picks[family] = _score_smooth(inp, rows, inner, until)
        elif family == "extra_trees":
            picks[family] = _score_fixed(inp, rows, inner, family, {"trees": 300, "min_leaf": 1})
        elif family == "lightgbm_tuned":
            pick = search_tune.tune(inp, rows, inner, until, deadline)
            if pick is not None:
                picks[family] = pick
    return {f: p for f, p in picks.items() if p is not None}


def _inner_folds(inp: SearchInput) -> int:
    return inner_count(len(inp.y)) if inp.refined else INNER_FOLDS


def inner_count(rows: int) -> int:
    """Inner folds per search: 5 for small tables (up to SMALL_TABLE_ROWS rows), else 3."""
    return SMALL_INNER_FOLDS if rows <= SMALL_TABLE_ROWS else INNER_FOLDS


def _inner(inp: SearchInput, rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inner folds of `rows` (positions into the full table), of the same kind as the outer folds."""
    order = inp.order[rows] if inp.order is not None else None
    groups = inp.groups[rows] if inp.groups is not None else None
    wanted = _inner_folds(inp)
    n_folds = wanted if groups is None else min(wanted, len(np.unique(groups)))
    local = splits(len(rows), max(n_folds, 2), inp.setup.seed + 1, order, groups, inp.y[rows], inp.task)
    return [(rows[a], rows[b]) for a, b in local]


def _fit(inp: SearchInput, family: str, settings: dict, rows: np.ndarray):
    if family in ("lightgbm_default", "lightgbm_tuned") and len(rows) == len(inp.y) and distributed.partitioned(inp.x) \
            and not _linear_settings(settings):   # LightGBM fits linear leaves with its serial learner only
        return _fit_across_cluster(inp, family, settings)
    if family == "lightgbm_default" and sizing.is_big(len(inp.y)) and len(rows) > sizing.SEARCH_ROWS:
        return _fit_binned(inp, rows)
    return tasks.fit_rows(inp.x, inp.y, family, settings, inp.setup, rows)


def _linear_settings(settings: dict) -> bool:
    return any(p.get("linear_tree") for p in [settings.get("params") or {}, *settings.get("blend", [])])


def _fit_across_cluster(inp: SearchInput, family: str, settings: dict):
    """The final LightGBM on every row of a large table: one model over the Dask workers' partitions."""
    params = cand.default_params(inp.setup) if family == "lightgbm_default" else dict(settings["params"])
    return distributed.fit_partitioned(inp.x, inp.y, params)


def _fit_binned(inp: SearchInput, rows: np.ndarray):
    """A big table's default-LightGBM refits (outer folds, final model) share one binned copy of the table: binning
    runs once instead of per fit, and no fold copies its raw rows (sizing.py)."""
    params = cand.default_params(inp.setup)
    if inp.binned is None:
        tell(inp, 0.45, f"binning {len(inp.y):,} rows once for the refits", f"对 {len(inp.y):,} 行做一次分箱，供各次重新拟合使用")
        inp.binned = cand.binned_dataset(inp.x, inp.y, params)
    return cand.fit_binned(inp.binned, rows, params, inp.setup)


def _score_fixed(inp: SearchInput, rows, inner, family: str, settings: dict) -> Pick:
    """A family with fixed settings on every inner fold: the folds are tasks (side by side on a Dask cluster)."""
    setup = inp.setup if compute.active() is None else replace(inp.setup, check=tasks.no_check)
    task = partial(tasks.fixed_fold, family=family, settings=settings, setup=setup)
    done = compute.map_tasks(task, inner, shared={"x": inp.x, "y": inp.y}, check=inp.setup.check, keep_shared=True)
    scores, seconds = [d[0] for d in done], [d[1] for d in done]
    shown = cand.default_params(inp.setup) if family == "lightgbm_default" else settings
    return Pick(family, board_of.visible(shown), float(np.nanmean(scores)), float(np.nanstd(scores)),
                float(np.mean(seconds)))


def _score_smooth(inp: SearchInput, rows, inner, until: float) -> Pick | None:
    """Degree and penalty by inner CV (every grid point on the same folds; stops at the deadline). Regression
    solves every penalty of a degree from one SVD (engine.ml.smooth.ridge_path)."""
    grid = cand.smooth_grid(inp.x, len(rows) * (len(inner) - 1) // len(inner), inp.task)
    degrees = sorted({d for d, _ in grid})
    alphas = tuple(a for d, a in grid if d == degrees[0])
    results: dict[tuple, list[float]] = {}
    seconds = []
    for degree in degrees:                      # a degree runs on every inner fold or not at all
        if time.monotonic() >= until and results:
            break
        for train, test in inner:
            t = time.perf_counter()
            if inp.task == "regression":
                preds = smooth.ridge_path(inp.x.iloc[train], inp.y[train], inp.x.iloc[test], degree, alphas)
            else:
                preds = [cand.fit_smooth_model(inp.x.iloc[train], inp.y[train], {"degree": degree, "penalty": a},
                                               inp.setup).predict(inp.x.iloc[test]) for a in alphas]
            seconds.append((time.perf_counter() - t) / len(alphas))
            for alpha, pred in zip(alphas, preds):
                results.setdefault((degree, alpha), []).append(cand.score(inp.task, inp.y[test], pred))
    complete = {k: v for k, v in results.items() if len(v) == len(inner)} or results
    (degree, alpha), scores = max(complete.items(), key=lambda kv: np.nanmean(kv[1]))
    return Pick("smooth", {"degree": degree, "penalty": alpha}, float(np.nanmean(scores)), float(np.nanstd(scores)),
                float(np.mean(seconds)), len(complete))
