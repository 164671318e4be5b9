"""Parameter curves: how the predicted outcome moves with one parameter, and where the data says it can be trusted.

For each key parameter: the partial dependence (the model's average prediction as the parameter sweeps its operating
envelope, every other column as it was in a sample of historical rows), the spread of the individual (ICE) curves
around it (wide: the effect depends on other settings), a few ICE lines, and the histogram of the historical values
on the same axis, so an expert sees at a glance that a curve bending where no batch ever ran is the model guessing.
Plain JSON, for the UI and the report to draw.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.ml.lgbm import ModelBundle
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class CurvesParams(OpParams):
    columns: list[str] = ui_field([], en="Parameters", zh="参数", help_en="empty: the key parameters in rank order",
                                  help_zh="留空：按排名取关键参数")
    max_curves: int = ui_field(12, en="Curves", zh="曲线数", ge=1, le=200)
    grid_points: int = ui_field(25, en="Points per curve", zh="每条曲线点数", ge=3, le=200)
    ice_rows: int = ui_field(200, en="Rows for individual curves", zh="个体曲线采样行数", ge=10, le=5000)
    ice_lines: int = ui_field(15, en="Individual curves returned", zh="返回的个体曲线数", ge=0, le=200)
    bins: int = ui_field(20, en="Histogram bins", zh="直方图分箱数", ge=2, le=200)
    envelope: tuple[float, float] = ui_field((0.01, 0.99), en="Curve range (quantiles)", zh="曲线范围(分位数)")
    goal: Literal["maximize", "minimize"] = ui_field("maximize", en="Goal", zh="优化方向", widget="radio")


def _example() -> tuple[dict, dict]:
    from engine.operators.model import LightGBMParams, lightgbm_cv
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant()
    trained = lightgbm_cv(LightGBMParams(target="yield", features=["temp", "speed", "humidity", "shift"], folds=3,
                                         n_estimators=30), StepContext("example", "train", 0), frame)
    return {"max_curves": 3, "grid_points": 9, "ice_rows": 30, "ice_lines": 3}, \
        {"frame": frame, "model": trained["model"], "key_parameters": trained["importance"]}


@operator("explain.curves", version=1, inputs=("frame", "model", "key_parameters"), outputs=("curves",),
          example=_example)
def curves(params: CurvesParams, ctx: StepContext, frame: pd.DataFrame, model: ModelBundle,
           key_parameters: list[dict]) -> dict:
    """Partial dependence with ICE spread and the data's histogram for the key parameters."""
    wanted = params.columns or [kp["name"] for kp in key_parameters]
    columns = [c for c in dict.fromkeys(wanted) if c in model.features][: params.max_curves]
    rng = np.random.default_rng(ctx.seed)
    rows = np.sort(rng.choice(len(frame), min(len(frame), params.ice_rows), replace=False))
    sample = model.coder.transform(frame.iloc[rows]).reset_index(drop=True)
    shown = np.sort(rng.choice(len(sample), min(len(sample), params.ice_lines), replace=False))
    out = []
    for i, col in enumerate(columns):
        ctx.progress(i / max(1, len(columns)), col)
        if col in model.coder.levels:
            out.append(_categorical_curve(model, sample, frame[col], col, shown, params))
        else:
            out.append(_numeric_curve(model, sample, frame[col], col, shown, params))
    return {"curves": out}


def _ice(model: ModelBundle, sample: pd.DataFrame, col: str, grid) -> np.ndarray:
    """Predictions for every sampled row at every grid value: rows × grid."""
    big = sample.iloc[np.repeat(np.arange(len(sample)), len(grid))].reset_index(drop=True)
    values = np.tile(np.asarray(grid, dtype=object if col in model.coder.levels else float), len(sample))
    big[col] = pd.Categorical(values, categories=model.coder.levels[col]) if col in model.coder.levels else values
    return model.final.predict(big).reshape(len(sample), len(grid))


def _summary(ice: np.ndarray, shown: np.ndarray, goal: str) -> dict:
    """PD, the 10–90 % band of the ICE curves, a few ICE lines and how much the curves disagree in shape."""
    pd_curve = ice.mean(axis=0)
    centred = ice - ice.mean(axis=1, keepdims=True)
    effect = float(pd_curve.max() - pd_curve.min())
    spread = float((centred - centred.mean(axis=0)).std(axis=0).mean())
    best = int(np.argmax(pd_curve) if goal == "maximize" else np.argmin(pd_curve))
    return {"pd": _round(pd_curve), "ice_low": _round(np.quantile(ice, 0.1, axis=0)),
            "ice_high": _round(np.quantile(ice, 0.9, axis=0)), "ice": [_round(r) for r in ice[shown]],
            "effect_range": round(effect, 6), "interaction_spread": round(spread, 6),
            "interaction_share": round(spread / effect, 4) if effect > 0 else 0.0, "best_index": best}


def _numeric_curve(model, sample, values: pd.Series, col: str, shown, params: CurvesParams) -> dict:
    data = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    lo, hi = np.quantile(data, params.envelope) if len(data) else (0.0, 0.0)
    grid = np.unique(np.linspace(lo, hi, params.grid_points))
    if col in model.coder.integer:
        grid = np.unique(np.round(grid))
    counts, edges = np.histogram(data, bins=params.bins, range=(float(lo), float(hi)) if hi > lo else None)
    summary = _summary(_ice(model, sample, col, grid), shown, params.goal)
    return {"name": col, "kind": "numeric", "grid": _round(grid), **summary, "best_value": float(grid[summary["best_index"]]),
            "histogram": {"edges": _round(edges), "counts": counts.astype(int).tolist(),
                          "below": int((data < lo).sum()), "above": int((data > hi).sum())},
            "data_share_at_grid": _round(_local_share(data, grid)),
            "observed": {"min": float(data.min()) if len(data) else None, "max": float(data.max()) if len(data) else None,
                         "median": float(np.median(data)) if len(data) else None,
                         "missing_share": round(float(values.isna().mean()), 4)}}


def _local_share(data: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Share of the historical rows within half a grid step of each grid point: near 0 means 'no data here'."""
    if len(grid) < 2 or not len(data):
        return np.ones(len(grid))
    half = (grid[1] - grid[0]) / 2
    return np.array([np.mean(np.abs(data - g) <= half) for g in grid])


def _categorical_curve(model, sample, values: pd.Series, col: str, shown, params: CurvesParams) -> dict:
    levels = model.coder.levels[col]
    counts = values.astype("string").value_counts()
    summary = _summary(_ice(model, sample, col, levels), shown, params.goal)
    return {"name": col, "kind": "category", "grid": list(levels), **summary, "best_value": levels[summary["best_index"]],
            "histogram": {"levels": list(levels), "counts": [int(counts.get(level, 0)) for level in levels]},
            "observed": {"missing_share": round(float(values.isna().mean()), 4)}}


def _round(values) -> list[float]:
    return [round(float(v), 6) for v in values]
