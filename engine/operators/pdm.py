"""Predictive maintenance: trailing-window features per unit, computed by DuckDB window functions (the model is in
engine/operators/pdm_model.py and the pdm_* modules beside it)."""

from __future__ import annotations


import pandas as pd

from engine.pipeline.context import StepContext
from engine.ml import pdm, pdm_windows
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


# ---------------------------------------------------------------- pdm.window_features

class WindowParams(OpParams):
    group: str | None = ui_field(None, en="Unit column", zh="设备列")
    time: str | None = ui_field(None, en="Time column", zh="时间列")
    columns: list[str] = ui_field([], en="Sensor columns", zh="传感器列")
    window: int = ui_field(30, en="Window (steps)", zh="窗口（步数）", ge=0, le=10_000,
                           help_en="trailing rows per unit for the rolling mean, std, min, max and slope; 0: none",
                           help_zh="每台设备向前取的行数，用于滚动均值、标准差、最小值、最大值和斜率；0 表示不计算")


def _tiny_fleet() -> pd.DataFrame:
    from engine.sim.turbofan import make_turbofan

    return make_turbofan(units=6, test_units=1, seed=0).train[["unit", "cycle", "s2", "s3", "s7", "rul"]]


@operator("pdm.window_features", version=1, inputs=("frame",), outputs=("frame", "report"),
          example=lambda: ({"group": "unit", "time": "cycle", "columns": ["s2", "s3"], "window": 5},
                           {"frame": _tiny_fleet()}))
def window_features(params: WindowParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Per unit, over the last `window` rows: mean, std, min, max, slope of each sensor; its change since the unit's
    first row; steps in service. Computed by DuckDB window functions — the same SQL builds them at scoring time."""
    columns = [c for c in params.columns if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    if not (params.group and params.time and params.window and columns):
        return {"frame": frame, "report": {"created": [], "window": 0, "columns": []}}
    out = pdm.add_windows(frame, params.group, params.time, columns, params.window)
    created = pdm.window_names(columns, params.window)
    return {"frame": out, "report": {"created": created, "window": params.window, "columns": columns,
                                     "group": params.group, "time": params.time}}


# ---------------------------------------------------------------- pdm.window_features@2

class WindowParamsV2(OpParams):
    group: str | None = ui_field(None, en="Unit column", zh="设备列")
    time: str | None = ui_field(None, en="Time column", zh="时间列")
    columns: list[str] = ui_field([], en="Sensor columns", zh="传感器列")
    window: int = ui_field(30, en="Window (steps)", zh="窗口（步数）", ge=0, le=10_000,
                           help_en="trailing rows per unit: means over the window, its half and its sixth (smoothing); "
                                   "std, min, max over the window; slopes over each; 0: none",
                           help_zh="每台设备向前取的行数：窗口、其一半和六分之一上的均值（平滑）；窗口上的标准差、最小值、"
                                   "最大值；各长度上的斜率；0 表示不计算")
    health_index: bool = ui_field(True, en="Health index", zh="健康指数",
                                  help_en="one combination of the standardised sensors (their first principal "
                                          "component, no target used) with its own smoothed levels and slopes",
                                  help_zh="标准化传感器的一个组合（第一主成分，不使用目标），并计算其平滑水平与斜率")


def windows_for(window: int) -> list[int]:
    """The window, its half and its sixth (at least 2 rows each): several smoothing lengths, as the literature uses."""
    return sorted({window, max(2, round(window / 2)), max(2, round(window / 6))}) if window >= 2 else [window]


@operator("pdm.window_features", version=2, inputs=("frame",), outputs=("frame", "report"),
          example=lambda: ({"group": "unit", "time": "cycle", "columns": ["s2", "s3", "s7"], "window": 6},
                           {"frame": _tiny_fleet()}))
def window_features_v2(params: WindowParamsV2, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Per unit: trailing means over several lengths (smoothing), spread, extremes and slopes, the change since the
    unit's first rows, steps in service, and a health index (first principal component of the standardised sensors)
    with its smoothed level and slopes. DuckDB window functions — the same SQL builds them at scoring time."""
    columns = [c for c in params.columns if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c]) and frame[c].nunique(dropna=True) > 1]
    if not (params.group and params.time and params.window and columns):
        return {"frame": frame, "report": {"created": [], "window": 0, "columns": []}}
    health = pdm_windows.fit_health(frame, columns, params.group, params.time) if params.health_index else None
    spec = {"v": 2, "group": params.group, "time": params.time, "columns": columns,
            "windows": windows_for(params.window), "health": health}
    out = pdm_windows.add_windows_v2(frame, spec)
    created = pdm_windows.windows_names(spec)
    return {"frame": out, "report": {"created": created, "window": params.window, "windows": spec["windows"],
                                     "columns": columns, "group": params.group, "time": params.time, "spec": spec,
                                     "health_index": health}}
