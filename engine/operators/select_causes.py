"""select.key_parameters@2 and @3: key parameters that name causes, not their downstream copies.

Version 1 keeps two controllables that track each other as two decisions (speed and torque). But when an expert
lists a measured value among the controllables (a thermocouple reading behind a temperature setpoint — it happens
on every real line), the copy takes a key-parameter slot of its own and may get a recommended value in place of
the driver's. Version 2 decides, for each pair of controllables whose |rank correlation| reaches `copy_threshold`,
which one carries the information, by refits: the same small model of the outcome on the top-ranked parameters,
without the one and without the other (cross-validated; time-ordered with a time column, grouped with a group).
A copy adds nothing given its driver, while the driver still adds what the copy's noise hides: when leaving the
driver out costs more than twice what leaving the candidate out costs, the candidate is judged a copy. Version 3: when the
copy's noise is too small for the outcome to tell the two apart (partial F-tests inconclusive), the other columns
correlated with the pair decide the same way: each is regressed on both, and the copy is the one that adds nothing
to its driver for nearly all of them (and the outcome must not say it adds to its driver at p < 0.01). Its
importance goes to the driver's group and it is not selected (so it gets no recommended value). `copies` in the
result lists every judgement with its evidence; a parameter in expert.force is never judged a copy (overruled).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.i18n import Msg
from engine.ml.frame import FeatureCoder, as_target
from engine.ml.lgbm import ModelBundle, fit_booster, lgb_params, splits
from engine.operators.select import (KeyParamsParams, _entry, _fold_spread, _group, _group_report, _RankCorr,
                                     importance_shares)
from engine.pipeline.registry import operator
from engine.schema.base import ui_field

ATTENUATION_MIN_CORR = 0.3     # other columns this correlated with the pair are the attenuation test's witnesses
ATTENUATION_MIN_OTHERS = 2
ATTENUATION_MAX_OTHERS = 40
ATTENUATION_SHARE = 0.8


class KeyCausesParams(KeyParamsParams):
    copy_threshold: float = ui_field(0.8, en="Copy test correlation", zh="副本检验相关系数", ge=0.5, le=1.0,
                                     help_en="controllables correlated at least this strongly are tested: which one "
                                             "carries the information (refits without each)",
                                     help_zh="相关系数达到此值的可调参数将被检验：哪一个携带信息（分别去掉后重新建模）")
    copy_pairs: int = ui_field(30, en="Pairs tested at most", zh="最多检验的参数对", ge=0, le=500)


def _example() -> tuple[dict, dict]:
    from engine.operators.select import _example as v1

    params, inputs = v1()
    inputs["frame"] = inputs["frame"].assign(temp_pv=inputs["frame"]["temp"] + np.sin(np.arange(120)) * 2.0)
    return {**params, "controllable": ["temp", "temp_pv", "speed"]}, inputs


@operator("select.key_parameters", version=2, inputs=("frame", "importance", "model"),
          outputs=("frame", "key_parameters", "groups", "copies"), example=_example)
def key_causes_v2(params: KeyCausesParams, ctx: StepContext, frame: pd.DataFrame, importance: list[dict],
                  model: ModelBundle) -> dict:
    """Key parameters grouped by cause; a controllable judged a downstream copy of another (by the outcome) gives
    way to it."""
    return _key_causes(params, ctx, frame, importance, model, by_others=False)


@operator("select.key_parameters", version=3, inputs=("frame", "importance", "model"),
          outputs=("frame", "key_parameters", "groups", "copies"), example=_example)
def key_causes(params: KeyCausesParams, ctx: StepContext, frame: pd.DataFrame, importance: list[dict],
               model: ModelBundle) -> dict:
    """Key parameters grouped by cause; a controllable judged a downstream copy of another (by the outcome, or by
    the other columns when the outcome cannot tell) gives way to it."""
    return _key_causes(params, ctx, frame, importance, model, by_others=True)


def _key_causes(params: KeyCausesParams, ctx: StepContext, frame: pd.DataFrame, importance: list[dict],
                model: ModelBundle, by_others: bool, reorder=None, partners_anywhere: bool = False,
                candidates: int = 0) -> dict:
    """v2/v3's work; `reorder(groups, keep) -> groups` may re-rank the groups (sorted by screening importance) before
    the top k are taken, `partners_anywhere` tests a top-ranked controllable against every controllable it tracks,
    not only the top-ranked ones, and `candidates` (0: 3 × top k) says how many top-ranked columns are candidates
    (select.key_parameters@4)."""
    features, share, direction, keep = importance_shares(params, frame, importance)
    rng = np.random.default_rng(ctx.seed)
    ctx.progress(0.1, Msg("which parameters are copies of others", "哪些参数是其他参数的副本"))
    copies = _judge_copies(params, frame, features, share, keep, ctx.seed, rng, by_others, partners_anywhere,
                           candidates)
    judged = {c["copy"]: c["of"] for c in copies if c["judged_copy"]}
    for copy, driver in judged.items():
        share[driver] += share.pop(copy)
    ranked_features = [c for c in features if c not in judged]
    ctx.progress(0.4, Msg("correlations", "相关性"))
    groups = _group(frame, ranked_features, share, params, keep, rng)
    for g in groups:                                       # a copy sits in its driver's group, never representing it
        for copy, driver in judged.items():
            if driver in g["members"]:
                g["members"].append(copy)
                g["corr"][copy] = next(c["corr"] for c in copies if c["copy"] == copy)
    groups.sort(key=lambda g: -g["importance"])
    if reorder is not None:
        ctx.progress(0.55, Msg("re-ranking the shortlist by conditional tests", "按条件检验对候选名单重新排序"))
        groups = reorder(groups, keep)
    chosen = groups[: params.top_k] + [g for g in groups[params.top_k:] if g["representative"] in keep]
    groups = chosen + [g for g in groups[params.top_k:] if g["representative"] not in keep]
    ctx.progress(0.7, Msg("stability across folds", "各折稳定性"))
    std, stability = _fold_spread(model, frame, groups, len(chosen), params.top_k, ctx.seed)
    ranked = [_entry(i + 1, g, std[i], stability[i], direction) for i, g in enumerate(chosen)]
    for entry, g in zip(ranked, chosen):
        if "evidence" in g:
            entry["evidence"] = g["evidence"]
    names = [g["representative"] for g in chosen]
    carry = [c for c in (params.time, params.group) if c and c in frame.columns]
    columns = [c for c in frame.columns if c in set(names) | set(keep) | set(carry) | {params.target}]
    full_share = {**share, **{c: 0.0 for c in judged}}
    report_groups = [_group_report(g, full_share) for g in chosen if len(g["members"]) > 1]
    return {"frame": frame[columns], "key_parameters": ranked, "groups": report_groups, "copies": copies}


def _pairs(params: KeyCausesParams, frame: pd.DataFrame, features: list[str], share: dict,
           rng: np.random.Generator, partners_anywhere: bool = False,
           candidates: int = 0) -> list[tuple[str, str, float]]:
    """Controllable pairs among the top-ranked parameters whose |rank correlation| reaches copy_threshold; with
    `partners_anywhere`, a top-ranked controllable's partner may rank anywhere (a reading of a weak driver takes the
    credit its driver would have had, so the driver itself may rank far down)."""
    ranked = sorted(features, key=lambda c: -share[c])
    numeric_settable = [c for c in ranked if c in set(params.controllable) and pd.api.types.is_numeric_dtype(frame[c])]
    settable = [c for c in ranked[: candidates or 3 * params.top_k] if c in set(numeric_settable)]
    partners = numeric_settable if partners_anywhere else settable
    if len(settable) < 1 or len(partners) < 2:
        return []
    corr = _RankCorr(frame, partners, params.sample_rows, rng)
    corr.prefetch(settable)
    pairs, seen = [], set()
    for a in settable:
        row = corr.row(a)
        for b in partners:
            if b == a or (b, a) in seen or (b in settable and settable.index(b) < settable.index(a)):
                continue
            seen.add((a, b))
            r = float(row[corr.index[b]])
            if abs(r) >= params.copy_threshold:
                pairs.append((a, b, r))
    pairs.sort(key=lambda p: -abs(p[2]))
    return pairs[: params.copy_pairs]


def _judge_copies(params: KeyCausesParams, frame: pd.DataFrame, features: list[str], share: dict, keep: list[str],
                  seed: int, rng: np.random.Generator, by_others: bool = True,
                  partners_anywhere: bool = False, candidates: int = 0) -> list[dict]:
    """Per pair: what the outcome left unexplained by the other top parameters (out of fold) is modelled from the
    one, the other, and both (small LightGBM, 5-fold); a candidate is a copy when it adds less than half of what
    its partner adds given it — and its partner adds something."""
    pairs = _pairs(params, frame, features, share, rng, partners_anywhere, candidates)
    if not pairs:
        return []
    y, task, _ = as_target(frame[params.target], "auto")
    # shuffled (grouped with a group) folds: the question is which column carries the information, not a forecast;
    # time-ordered folds would mostly measure how each drifts over time
    groups = frame[params.group].to_numpy() if params.group else None
    folds = splits(len(frame), 5, seed, None, groups, y, task)
    top = sorted(features, key=lambda c: -share[c])[: min(len(features), 2 * params.top_k)]
    numeric = [c for c in top if pd.api.types.is_numeric_dtype(frame[c])]
    corr = _RankCorr(frame, list(dict.fromkeys(numeric + [c for p in pairs for c in p[:2]])), params.sample_rows, rng)
    every = _RankCorr(frame, [c for c in features if pd.api.types.is_numeric_dtype(frame[c])], params.sample_rows,
                      rng) if by_others else None
    out = []
    for a, b, r in pairs:
        # the other copies of the pair (sensors tracking either) leave the base too: they would explain it away
        near = {c for c in numeric for x in (a, b) if abs(corr.row(x)[corr.index[c]]) >= 0.8 * params.copy_threshold}
        rest = _residual(frame, y, task, [c for c in top if c not in (a, b) and c not in near], folds, seed)
        f_a, p_a, f_b, p_b = _partial_tests(frame[a].to_numpy(float), frame[b].to_numpy(float), rest)
        others, a_stronger = _attenuation(frame, every, a, b) if every is not None else (0, 0.5)
        verdict = _verdict(a, b, p_a, p_b, f_a, f_b, others, a_stronger)
        if every is None:                       # version 2: the outcome alone
            verdict = {k: v for k, v in verdict.items() if k not in ("others_correlated", "driver_stronger_share")}
        copy, driver = verdict["copy"], verdict["of"]
        taken = any(o["judged_copy"] and (copy in (o["copy"], o["of"]) or driver == o["copy"]) for o in out)
        forced = copy in keep
        out.append({**verdict, "corr": round(r, 4),
                    "judged_copy": bool(verdict["clear"] and not forced and not taken),
                    "overruled_by_force": bool(verdict["clear"] and forced)})
        out[-1].pop("clear")
    return out


def _attenuation(frame: pd.DataFrame, every: "_RankCorr", a: str, b: str) -> tuple[int, float]:
    """(how many other columns take sides between the pair, the share of them that side with `a`).

    A reading that is its setting plus noise of its own tells nothing about any other column once the setting is
    known, while the setting still tells something once the reading is known. Each column correlated with the
    pair (other measurements of the same setting, settings moved with it) is regressed on both: it sides with the
    one whose coefficient is clearly non-zero (|t| >= 3) while the other's is not (|t| < 2)."""
    ra, rb = np.abs(every.row(a)), np.abs(every.row(b))
    strength = np.maximum(ra, rb)
    strength[[every.index[a], every.index[b]]] = 0.0
    names = list(every.index)
    witnesses = [names[j] for j in np.argsort(-strength)[:ATTENUATION_MAX_OTHERS] if strength[j] >= ATTENUATION_MIN_CORR]
    x = frame[[a, b]].to_numpy(float)
    sides = []
    for z in witnesses:
        t_a, t_b = _t_values(x, frame[z].to_numpy(float))
        if abs(t_a) >= 3 > abs(t_b):
            sides.append(1.0)
        elif abs(t_b) >= 3 > abs(t_a):
            sides.append(0.0)
    return len(sides), float(np.mean(sides)) if sides else 0.5


