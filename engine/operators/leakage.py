"""clean.leakage_guard: columns that give the target away (a copy, a rounding, a near-perfect correlation, a flag
recorded only with the failure) are flagged and left out before any model sees them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.core.frames import require_columns
from engine.pipeline.context import StepContext
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


# ---------------------------------------------------------------- clean.leakage_guard

class LeakageParams(OpParams):
    target: str = ui_field(en="Target column", zh="目标列")
    columns: list[str] = ui_field([], en="Columns to check", zh="待检查列", help_en="empty: every other column")
    threshold: float = ui_field(0.99, en="Correlation limit", zh="相关系数上限", ge=0.5, le=1.0,
                                help_en="flag a column whose |Pearson| or |Spearman| with the target reaches this",
                                help_zh="与目标的 Pearson 或 Spearman 相关系数绝对值达到此值的列将被标记")
    keep_flagged: bool = ui_field(False, en="Keep flagged columns", zh="保留被标记的列")
    max_decimals: int = ui_field(6, en="Rounding checked up to (decimals)", zh="检查的最大小数位数", ge=0, le=12,
                                 help_en="a column equal to the target rounded to 0..this many decimals is a copy")
    implied_flags: bool = ui_field(False, en="Flags that fire only with the target are leaks",
                                   zh="只在目标发生时才出现的标志列视为泄漏",
                                   help_en="for a pass/fail target: a 0/1 column that is 1 only in rows where the target "
                                           "is 1 (e.g. failure-mode columns recorded with the failure) is left out",
                                   help_zh="目标为合格/失效时：只在目标为 1 的行中取 1 的 0/1 列（如随故障一起记录的故障模式列）将被剔除")


def _rounded_copy(a: pd.Series, b: pd.Series, max_decimals: int) -> bool:
    return any((a.round(d) == b).all() or (b.round(d) == a).all() for d in range(max_decimals + 1))


def _leak(x: pd.Series, y: pd.Series, params: LeakageParams) -> dict | None:
    """Why `x` gives the target `y` away, or None; correlations are taken over rows where both are present."""
    both = x.notna() & y.notna()
    a, b = x[both].astype(float), y[both].astype(float)
    if len(a) < 3 or a.nunique() < 2 or b.nunique() < 2:
        return None
    pearson, spearman = float(a.corr(b)), float(a.corr(b, method="spearman"))
    if a.equals(b):
        reason = "copy"
    elif _rounded_copy(a, b, params.max_decimals):
        reason = "rounded copy"
    elif abs(spearman) >= 1 - 1e-12:
        reason = "monotone transform"
    elif max(abs(pearson), abs(spearman)) >= params.threshold:
        reason = "correlation"
    elif params.implied_flags and _implies(a, b):
        reason = "fires only with the target"
    else:
        return None
    return {"reason": reason, "pearson": round(pearson, 6), "spearman": round(spearman, 6)}


def _implies(x: pd.Series, y: pd.Series) -> bool:
    """A 0/1 flag that is 1 only where a 0/1 target is 1 (at least 3 times): recorded with the outcome, not before."""
    if not (set(x.unique()) <= {0.0, 1.0} and set(y.unique()) <= {0.0, 1.0}):
        return False
    fired = x == 1.0
    return int(fired.sum()) >= 3 and bool((y[fired] == 1.0).all())


def _leakage_example() -> tuple[dict, dict]:
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant()
    frame = frame.assign(yield_rounded=frame["yield"].round(1), yield_log=np.log(frame["yield"]))
    return {"target": "yield"}, {"frame": frame}


def _is_number(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


@operator("clean.leakage_guard", version=1, inputs=("frame",), outputs=("frame", "report"), example=_leakage_example)
def leakage_guard(params: LeakageParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Flag (and drop) columns that are a copy, a rounded copy, a monotone transform or a near-perfect correlate of
    the target: a model using them would look brilliant in validation and be useless on the line."""
    require_columns(frame, [params.target, *params.columns])
    y = frame[params.target]
    columns = [c for c in (params.columns or frame.columns) if c != params.target]
    flagged, skipped = [], []
    for i, col in enumerate(columns):
        ctx.progress(i / max(1, len(columns)), col)
        x = frame[col]
        if _is_number(x) and _is_number(y):
            found = _leak(x, y, params)
        else:  # text or categories: only an exact copy can be told
            found = {"reason": "copy"} if x.astype("str").equals(y.astype("str")) else None
            skipped += [] if found else [col]
        if found:
            flagged.append({"name": col, **found})
    dropped = [] if params.keep_flagged else [f["name"] for f in flagged]
    report = {"target": params.target, "threshold": params.threshold, "checked": len(columns),
              "flagged": flagged, "dropped": dropped, "not_numeric": skipped}
    return {"frame": frame.drop(columns=dropped), "report": report}
