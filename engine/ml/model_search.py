"""Model search within a time budget, scored by nested cross-validation.

Outer folds (the ones `metrics` reports: time-ordered with a time column, grouped with a group column) each run
the whole search on their training rows only — every candidate family scored on the same inner folds, LightGBM's
settings picked by an Optuna TPE study — then the family that won the inner folds is refitted on the outer
training rows and scored on the outer test rows it never saw. So the reported figure is that of the *procedure*
"search, pick, refit", not the best-of-N score it picked on. A last search on every row picks the final model.

model.search@2 (version 1 does neither): the tuned family's model averages (one merged booster) its best settings and up to BLEND - 1 next best ones
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
from typing import Callable

import numpy as np
import pandas as pd

from engine.core import compute
from engine.core.i18n import Msg
from engine.ml import candidates as cand
from engine.ml import distributed, sizing, smooth
from engine.ml import search_board as board_of
from engine.ml import search_tasks as tasks
from engine.ml.lgbm import splits

INNER_FOLDS = 3
SMALL_TABLE_ROWS = 2000   # up to this many rows the inner folds are 5: trials are cheap there, and choosing on 60 %
SMALL_INNER_FOLDS = 5     # of the rows (3 folds) picks settings for a smaller table than the refit sees
BLEND = 3                 # the tuned family's model averages its best few settings (a noisy pick matters less)
SEARCH_SHARE = 0.6  # of the budget for the searches; the rest for refitting the picks on the outer folds
SMALL_SEARCH_SHARE = 0.8  # model.search@3, small tables: their refits take seconds, so the searches get more
ORDER = ("lightgbm_default", "smooth", "extra_trees", "lightgbm_tuned")  # the tuned study takes what time is left


@dataclass
class SearchInput:
    x: pd.DataFrame
    y: np.ndarray
    task: str
    outer: list[tuple[np.ndarray, np.ndarray]]
    order: np.ndarray | None
    groups: np.ndarray | None
    families: list[str]
    budget: float
    setup: cand.Setup
    progress: Callable[[float, str], None] = field(default=lambda f, m: None)
    winners: list[dict] = field(default_factory=list)   # tuned settings that won the outer folds (warm start of the
    #   final pick only: an outer fold's search must not start from settings chosen on rows that include its test rows)
    stage: tuple[int, int] = (0, 1)                      # (outer fold being searched, outer folds + 1): progress
    binned: object = None                                # big tables: the table binned once (lgb.Dataset)
    refined: bool = True    # model.search@2: 5 inner folds for small tables, the tuned family a blend (@1: neither)
    share: float = SEARCH_SHARE   # of the budget for the searches (search_share)


def _tell(inp: SearchInput, part: float, en: str, zh: str) -> None:
    """Progress inside the current outer fold (`part` 0..1 of it), with the fold named: the CLI line and the Run
    page move during a long fold instead of freezing on its first message."""
    i, stages = inp.stage
    head_en = f"outer fold {i + 1}/{stages - 1}" if i < stages - 1 else "final pick"
    head_zh = f"外层第 {i + 1}/{stages - 1} 折" if i < stages - 1 else "最终选择"
    inp.progress((i + min(max(part, 0.0), 0.99)) / stages, Msg(f"model search, {head_en}: {en}",
                                                                f"模型搜索，{head_zh}：{zh}"))


def _search_key(inp: SearchInput) -> np.ndarray | None:
    """What a search's sample is spread along: time when there is one, else the target (stratified)."""
    return inp.order if inp.order is not None else inp.y


@dataclass
class Pick:
    """One family's best settings in one search: inner-CV score and what to refit."""

    family: str
    settings: dict
    score: float
    std: float
    fit_seconds: float
    trials: int = 1


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