def _t_values(x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """t statistics of the two columns of `x` in the OLS regression of z on both (rows where all are present)."""
    ok = ~(np.isnan(x).any(axis=1) | np.isnan(z))
    if ok.sum() < 10:
        return 0.0, 0.0
    design = np.column_stack([np.ones(ok.sum()), (x[ok] - x[ok].mean(0)) / np.maximum(x[ok].std(0), 1e-12)])
    coef, *_ = np.linalg.lstsq(design, z[ok], rcond=None)
    resid = z[ok] - design @ coef
    sigma2 = float(resid @ resid) / max(ok.sum() - 3, 1)
    try:
        cov = sigma2 * np.linalg.inv(design.T @ design)
    except np.linalg.LinAlgError:
        return 0.0, 0.0
    se = np.sqrt(np.maximum(np.diag(cov)[1:], 1e-300))
    return float(coef[1] / se[0]), float(coef[2] / se[1])


def _verdict(a: str, b: str, p_a: float, p_b: float, f_a: float, f_b: float, others: int, a_stronger: float) -> dict:
    """Which of the pair is the copy, and whether the evidence is clear.

    First the outcome: the copy adds nothing to its driver (p > 0.05) while the driver adds to it (p < 0.01). When
    the noise is too small for the outcome to tell them apart, the other columns decide (at least 2 take sides, 80 %
    of them with the driver) — provided the outcome does not say the copy adds (p < 0.01, the driver's bar)."""
    by_outcome = "partial F-tests on what the other key parameters leave of the outcome: does each add to a cubic " \
                 "in the other (copy: p > 0.05 while its driver p < 0.01)"
    copy, driver, p_copy, p_driver = (a, b, p_a, p_b) if f_a < f_b else (b, a, p_b, p_a)
    clear, judged_by = p_driver < 0.01 and p_copy > 0.05, by_outcome
    if not clear and others >= ATTENUATION_MIN_OTHERS and max(a_stronger, 1 - a_stronger) >= ATTENUATION_SHARE:
        copy, driver, p_copy, p_driver = (b, a, p_b, p_a) if a_stronger >= 0.5 else (a, b, p_a, p_b)
        clear = p_copy > 0.01        # the outcome would say the copy adds as clearly as a driver must
        judged_by = (f"{others} other columns correlated with the pair take sides: "
                     f"{100 * max(a_stronger, 1 - a_stronger):.0f} % follow the driver once the copy is known and "
                     f"not the copy once the driver is (a setting plus noise of its own); the outcome does not say "
                     f"the copy adds to its driver (p > 0.01)")
    return {"copy": copy, "of": driver, "clear": clear, "p_copy_adds": float(f"{p_copy:.3g}"),
            "p_driver_adds": float(f"{p_driver:.3g}"), "others_correlated": others,
            "driver_stronger_share": round(max(a_stronger, 1 - a_stronger), 3), "judged_by": judged_by}


def _partial_tests(a: np.ndarray, b: np.ndarray, target: np.ndarray) -> tuple[float, float, float, float]:
    """(F, p) of a's cubic terms added to b's, and of b's added to a's (OLS on the rows where both are present)."""
    from scipy.stats import f as f_dist

    ok = ~(np.isnan(a) | np.isnan(b) | np.isnan(target))
    a, b, t = a[ok], b[ok], target[ok]
    terms = lambda v: [((v - v.mean()) / max(v.std(), 1e-12)) ** k for k in (1, 2, 3)]  # noqa: E731
    one = np.ones(len(t))
    rss = {}
    for name, cols in (("a", terms(a)), ("b", terms(b)), ("ab", terms(a) + terms(b))):
        x = np.column_stack([one] + cols)
        coef = np.linalg.lstsq(x, t, rcond=None)[0]
        rss[name] = float(np.sum((t - x @ coef) ** 2))
    dof = max(len(t) - 7, 1)
    out = []
    for alone in ("b", "a"):          # a added to b, then b added to a
        f_stat = max((rss[alone] - rss["ab"]) / 3.0, 0.0) / max(rss["ab"] / dof, 1e-300)
        out += [f_stat, float(f_dist.sf(f_stat, 3, dof))]
    return out[0], out[1], out[2], out[3]


def _residual(frame: pd.DataFrame, y: np.ndarray, task: str, cols: list[str], folds: list, seed: int) -> np.ndarray:
    """y minus its out-of-fold prediction from `cols` (a probability residual for pass/fail)."""
    if not cols:
        return y - y.mean()
    x = FeatureCoder.fit(frame, cols).transform(frame)
    params = lgb_params(task, 150, 0.1, 15, 20, seed, None, cells=len(frame) * len(cols))
    pred = np.zeros(len(y))
    for train, test in folds:
        pred[test] = fit_booster(x.iloc[train], y[train], params).predict(x.iloc[test])
    return y - pred
