"""Energy saving: the energy (or efficiency) model, an optional output model, and setpoints that save energy.

`model.energy_models` trains the target model (LightGBM, cross-validated) on the controllables and the context, with
optional rolling means of context columns (computed by `align.lag_features`, never looking past the row), and, when
an output column is named, a second model of the output. `optimize.energy_setpoints` recommends setpoints for the
current context by the exact MILP (optimize.tree_milp's machinery), requires the predicted output to stay at or above
the demand when there is an output model, and states the saving in % and, with a price and operating hours, in money
per year, each with the range over the cross-validation fold models and the final model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml.lgbm import ModelBundle
from engine.operators.model import LightGBMParams, lightgbm_cv
from engine.operators.optimize import _full_point, setup
from engine.operators.optimize_exact import TreeMilpParams, recommend_exact
from engine.operators.timeseries import LagParams, lag_features
from engine.optim import ModelSpec
from engine.pipeline.registry import operator
from engine.schema.base import ui_field
from engine.sim.boiler import make_boiler


def _boiler_example(rows: int = 240) -> pd.DataFrame:
    return make_boiler(rows=rows, seed=0).frame.drop(columns=["coal_feed_tph", "fuel_gj_per_t_steam"])


# ---------------------------------------------------------------- model.energy_models

class EnergyModelParams(LightGBMParams):
    output: str | None = ui_field(None, en="Output column", zh="产出列",
                                  help_en="when given, a second model predicts it, so the recommendation can be held "
                                          "to the demand; leave it out of the features",
                                  help_zh="若指定，将另建一个模型预测产出，使推荐满足需求；该列不要作为特征")
    window_columns: list[str] = ui_field([], en="Context columns for rolling means", zh="计算滚动均值的工况列")
    window: int = ui_field(0, en="Rolling window (rows)", zh="滚动窗口（行数）", ge=0, le=100_000,
                           help_en="0: none. The mean of the last n rows of each context column is added as a "
                                   "feature (needs the time column)",
                           help_zh="0 表示不计算。将每个工况列最近 n 行的均值作为特征（需要时间列）")


def _models_example() -> tuple[dict, dict]:
    return ({"target": "efficiency_pct", "features": ["excess_o2_pct", "primary_air_share", "steam_load_pct",
                                                      "coal_cv_mj_kg"], "folds": 3, "n_estimators": 30,
             "time": "timestamp", "window_columns": ["steam_load_pct"], "window": 6},
            {"frame": _boiler_example()})


@operator("model.energy_models", version=1, inputs=("frame",),
          outputs=("frame", "model", "metrics", "importance", "report", "output_model"), example=_models_example)
def energy_models(params: EnergyModelParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """The energy/efficiency model (cross-validated LightGBM), optional rolling context features and output model."""
    if params.output is not None and params.output in params.features:
        raise StudioError(Msg(f"the output column '{params.output}' is also a feature: the model would read the answer "
                              f"off it. Take it out of the controllable/context roles (put it under ignore)",
                              f"产出列 '{params.output}' 同时是特征：模型会直接从中读出答案。请把它移出可调/工况角色（放入忽略）"))
    frame, created, lag = _with_windows(params, ctx, frame)
    base = {k: v for k, v in params.model_dump().items() if k in LightGBMParams.model_fields}
    base["features"] = [*params.features, *created]
    trained = lightgbm_cv(LightGBMParams(**base), ctx, frame)
    if created:  # scoring new data rebuilds the rolling means the same way (engine/service/scoring.py)
        trained["model"].prep = [{"op": "align.lag_features", "created": created, "params": lag}]
    report = {**trained["report"], "rolling_features": created}
    output_model = None
    if params.output is not None:
        output_model, report["output_model"] = _output_model(params, base, ctx, frame)
        trained["model"].companions = {"output": output_model}  # scoring predicts the output beside the target
    return {"frame": frame, "model": trained["model"], "metrics": trained["metrics"],
            "importance": trained["importance"], "report": report, "output_model": output_model}


def _with_windows(params: EnergyModelParams, ctx: StepContext, frame: pd.DataFrame) -> tuple[pd.DataFrame, list, dict]:
    # context columns cleaning dropped, or categorical ones, get no rolling mean
    columns = [c for c in params.window_columns if c in frame.columns and c != params.target
               and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    if not params.window or not columns:
        return frame, [], {}
    if not params.time:
        raise StudioError(Msg("rolling context features need the time column: assign the time role or set the rolling "
                              "window to 0", "工况滚动特征需要时间列：请指定时间角色，或把滚动窗口设为 0"))
    lag = LagParams(columns=columns, lags=[], windows=[params.window], stats=["mean"], time=params.time)
    lagged = lag_features(lag, ctx, frame)
    return lagged["frame"], lagged["report"]["created"], lag.model_dump(mode="json")


def _output_model(params: EnergyModelParams, base: dict, ctx: StepContext, frame: pd.DataFrame):
    if params.output not in frame.columns:
        raise StudioError(Msg(f"output column '{params.output}' is not in the table (or was dropped by cleaning)",
                              f"产出列 '{params.output}' 不在数据表中（或已被清洗删除）"))
    if not pd.api.types.is_numeric_dtype(frame[params.output]):
        raise StudioError(Msg(f"output column '{params.output}' must be numeric (an amount per hour or per batch)",
                              f"产出列 '{params.output}' 必须是数值（每小时或每批的产量）"))
    rows = frame[frame[params.output].notna()]
    trained = lightgbm_cv(LightGBMParams(**{**base, "target": params.output, "task": "regression",
                                            "monotone": {}}), ctx, rows)
    return trained["model"], {"target": params.output, "metrics": trained["metrics"]}


# ---------------------------------------------------------------- optimize.energy_setpoints

class EnergySetpointParams(TreeMilpParams):
    demand: float | None = ui_field(None, en="Output demand", zh="产出需求",
                                    help_en="with an output model: the predicted output must stay at or above this; "
                                            "empty: the predicted output at the current settings",
                                    help_zh="有产出模型时：推荐点的预测产出不得低于此值；留空为当前设定下的预测产出")
    price: float | None = ui_field(None, en="Energy price", zh="能源单价", ge=0.0,
                                   help_en="money per energy unit; with operating hours gives money per year",
                                   help_zh="每能量单位的价格；与年运行小时数一起给出每年金额")
    hours: float | None = ui_field(None, en="Operating hours per year", zh="年运行小时数", ge=0.0, le=8784.0)
    energy_per_hour: float | None = ui_field(
        None, en="Energy use per hour now", zh="当前每小时能耗", gt=0.0,
        help_en="the unit's energy input per hour at the current settings, in the price's energy unit; empty: the "
                "target itself is an amount per hour in that unit (energy use to minimise, output to maximise)",
        help_zh="当前设定下每小时的能源投入（与单价的能量单位一致）；留空表示目标本身就是该单位的每小时量")
    energy_unit: str = ui_field("MWh", en="Energy unit", zh="能量单位", min_length=1, max_length=20)
    currency: str = ui_field("CNY", en="Currency", zh="货币", min_length=1, max_length=10)


def _setpoints_example() -> tuple[dict, dict]:
    frame = _boiler_example()
    trained = energy_models(EnergyModelParams(target="efficiency_pct", features=[
        "excess_o2_pct", "mill_temp_c", "steam_load_pct", "coal_cv_mj_kg"], folds=3, n_estimators=30,
        num_leaves=7), StepContext("example", "train", 0), frame)
    params = {"controllable": ["excess_o2_pct", "mill_temp_c"], "time_limit": 20.0, "report_seconds": False,
              "price": 30.0, "hours": 7000.0, "energy_per_hour": 2500.0, "energy_unit": "GJ"}
    return params, {"frame": frame, "model": trained["model"], "output_model": None}


@operator("optimize.energy_setpoints", version=1, inputs=("frame", "model", "output_model"),
          outputs=("recommendations", "predicted", "savings"), example=_setpoints_example)
def energy_setpoints(params: EnergySetpointParams, ctx: StepContext, frame: pd.DataFrame, model: ModelBundle,
                     output_model: ModelBundle | None) -> dict:
    """Setpoints saving the most energy for the current context (exact MILP, verified), savings in % and money/yr."""
    if (params.price is None) != (params.hours is None):
        raise StudioError(Msg("money per year needs both the energy price and the operating hours per year; enter both "
                              "or neither", "计算每年金额需要同时输入能源单价和年运行小时数；请两者都填或都不填"))
    if model.task != "regression":
        raise StudioError(Msg(f"the energy target '{model.target}' must be numeric (an efficiency or an energy use), "
                              f"not pass/fail", f"能耗目标 '{model.target}' 必须是数值（效率或能耗），不能是合格/不合格"))
    _, scenario_row, baseline, box = setup(frame, model, params)
    base_point = _full_point(scenario_row, baseline[box.names], params.pin)
    specs, meets, demand = _demand(params, output_model, base_point)
    out = recommend_exact(params, ctx, frame, model, specs, meets)
    settings = pd.Series({r["name"]: r["value"] for r in out["recommendations"] if not r.get("pinned")})
    best_point = _full_point(scenario_row, settings, params.pin)
    savings = energy_savings(params, model, base_point, best_point, out["predicted"], demand)
    return {**out, "savings": savings}


def _demand(params: EnergySetpointParams, output_model: ModelBundle | None, base_point: pd.DataFrame):
    """(specs, meets_specs, demand record): the predicted output must stay >= the demand."""
    if output_model is None:
        if params.demand is not None:
            raise StudioError(Msg("an output demand needs an output model: name the output column (parameter "
                                  "'output') or clear the demand",
                                  "产出需求需要产出模型：请指定产出列（参数 output），或清空需求"))
        return [], None, None
    current = float(output_model.predict(base_point)[0])
    bound = current if params.demand is None else float(params.demand)
    name = f"predicted {output_model.target} >= {bound:.6g}"
    spec = ModelSpec(output_model.final, ">=", bound, name, feature_names=list(output_model.features))
    record = {"output": output_model.target, "value": bound, "current_predicted": current,
              "source": "entered" if params.demand is not None else "predicted output at the current settings"}

    def meets(rows: pd.DataFrame) -> np.ndarray:
        return output_model.predict(rows) >= bound - 1e-6 * max(1.0, abs(bound))

    return [spec], meets, record


def energy_savings(params: EnergySetpointParams, model: ModelBundle, base: pd.DataFrame, best: pd.DataFrame,
                   predicted: dict, demand: dict | None) -> dict:
    """Saving in % of the energy used (per unit of useful output), per hour and per year, each with the range over
    the cross-validation fold models and the final model (the same spread as the uplift's interval).

    maximize (an efficiency, or output at a given fuel input): energy for the same output ∝ 1/target, so the share
    saved is 1 − baseline/recommended; minimize (energy use, or energy per unit of output at a held demand): it is
    (baseline − recommended)/baseline."""
    b = np.append(model.predict_folds(base)[:, 0], model.predict(base)[0])
    r = np.append(model.predict_folds(best)[:, 0], model.predict(best)[0])
    maximize = params.goal == "maximize"
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 1.0 - b / r if maximize else (b - r) / b
    out = {"target": model.target, "goal": params.goal,
           "basis": "energy per unit of output ∝ 1/target" if maximize else "target is the energy use",
           "baseline": float(b[-1]), "recommended": float(r[-1]),
           "pct": _band(100.0 * share), "interval": "range over the cross-validation fold models and the final model",
           "verified": bool(predicted.get("verification", {}).get("ok", predicted.get("verified"))),
           "solver": {k: predicted.get("solver", {}).get(k) for k in ("status", "gap", "seconds")}}
    if demand:
        out["demand"] = demand
    per_hour, how = _energy_per_hour(params, share, b, r, maximize)
    out["energy_per_hour"] = {**_band(per_hour), "unit": f"{params.energy_unit}/h", "source": how}
    if params.price is not None:
        money = per_hour * params.price * params.hours
        out["money_per_year"] = {**_band(money), "unit": f"{params.currency}/yr", "price": params.price,
                                 "price_unit": f"{params.currency}/{params.energy_unit}", "hours": params.hours,
                                 "formula": "energy saved per hour × price × operating hours per year"}
    out["warnings"] = _warnings(share, r, maximize)
    return out


def _energy_per_hour(params, share, b, r, maximize: bool) -> tuple[np.ndarray, str]:
    if params.energy_per_hour is not None:
        return share * params.energy_per_hour, (f"saving share × energy use entered "
                                                f"({params.energy_per_hour:g} {params.energy_unit}/h)")
    if maximize:
        return r - b, f"target gain per hour, taken as {params.energy_unit}/h (output valued at the energy price)"
    return b - r, f"target reduction, taken as {params.energy_unit}/h"


def _band(values: np.ndarray) -> dict:
    """The final model's value (last) and the range over every model."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"value": None, "low": None, "high": None}
    return {"value": float(values[-1]), "low": float(finite.min()), "high": float(finite.max())}


def _warnings(share: np.ndarray, r: np.ndarray, maximize: bool) -> list[dict]:
    out = []
    if maximize and (r <= 0).any():
        out.append({"en": "A model predicts a non-positive efficiency: the saving share is not defined there.",
                    "zh": "有模型预测效率不为正：此时节能比例无定义。"})
    if (share <= 0).any():
        out.append({"en": "Not every cross-validation model predicts a saving here: the saving is uncertain.",
                    "zh": "并非所有交叉验证模型都预测会节能：节能幅度不确定。"})
    return out