class Deadline:
    def __init__(self, seconds: float):
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0


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
        _tell(inp, 0.0, "searching", "搜索中")
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
            _tell(inp, 0.5, f"refitting {family} on {len(train):,} rows", f"在 {len(train):,} 行上重新拟合 {family}")
            model = _fit(inp, family, pick.settings, train)
            pred = model.predict(inp.x.iloc[test])
            family_scores[family][i] = cand.score(inp.task, inp.y[test], pred)
            fold_fits[family][i] = model
            if family == best.family:
                oof[test] = pred
                outer_scores.append(family_scores[family][i])
    inp.stage = (k, k + 1)
    _tell(inp, 0.0, "searching", "搜索中")
    everything = np.arange(len(inp.y))
    final_picks = _search(inp, everything, _until(deadline, inp.budget, 1, inp.share), deadline, skipped)
    chosen = _final_choice(inp, final_picks, fold_picks, family_scores)
    final, final_from = sizing.final_from_folds(len(inp.y), inp.order is not None, chosen.family,
                                                fold_fits[chosen.family]), "every row"
    if final is None:
        _tell(inp, 0.5, f"fitting the final {chosen.family} on {len(everything):,} rows",
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
    _tell(inp, 0.05, f"default LightGBM on {len(rows):,} rows × {len(inner)} inner folds",
          f"默认 LightGBM，{len(rows):,} 行 × {len(inner)} 个内层折")
    picks = {"lightgbm_default": _score_fixed(inp, rows, inner, "lightgbm_default", {})}
    for n, family in enumerate(sorted(inp.families, key=ORDER.index)):
        if family == "lightgbm_default":
            continue
        if family in ("smooth", "extra_trees") and sizing.is_big(len(inp.y)):
            skipped.append({"family": family, "reason": f"big table (≥ {sizing.BIG_ROWS:,} rows): only LightGBM "
                                                        "is refitted on every row (memory and time)"})
            continue
        _tell(inp, 0.1 + 0.3 * n / len(inp.families), f"searching {family}", f"搜索 {family}")
        warm = family == "lightgbm_tuned" and bool(_warm_starts(inp))   # an outer fold's winner: one trial at least
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
            pick = _tune(inp, rows, inner, until, deadline)
            if pick is not None:
                picks[family] = pick
    return {f: p for f, p in picks.items() if p is not None}


def _warm_starts(inp: SearchInput) -> list[dict]:
    """Settings to try first: the outer folds' winners, in the final pick only. Every other outer fold's training rows
    include this fold's test rows, so starting an outer fold from them would leak into the nested figure."""
    i, stages = inp.stage
    return inp.winners if i == stages - 1 else []


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
        _tell(inp, 0.45, f"binning {len(inp.y):,} rows once for the refits", f"对 {len(inp.y):,} 行做一次分箱，供各次重新拟合使用")
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


def _tune(inp: SearchInput, rows, inner, until: float, deadline: Deadline) -> Pick | None:
    """Optuna TPE over LightGBM's settings; early stopping per inner fold; pruning after each fold."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=inp.setup.seed, n_startup_trials=5)
    study = optuna.create_study(direction="maximize", sampler=sampler,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0))
    for guess in _warm_starts(inp) + cand.first_guesses(inp.setup):   # the outer folds' winners first (final pick)
        study.enqueue_trial({k: v for k, v in guess.items() if inp.task == "classification" or k != "is_unbalance"},
                            skip_if_exists=True)
    info: dict[int, dict] = {}

    def objective(trial) -> float:
        params = cand.tuned_params(trial, inp.setup)
        if compute.active() is not None:   # the trial's inner folds side by side on the cluster
            return _trial_on_cluster(inp, inner, params, deadline, trial, info)
        scores, iterations, seconds = [], [], []
        for step, (train, test) in enumerate(inner):
            if time.monotonic() >= deadline.end:
                raise optuna.TrialPruned()
            t = time.perf_counter()
            try:
                booster = cand.fit_lgbm(inp.x.iloc[train], inp.y[train], params, inp.setup,
                                        valid=(inp.x.iloc[test], inp.y[test]), stop_at=deadline.end)
            except cand.OutOfTime:
                raise optuna.TrialPruned() from None
            seconds.append(time.perf_counter() - t)
            iterations.append(max(booster.best_iteration, 1))
            pred = booster.predict(inp.x.iloc[test], num_iteration=booster.best_iteration or None)
            scores.append(cand.score(inp.task, inp.y[test], pred))
            trial.report(float(np.nanmean(scores)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        _tell(inp, 0.35, f"tuning trial {trial.number + 1} done", f"调参试验 {trial.number + 1} 完成")
        # refits see (folds) / (folds - 1) times the rows: a few more trees than early stopping found
        trees = int(np.ceil(np.mean(iterations) * len(inner) / max(len(inner) - 1, 1)))
        info[trial.number] = {"params": {**params, "n_estimators": trees}, "std": float(np.nanstd(scores)),
                              "seconds": float(np.mean(seconds))}
        return float(np.nanmean(scores))

    extra = 1 if _warm_starts(inp) else 0  # past its share, one trial of an outer fold's winner still runs
    while not deadline.passed():
        if time.monotonic() >= until:
            if info or extra == 0:
                break
            extra -= 1
        study.optimize(objective, n_trials=1, catch=())
    done = sorted((t for t in study.trials if t.number in info and t.value is not None), key=lambda t: -t.value)
    if not done:
        return None
    best = done[0]
    chosen = info[best.number]
    if best.params not in inp.winners:
        inp.winners.insert(0, dict(best.params))
    # the next best settings join when the inner folds cannot tell them from the best (within one standard error)
    close = best.value - chosen["std"] / np.sqrt(max(len(inner), 1))
    members = [t for t in done[1:BLEND if inp.refined else 1] if t.value >= close]
    if cand.linear_allowed(inp.setup):
        members = _both_leaf_kinds(done, members, close)
    blend = [info[t.number]["params"] for t in members]
    settings = {"params": chosen["params"], **board_of.visible(chosen["params"])}
    if inp.refined:
        settings.update(blend=blend, averaged=1 + len(blend))
    if cand.linear_allowed(inp.setup):
        settings["linear_leaves"] = sum(bool(p.get("linear_tree")) for p in [chosen["params"], *blend])
    return Pick("lightgbm_tuned", settings, float(best.value), chosen["std"], chosen["seconds"], len(study.trials))


def _both_leaf_kinds(done: list, members: list, close: float) -> list:
    """model.search@3: when the best settings and the next ones averaged with them all have the same kind of leaves
    (constant or linear), the best trial of the other kind replaces the last of them (or joins) if the inner folds
    cannot tell it from the best either — two kinds of error average out better than two of one kind."""
    kinds = {bool(t.params.get("linear_tree")) for t in [done[0], *members]}
    if len(kinds) > 1:
        return members
    other = next((t for t in done[1:] if bool(t.params.get("linear_tree")) not in kinds and t.value >= close), None)
    if other is None:
        return members
    return (members[:BLEND - 2] if len(members) >= BLEND - 1 else members) + [other]


def _trial_on_cluster(inp: SearchInput, inner, params: dict, deadline: Deadline, trial, info: dict) -> float:
    """One Optuna trial with its inner folds as cluster tasks (pruning then judges the trial as a whole: its folds
    already ran); a fold out of time prunes the trial, as here."""
    import optuna

    if deadline.left() <= 0:
        raise optuna.TrialPruned()
    setup = replace(inp.setup, check=tasks.no_check)
    task = partial(tasks.tuned_fold, params=params, setup=setup, seconds=deadline.left())
    done = compute.map_tasks(task, inner, shared={"x": inp.x, "y": inp.y}, check=inp.setup.check, keep_shared=True)
    if any(d is None for d in done):
        raise optuna.TrialPruned()
    scores = [d[0] for d in done]
    for step in range(len(scores)):
        trial.report(float(np.nanmean(scores[: step + 1])), step)
    trees = int(np.ceil(np.mean([d[1] for d in done]) * len(inner) / max(len(inner) - 1, 1)))
    info[trial.number] = {"params": {**params, "n_estimators": trees}, "std": float(np.nanstd(scores)),
                          "seconds": float(np.mean([d[2] for d in done]))}
    return float(np.nanmean(scores))
