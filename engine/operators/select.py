"""Key-parameter selection: group near-duplicate sensors, rank the groups, keep one representative per group.

A plant records one physical cause several times (a setpoint, its measured value, a redundant thermocouple...). A
tree model splits the credit among the copies at random, so a raw importance ranking lists one cause five times and
may rank each copy below a lone decoy. Grouping strongly correlated columns and summing their SHAP shares gives the
cause its full weight; the representative is the column the plant can act on (forced, then controllable, then the
most important), and the others are listed with it so the expert sees what was merged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.boosters import has_linear_leaves
from engine.core.i18n import Msg
from engine.ml.lgbm import ModelBundle
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class KeyParamsParams(OpParams):
    target: str = ui_field(en="Target column", zh="目标列")
    features: list[str] = ui_field(en="Feature columns", zh="特征列")
    controllable: list[str] = ui_field([], en="Controllable columns", zh="可调参数",
                                       help_en="preferred as a group's representative", help_zh="优先作为组代表")
    keep: list[str] = ui_field([], en="Always keep", zh="始终保留", help_en="columns always selected (expert force)",
                               help_zh="始终入选的列（专家强制）")
    pin: dict[str, float] = ui_field({}, en="Pinned values", zh="固定取值",
                                     help_en="pinned columns are kept so the recommendation can hold them",
                                     help_zh="固定取值的列会保留，以便推荐时保持其取值")
    time: str | None = ui_field(None, en="Time column", zh="时间列", help_en="carried into the selected table")
    group: str | None = ui_field(None, en="Group column", zh="分组列", help_en="carried into the selected table")
    top_k: int = ui_field(30, en="Key parameters", zh="关键参数个数", ge=1, le=1000)
    threshold: float = ui_field(0.9, en="Same-sensor correlation", zh="同源传感器相关系数", ge=0.5, le=1.0,
                                widget="slider",
                                help_en="columns whose |rank correlation| with a group's leader (or its "
                                        "representative) reaches this are treated as copies of one cause",
                                help_zh="与组首列（或组代表）秩相关系数绝对值达到此值的列视为同一因素的副本")
    sample_rows: int = ui_field(5000, en="Rows for correlations", zh="相关计算行数", ge=100, le=1_000_000,
                                help_en="a random sample of rows is enough to tell copies apart",
                                help_zh="随机抽样的行数，足以识别副本")


def _example() -> tuple[dict, dict]:
    from engine.operators.model import LightGBMParams, lightgbm_cv
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant()
    frame = frame.assign(temp_pv=frame["temp"] * 1.8 + 32 + np.sin(np.arange(len(frame))) * 0.5)
    features = ["temp", "temp_pv", "speed", "humidity", "shift"]
    trained = lightgbm_cv(LightGBMParams(target="yield", features=features, folds=3, n_estimators=30, top_k=10),
                          StepContext("example", "train", 0), frame)
    params = {"target": "yield", "features": features, "controllable": ["temp", "speed"], "top_k": 3}
    return params, {"frame": frame, "importance": trained["importance"], "model": trained["model"]}


def importance_shares(params, frame: pd.DataFrame, importance: list[dict]):
    """(features present, |SHAP| share per feature, direction per feature, columns the expert keeps)."""
    features = [c for c in params.features if c in frame.columns and c != params.target]
    if not features:
        raise StudioError(Msg("no feature columns are left to select from; assign more columns to the roles",
                              "没有可供筛选的特征列了；请给角色分配更多列"))
    share = {c: 0.0 for c in features}
    share.update({kp["name"]: float(kp["importance"]) for kp in importance if kp["name"] in share})
    direction = {kp["name"]: int(kp.get("direction", 0)) for kp in importance}
    keep = [c for c in dict.fromkeys([*params.keep, *params.pin]) if c in share]
    return features, share, direction, keep


@operator("select.key_parameters", version=1, inputs=("frame", "importance", "model"),
          outputs=("frame", "key_parameters", "groups"), example=_example)
def key_parameters(params: KeyParamsParams, ctx: StepContext, frame: pd.DataFrame, importance: list[dict],
                   model: ModelBundle) -> dict:
    """Group near-duplicate sensors, rank groups by summed |SHAP| share, keep one representative per group."""
    features, share, direction, keep = importance_shares(params, frame, importance)
    ctx.progress(0.1, Msg("correlations", "相关性"))
    groups = _group(frame, features, share, params, keep, np.random.default_rng(ctx.seed))
    groups.sort(key=lambda g: -g["importance"])
    chosen = groups[: params.top_k] + [g for g in groups[params.top_k:] if g["representative"] in keep]
    groups = chosen + [g for g in groups[params.top_k:] if g["representative"] not in keep]
    ctx.progress(0.6, Msg("stability across folds", "各折稳定性"))
    std, stability = _fold_spread(model, frame, groups, len(chosen), params.top_k, ctx.seed)
    ranked = [_entry(i + 1, g, std[i], stability[i], direction) for i, g in enumerate(chosen)]
    names = [g["representative"] for g in chosen]
    carry = [c for c in (params.time, params.group) if c and c in frame.columns]
    columns = [c for c in frame.columns if c in set(names) | set(keep) | set(carry) | {params.target}]
    report_groups = [_group_report(g, share) for g in chosen if len(g["members"]) > 1]
    return {"frame": frame[columns], "key_parameters": ranked, "groups": report_groups}


def _group(frame: pd.DataFrame, features: list[str], share: dict, params: KeyParamsParams, keep: list[str],
           rng: np.random.Generator) -> list[dict]:
    """Greedy grouping, most important first: a leader takes every unassigned column correlated with it; when the
    group's representative is another column (a setpoint behind a sensor), the columns correlated with that one join.

    A group holds at most one controllable: two setpoints that moved together in the past are still two decisions
    (speed and torque), while a sensor copying a setpoint is the same cause measured again."""
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
    settable = set(params.controllable)
    order = sorted(features, key=lambda c: (-share[c], features.index(c)))
    corr = _RankCorr(frame, numeric, params.sample_rows, rng)
    corr.prefetch([c for c in order if c in corr.index][: 3 * params.top_k + len(keep) + 20])
    assigned, groups = set(), []
    for c in order:
        if c in assigned:
            continue
        members = [c]
        if c in corr.prefetched:                 # less important columns stay alone: they are not listed anyway
            members += _close(corr.row(c), corr, members, assigned, share, settable, params.threshold)
            rep = min(members, key=lambda m: (m not in keep, m not in settable, -share[m]))
            if rep != c:
                members += _close(corr.row(rep), corr, members, assigned, share, settable, params.threshold)
            row = corr.row(rep)
            r = {m: float(row[corr.index[m]]) for m in members}
        else:
            rep, r = c, {c: 1.0}
        assigned.update(members)
        groups.append({"leader": c, "representative": rep, "members": [rep] + [m for m in members if m != rep],
                       "corr": r, "importance": sum(share[m] for m in members)})
    return groups


def _close(row: np.ndarray, corr: "_RankCorr", members: list[str], assigned: set, share: dict, settable: set,
           threshold: float) -> list[str]:
    """Unassigned columns correlated with `row`'s column, most important first, never a second controllable."""
    taken = set(members) | assigned
    found, has_settable = [], bool(settable.intersection(members))
    for m in sorted((m for m, j in corr.index.items() if m not in taken and abs(row[j]) >= threshold),
                    key=lambda m: -share[m]):
        if m in settable:
            if has_settable:
                continue
            has_settable = True
        found.append(m)
    return found


