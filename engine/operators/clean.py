"""Cleaning operators: each returns the new frame and a record of what it changed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class DropUselessParams(OpParams):
    target: str = ui_field(en="Target column", zh="目标列")
    columns: list[str] = ui_field(en="Columns to check", zh="待检查列", help_en="candidate feature columns")
    keep: list[str] = ui_field([], en="Always keep", zh="始终保留", help_en="columns never dropped (expert force)")
    max_missing: float = ui_field(0.5, en="Max missing share", zh="最大缺失比例", ge=0.0, le=1.0, widget="slider",
                                  help_en="drop a column missing in more than this share of rows",
                                  help_zh="缺失比例超过此值的列将被删除")
    max_dominant: float = ui_field(0.995, en="Max share of one value", zh="单一取值最大占比", gt=0.0, le=1.0,
                                   help_en="drop a (near-)constant column whose most common value covers more rows",
                                   help_zh="某一取值占比超过此值的(近)常量列将被删除")


def _dominant_share(s: pd.Series, max_dominant: float) -> float:
    """Share of the most common value (missing counts as a value). On a big numeric column, when only a share
    above one half can matter, exactly and without hashing a million values: such a value must be the median."""
    if len(s) < 100_000 or max_dominant < 0.5 or not pd.api.types.is_float_dtype(s):
        return float(s.value_counts(normalize=True, dropna=False).iloc[0])
    values = s.to_numpy()
    missing = np.isnan(values)
    if missing.mean() > 0.5:
        return float(missing.mean())
    present = values[~missing]
    middle = np.partition(present, len(present) // 2)[len(present) // 2]
    share = float((present == middle).sum() / len(values))
    return share if share > 0.5 else min(share, 0.5)   # below one half: no value can reach max_dominant


def _example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    return {"target": "yield", "columns": ["temp", "speed", "humidity", "shift", "constant"]}, {"frame": tiny_plant()}


@operator("clean.drop_useless", version=1, inputs=("frame",), outputs=("frame", "report"), example=_example)
def drop_useless(params: DropUselessParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Drop rows without a target and feature columns that are constant or mostly missing."""
    if params.target not in frame.columns:
        raise StudioError(Msg(f"target column '{params.target}' is not in the data", f"目标列 '{params.target}' 不在数据中"))
    n = len(frame)
    has_target = frame[params.target].notna()
    if not has_target.all():        # a big table with every target filled is passed on, not copied
        frame = frame[has_target]
    if frame.empty:
        raise StudioError(Msg(f"target column '{params.target}' is empty in every row; choose another target",
                              f"目标列 '{params.target}' 每一行都是空的；请换一个目标"))
    dropped = []
    for i, col in enumerate(params.columns):
        ctx.progress(i / max(1, len(params.columns)), col)
        if col in params.keep or col not in frame.columns:
            continue
        s = frame[col]
        missing = float(s.isna().mean())
        dominant = _dominant_share(s, params.max_dominant)
        if missing > params.max_missing:
            dropped.append({"name": col, "reason": "missing", "value": round(missing, 4)})
        elif dominant > params.max_dominant:
            dropped.append({"name": col, "reason": "constant", "value": round(dominant, 4)})
    frame = frame.drop(columns=[d["name"] for d in dropped])
    report = {"rows_in": n, "rows_out": len(frame), "rows_without_target": n - len(frame), "dropped_columns": dropped}
    return {"frame": frame, "report": report}
