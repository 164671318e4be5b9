"""Predictive maintenance model (`model.pdm`): remaining useful life (regression, capped), fails-within-H
(classification, alarm threshold for a false-alarm budget), a normal-behaviour temperature model (alarm on a
persistent residual) when failures are too few, or a plain failure classifier when rows have no unit/time.
Cross-validation is always by unit when there are units. One module per task (pdm_rul, pdm_alarm, pdm_normal,
pdm_classify) beside the shared parts (pdm_fit); the step cache's code hash covers the modules this one imports."""

from __future__ import annotations

import pandas as pd

from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml.frame import usable_features
from engine.operators.pdm import _tiny_fleet
from engine.operators.pdm_alarm import horizon_task
from engine.operators.pdm_classify import classify_task
from engine.operators.pdm_fit import PdmParams
from engine.operators.pdm_normal import normal_task
from engine.operators.pdm_rul import rul_task
from engine.pipeline.context import StepContext
from engine.pipeline.registry import operator


def _pdm_example() -> tuple[dict, dict]:
    frame = _tiny_fleet()
    return ({"target": "rul", "features": ["s2", "s3", "s7"], "group": "unit", "time": "cycle", "folds": 3,
             "n_estimators": 20}, {"frame": frame, "window": {"created": []}})


@operator("model.pdm", version=1, inputs=("frame", "window"), outputs=("model", "metrics", "importance", "report"),
          example=_pdm_example)
def pdm_model(params: PdmParams, ctx: StepContext, frame: pd.DataFrame, window: dict | None = None) -> dict:
    """Remaining useful life, failure within H steps with an alarm threshold for a false-alarm budget, a
    normal-behaviour model of temperatures, or a failure classifier — cross-validated by unit."""
    frame = _ordered(frame, params)
    window = window or {}
    wanted = list(dict.fromkeys([*params.features, *window.get("created", [])]))
    features = [c for c in wanted if c in frame.columns and c not in (params.target, params.group, params.time)]
    features, _ = usable_features(frame, features)
    if not features:
        raise StudioError(Msg("no usable sensor or setting columns: assign the sensors to Context",
                              "没有可用的传感器或设定列：请把传感器放入“工况”"))
    mode = _mode(params, frame)
    return run_mode(mode, params, ctx, frame, features, window)


def _ordered(frame: pd.DataFrame, params: PdmParams) -> pd.DataFrame:
    keys = [c for c in (params.group, params.time) if c]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True) if keys else frame.reset_index(drop=True)


def _mode(params: PdmParams, frame: pd.DataFrame) -> str:
    if params.mode != "auto":
        return params.mode
    y = frame[params.target]
    binary = set(pd.unique(y.dropna())) <= {0, 1, True, False}
    if not binary:
        return "rul"
    if not (params.group and params.time):
        return "classification"
    events = int((y.fillna(0).astype(float) > 0).sum())
    if events < params.min_failures:
        if not params.watch:
            raise StudioError(Msg(f"only {events} failures in the data, fewer than the {params.min_failures} needed to "
                                  f"learn from: name the temperatures to watch (parameter watch) for a normal-behaviour "
                                  f"model, or add failure history",
                                  f"数据中只有 {events} 次故障，少于学习所需的 {params.min_failures} 次：请指定要监测的温度"
                                  f"（参数 watch）以使用正常行为模型，或补充故障历史"))
        return "normal"
    return "horizon"



def run_mode(mode: str, params: PdmParams, ctx: StepContext, frame: pd.DataFrame, features: list[str],
             window: dict) -> dict:
    return {"rul": rul_task, "horizon": horizon_task, "normal": normal_task, "classification": classify_task}[mode](
        params, ctx, frame, features, window)