class _RankCorr:
    """|Spearman|-like correlation (Pearson on ranks) over the rows where both columns are present, one column
    against all, on a row sample. Matrix products: 2,000 columns take seconds, not the minutes pairwise loops would."""

    def __init__(self, frame: pd.DataFrame, columns: list[str], max_rows: int, rng: np.random.Generator):
        data = frame[columns]
        if len(data) > max_rows:
            data = data.iloc[np.sort(rng.choice(len(data), max_rows, replace=False))]
        ranks = data.rank().to_numpy(float)
        present = ~np.isnan(ranks)
        self.x, self.m = np.where(present, ranks, 0.0), present.astype(float)
        self.index = {c: j for j, c in enumerate(columns)}
        self.prefetched: dict[str, np.ndarray] = {}

    def prefetch(self, names: list[str]) -> None:
        if names:
            self.prefetched.update(zip(names, self._rows([self.index[c] for c in names])))

    def row(self, name: str) -> np.ndarray:
        if name not in self.prefetched:
            self.prefetched[name] = self._rows([self.index[name]])[0]
        return self.prefetched[name]

    def _rows(self, pick: list[int]) -> np.ndarray:
        x, m = self.x, self.m
        a, ma = x[:, pick], m[:, pick]
        both = ma.T @ m
        n = np.maximum(both, 1.0)
        sx, sy = a.T @ m, ma.T @ x
        cov = a.T @ x - sx * sy / n
        var_a = (a * a).T @ m - sx ** 2 / n
        var_b = ma.T @ (x * x) - sy ** 2 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            r = cov / np.sqrt(var_a * var_b)
        r[both < 10] = 0.0                # too few rows in common to call two columns copies
        return np.nan_to_num(r)


