"""The tuned LightGBM family of a model search: an Optuna TPE study over LightGBM's settings on the search's inner
folds (early stopping per fold, median pruning, a hard deadline), and the model it hands back — the best settings
averaged with up to BLEND - 1 next best ones the inner folds cannot tell apart from it (model.search@2), holding both
kinds of leaves when they tie (model.search@3)."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial

import numpy as np

from engine.core import compute
from engine.ml import candidates as cand
from engine.ml import search_board as board_of
from engine.ml import search_state as state
from engine.ml import search_tasks as tasks

BLEND = 3                 # the tuned family's model averages its best few settings (a noisy pick matters less)


def tune(inp: state.SearchInput, rows, inner, until: float, deadline: state.Deadline) -> state.Pick | None:
    """Optuna TPE over LightGBM's settings; early stopping per inner fold; pruning after each fold."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=inp.setup.seed, n_startup_trials=5)
    study = optuna.create_study(direction="maximize", sampler=sampler,
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0))
    for guess in state.warm_starts(inp) + cand.first_guesses(inp.setup):   # the outer folds' winners first (final pick)
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
        state.tell(inp, 0.35, f"tuning trial {trial.number + 1} done", f"调参试验 {trial.number + 1} 完成")
        # refits see (folds) / (folds - 1) times the rows: a few more trees than early stopping found
        trees = int(np.ceil(np.mean(iterations) * len(inner) / max(len(inner) - 1, 1)))
        info[trial.number] = {"params": {**params, "n_estimators": trees}, "std": float(np.nanstd(scores)),
                              "seconds": float(np.mean(seconds))}
        return float(np.nanmean(scores))

    extra = 1 if state.warm_starts(inp) else 0  # past its share, one trial of an outer fold's winner still runs
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
    return state.Pick("lightgbm_tuned", settings, float(best.value), chosen["std"], chosen["seconds"], len(study.trials))


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


def _trial_on_cluster(inp: state.SearchInput, inner, params: dict, deadline: state.Deadline, trial, info: dict) -> float:
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
