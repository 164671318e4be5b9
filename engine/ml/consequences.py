"""Consequences are not levers: columns the target determines, or that determine it, at the same instant.

A process model learns how settings move an outcome. A column computed from the target (CO₂ = factor × kWh), a
near-identity (kWh follows exactly from the reactive energy and the power factor: the power triangle) or another meter
of the same physical flow (kVarh, power factor next to kWh) is not a setting: "recommending" it reads the answer off
the meter, and an optimiser will happily push it to an impossible corner. Three checks, each with its evidence:
- computed: |rank correlation| with the target ≥ 0.98 (a copy, a unit conversion, a monotone formula);
- identity: the target follows from one or two columns alone (hold-out R² ≥ 0.98 of a nearest-neighbour fit on
  their ranks): an identity, not a process effect (real process models from two columns stay well below it);
- same_flow: the target is an electrical energy (kWh, MWh, 电耗 …) and the column's name says it is a meter of the same
  electricity (kVarh, kVA, power factor, 功率因数, 无功 …).
Pure: a frame in, a list of findings out (the caller decides what to do with them).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

from engine.core.i18n import Msg

COMPUTED_R = 0.98     # |Spearman| above which a column is taken as computed from the target
IDENTITY_R2 = 0.98    # hold-out R² from one or two columns above which they determine the target
PAIR_POOL = 6         # columns (most related to the target) among which pairs are tried
SAMPLE_ROWS = 3000
ELECTRIC_ENERGY = re.compile(r"(?i)(kwh|mwh|gwh|kw\b|kw_|_kw|电耗|电量|用电|有功|power_?use|electric)")
ELECTRIC_METER = re.compile(r"(?i)(kvarh|kvar|kvah|kva\b|kva_|power.?factor|\bpf\b|_pf\b|^pf_|cos.?phi|cosφ|reactive|"
                            r"功率因数|无功|视在|co2|tco2|碳排|排放)")


def _numeric(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c in frame and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c]) and frame[c].nunique(dropna=True) > 2]


def _ranks(values: pd.DataFrame) -> np.ndarray:
    return values.rank(pct=True).to_numpy(dtype=float)


def holdout_r2(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """R² on half the rows of a 5-nearest-neighbour fit on the other half (x: rank-scaled columns)."""
    from sklearn.neighbors import KNeighborsRegressor

    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[::2], order[1::2]
    if len(test) < 20 or np.var(y[test]) == 0:
        return 0.0
    pred = KNeighborsRegressor(n_neighbors=5).fit(x[train], y[train]).predict(x[test])
    return float(1.0 - np.mean((y[test] - pred) ** 2) / np.var(y[test]))


def find_consequences(frame: pd.DataFrame, target: str, candidates: list[str], seed: int = 0) -> list[dict]:
    """Findings among `candidates`: {name, kind (computed | identity | same_flow), partners, score, evidence}."""
    if target not in frame or not pd.api.types.is_numeric_dtype(frame[target]):
        return []
    data = frame.dropna(subset=[target])
    if len(data) > SAMPLE_ROWS:
        data = data.sample(SAMPLE_ROWS, random_state=seed)
    y = data[target].to_numpy(dtype=float)
    numeric = [c for c in _numeric(data, candidates) if c != target]
    found: dict[str, dict] = {}
    with np.errstate(all="ignore"):
        rho = data[numeric].corrwith(data[target], method="spearman").abs().fillna(0.0) if numeric else pd.Series()
    for col in numeric:
        if rho[col] >= COMPUTED_R:
            found[col] = _finding(col, "computed", [], float(rho[col]), target)
    rest = [c for c in numeric if c not in found]
    for col in rest:
        rows = data[col].notna().to_numpy()
        r2 = holdout_r2(_ranks(data.loc[rows, [col]]), y[rows], seed)
        if r2 >= IDENTITY_R2:
            found[col] = _finding(col, "identity", [], r2, target)
    pool = sorted((c for c in rest if c not in found), key=lambda c: -rho[c])[:PAIR_POOL]
    for a, b in itertools.combinations(pool, 2):
        rows = data[[a, b]].notna().all(axis=1).to_numpy()
        r2 = holdout_r2(_ranks(data.loc[rows, [a, b]]), y[rows], seed)
        if r2 >= IDENTITY_R2:
            for col, partner in ((a, b), (b, a)):
                if col not in found or found[col]["score"] < r2:
                    found[col] = _finding(col, "identity", [partner], r2, target)
    if ELECTRIC_ENERGY.search(target):
        for col in candidates:
            if col != target and col not in found and ELECTRIC_METER.search(col):
                found[col] = _finding(col, "same_flow", [], None, target)
    return [found[c] for c in candidates if c in found]


def _finding(col: str, kind: str, partners: list[str], score: float | None, target: str) -> dict:
    if kind == "computed":
        ev = Msg(f"rank correlation with {target} is {score:.3f}: it is computed from {target} (or {target} from it)",
                 f"与 {target} 的秩相关为 {score:.3f}：它由 {target} 算出（或反之）")
    elif kind == "identity" and partners:
        ev = Msg(f"{target} follows from {col} and {partners[0]} alone (R² {score:.3f} from these two columns): an "
                 "identity of the same measurement, not a process effect",
                 f"仅凭 {col} 与 {partners[0]} 两列即可算出 {target}（R² {score:.3f}）：是同一测量的恒等关系，而非工艺影响")
    elif kind == "identity":
        ev = Msg(f"{target} follows from {col} alone (R² {score:.3f}): the same measurement in another form",
                 f"仅凭 {col} 一列即可算出 {target}（R² {score:.3f}）：是同一测量的另一种形式")
    else:
        ev = Msg(f"a meter of the same electricity as {target} (its name says reactive energy, apparent power, power "
                 "factor or emissions): it moves with the energy used, nobody sets it",
                 f"与 {target} 是同一股电的计量（列名表明是无功、视在功率、功率因数或排放）：随用电量变化，不是可设定的参数")
    return {"name": col, "kind": kind, "partners": partners, "score": None if score is None else round(score, 4),
            "evidence": ev.to_dict()}