def _fold_spread(model: ModelBundle, frame: pd.DataFrame, groups: list[dict], n_chosen: int, top_k: int,
                 seed: int) -> tuple[list[float], list[float]]:
    """For the first `n_chosen` groups: std of the group's SHAP share across the fold models, and the share of fold
    models ranking it among the top k of all groups (SHAP on a row sample: ranking needs no more)."""
    if not model.folds:
        return [0.0] * n_chosen, [1.0] * n_chosen
    rows = np.random.default_rng(seed).choice(len(frame), min(len(frame), 500), replace=False)
    x = model.coder.transform(frame.iloc[np.sort(rows)])
    index = {c: j for j, c in enumerate(model.features)}
    members = [[index[m] for m in g["members"] if m in index] for g in groups]
    shares = []
    for booster in model.folds:
        contrib = _fold_shares(booster, x)
        contrib = contrib / max(contrib.sum(), 1e-300)
        shares.append([contrib[m].sum() for m in members])
    shares = np.array(shares)                            # folds × groups
    rank = np.argsort(np.argsort(-shares, axis=1), axis=1)
    in_top = rank[:, :n_chosen] < top_k
    return shares[:, :n_chosen].std(axis=0).tolist(), in_top.mean(axis=0).tolist()


def _fold_shares(booster, x) -> np.ndarray:
    """Mean |SHAP| per column; a booster with piecewise-linear leaves (model.search@3) has no SHAP in LightGBM, so
    its split gain stands in (a ranking across folds needs only the order)."""
    if has_linear_leaves(booster):
        return np.asarray(booster.feature_importance(importance_type="gain"), dtype=float)
    return np.abs(booster.predict(x, pred_contrib=True)[:, :-1]).mean(axis=0)


def _entry(rank: int, g: dict, std: float, stability: float, direction: dict) -> dict:
    """One key parameter; its direction comes from the leader, turned round when the two are anti-correlated."""
    rep, leader = g["representative"], g["leader"]
    sign = direction.get(rep) or direction.get(leader, 0) * int(np.sign(g["corr"].get(leader, 1.0)))
    return {"name": rep, "rank": rank, "importance": round(g["importance"], 6), "importance_std": round(std, 6),
            "direction": int(sign), "stability": round(stability, 3), "group_size": len(g["members"]),
            "group": [m for m in g["members"] if m != rep]}


def _group_report(g: dict, share: dict) -> dict:
    rep = g["representative"]
    return {"representative": rep, "importance": round(g["importance"], 6),
            "members": [{"name": m, "corr": round(g["corr"][m], 4), "importance": round(share[m], 6)}
                        for m in g["members"]], "leader": g["leader"]}
