"""select.key_parameters@4: version 3, with the boundary of the key-parameter list decided by conditional tests.

The screening model of every parameter ranks the strong causes well, but near the cut (ranks ~15–40 of 400) a weak
driver and a sensor that merely correlates with some driver (a proxy through a shared re-tuning factor) get
similar tree-SHAP shares: SHAP credits a correlated column with part of its partner's effect. What tells them apart
is whether a column adds anything once the other candidates are known. Version 4 therefore
1. forms and ranks the groups as version 3 does (copies judged, near-duplicate sensors grouped, summed SHAP share);
   the copy test also pairs a top-ranked controllable with a controllable it tracks that ranks far down (a reading
   of a weak driver takes the credit its driver would have had);
2. takes a shortlist (`shortlist` groups, by default three times the key parameters and at least 40) and fits one
   additive model of the outcome on the shortlisted representatives — a cubic in each numeric one, dummies for a
   category's common levels, a missing-value flag where values are missing — on the outcome's natural scale (the
   log-odds of a rate between 0 and 1, the outcome itself otherwise);
3. keeps the strongest groups by the screening (`protect` × top k: they carry interactions and shapes an additive
   model may miss) and, in the rest of the shortlist, moves every group whose terms add to all the others' (partial
   F-test, p < `alpha`) ahead of every group whose terms do not, keeping the screening order within each: a proxy
   that adds nothing falls behind a weak driver that does, while a driver whose effect moves with the context (an
   interaction the additive model misses, so a weaker test) keeps its screening place as long as it adds
   significantly. Groups beyond the shortlist keep their screening order.
Each shortlisted key parameter carries its `evidence` (partial F, log10 p, how it was ranked). The test is on the
rows' own fit with the degrees of freedom accounted (no tuning on them); expert.force still keeps a parameter.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from engine.ml.frame import as_target
from engine.ml.lgbm import ModelBundle
from engine.operators.select_causes import KeyCausesParams, _example, _key_causes
from engine.pipeline.context import StepContext
from engine.pipeline.registry import operator
from engine.schema.base import ui_field

MAX_LEVELS = 10            # a category's most common levels get a dummy each (the rest share the baseline)
MAX_ROWS = 20_000          # the additive model's rows (a deterministic sample beyond)
MISSING_FLAG = 0.05        # a missing-value flag joins a column's terms from this share of missing values


class KeyRerankParams(KeyCausesParams):
    shortlist: int = ui_field(0, en="Shortlist re-ranked", zh="重新排序的候选数", ge=0, le=1000,
                              help_en="groups re-ranked by conditional tests (0: three times the key parameters, "
                                      "at least 40)",
                              help_zh="按条件检验重新排序的参数组数（0：关键参数个数的三倍，至少 40）")
    protect: float = ui_field(0.5, en="Share kept by the screening", zh="按筛选保留的比例", ge=0.0, le=1.0,
                              help_en="this share of the key parameters is taken in the screening model's order; "
                                      "the rest of the list is decided by conditional tests",
                              help_zh="关键参数中此比例按筛选模型的排序保留；其余由条件检验决定")
    alpha: float = ui_field(0.001, en="Test level", zh="检验水平", gt=0.0, le=0.5,
                            help_en="a shortlisted group whose terms add nothing to the others at this level (partial "
                                    "F-test) gives way to every group that does",
                            help_zh="候选组在此水平下（偏 F 检验）对其他候选没有增益时，让位于所有有增益的组")
    link: Literal["auto", "identity"] = ui_field(
        "auto", en="Scale of the tests", zh="检验尺度",
        help_en="auto: log-odds for a rate between 0 and 1, the outcome itself otherwise; identity: always the "
                "outcome itself",
        help_zh="auto：0 到 1 之间的比率用对数几率，其他用结果本身；identity：始终用结果本身")


@operator("select.key_parameters", version=4, inputs=("frame", "importance", "model"),
          outputs=("frame", "key_parameters", "groups", "copies"), example=_example)
def key_causes_v4(params: KeyRerankParams, ctx: StepContext, frame: pd.DataFrame, importance: list[dict],
                  model: ModelBundle) -> dict:
    """Key parameters grouped by cause, copies judged (version 3); the boundary of the list decided by partial
    F-tests of each shortlisted parameter given the others."""
    def reorder(groups: list[dict], keep: list[str]) -> list[dict]:
        return rerank(params, frame, groups, ctx.seed)
    return _key_causes(params, ctx, frame, importance, model, by_others=True, reorder=reorder,
                       partners_anywhere=True, candidates=3 * shortlist_size(params))


def shortlist_size(params: KeyRerankParams) -> int:
    return params.shortlist or max(3 * params.top_k, 40)


def rerank(params: KeyRerankParams, frame: pd.DataFrame, groups: list[dict], seed: int) -> list[dict]:
    """The groups (in screening order); in the shortlist's unprotected part, those adding significantly to the
    others (partial F-test) go first."""
    size = shortlist_size(params)
    protected = min(int(math.ceil(params.protect * params.top_k)), len(groups))
    short = groups[protected:size]
    if len(short) < 2:
        return groups
    for g in groups[:protected]:
        g["evidence"] = {"ranked_by": "screening importance"}
    names = [g["representative"] for g in groups[:size]]
    tests = partial_tests(frame, names, _scaled_target(frame[params.target], params.link), seed)
    for g in short:
        f_stat, log10_p = tests.get(g["representative"], (0.0, 0.0))
        g["evidence"] = {"ranked_by": "partial F-test given the shortlist", "partial_f": round(f_stat, 3),
                         "log10_p": round(log10_p, 3)}
    cut = math.log10(params.alpha)
    order = sorted(range(len(short)), key=lambda i: (short[i]["evidence"]["log10_p"] >= cut, i))
    for g in short:
        g["evidence"]["adds_given_others"] = bool(g["evidence"]["log10_p"] < cut)
    return groups[:protected] + [short[i] for i in order] + groups[size:]


def _scaled_target(series: pd.Series, link: str) -> np.ndarray:
    """The outcome on the scale where causes add up: log-odds for a rate strictly inside [0, 1] with more than two
    values (clipped half-way to the nearest observed rate from 0 or 1), the outcome itself otherwise."""
    y, task, _ = as_target(series, "auto")
    y = y.astype(float)
    values = y[~np.isnan(y)]
    if link != "auto" or task != "regression" or values.min() < 0 or values.max() > 1 or len(np.unique(values)) < 3:
        return y
    inside = values[(values > 0) & (values < 1)]
    eps = 0.5 * min(inside.min(), 1 - inside.max()) if len(inside) else 1e-3
    p = np.clip(y, max(eps, 1e-6), 1 - max(eps, 1e-6))
    return np.log(p / (1 - p))


def partial_tests(frame: pd.DataFrame, names: list[str], y: np.ndarray, seed: int) -> dict[str, tuple[float, float]]:
    """{name: (partial F, log10 p)} of each column's terms added to all the others' in one OLS fit."""
    from scipy.stats import f as f_dist

    rows = np.flatnonzero(~np.isnan(y))
    if len(rows) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_ROWS, replace=False))
    blocks = {c: _terms(frame[c].iloc[rows]) for c in names}
    blocks = {c: b for c, b in blocks.items() if b.shape[1]}
    design = np.column_stack([np.ones(len(rows))] + list(blocks.values()))
    target = y[rows]
    dof = len(rows) - design.shape[1]
    if dof < 10:
        return {}
    gram = design.T @ design
    inv = np.linalg.pinv(gram + 1e-8 * np.trace(gram) / len(gram) * np.eye(len(gram)))
    coef = inv @ design.T @ target
    resid = target - design @ coef
    sigma2 = max(float(resid @ resid) / dof, 1e-300)
    out, start = {}, 1
    for name, block in blocks.items():
        idx = np.arange(start, start + block.shape[1])
        start += block.shape[1]
        beta = coef[idx]
        extra = float(beta @ np.linalg.pinv(inv[np.ix_(idx, idx)]) @ beta)    # the fit lost without these terms
        f_stat = max(extra / len(idx) / sigma2, 0.0)
        out[name] = (f_stat, float(f_dist.logsf(f_stat, len(idx), dof)) / math.log(10))
    return out


def _terms(column: pd.Series) -> np.ndarray:
    """A numeric column: standardised value, square and cube (clipped at ±4 sd), a missing flag when values are
    missing often; a category: a dummy per common level. Missing values sit at the median (or the baseline)."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        v = column.to_numpy(float)
        if np.all(missing) or np.nanstd(v) == 0:
            return np.empty((len(v), 0))
        v = np.where(missing, np.nanmedian(v), v)
        z = np.clip((v - v.mean()) / max(v.std(), 1e-12), -4, 4)
        cols = [z, z ** 2, z ** 3]
    else:
        text = column.astype(object).where(~missing, "").astype(str).to_numpy()
        levels = pd.Series(text[~missing]).value_counts().index[:MAX_LEVELS]
        cols = [(text == level).astype(float) for level in levels[1:]]
    if missing.mean() >= MISSING_FLAG:
        cols.append(missing.astype(float))
    out = np.column_stack(cols) if cols else np.empty((len(column), 0))
    keep = out.std(axis=0) > 0 if out.shape[1] else np.zeros(0, bool)
    return out[:, keep]
