"""Recommendation operators: settings for the controllables that improve the predicted outcome."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml.bands import outcome_band
from engine.ml.lgbm import ModelBundle
from engine.ml.search import Box, TrustRegion, clip_to_box, search, window
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class SampleSearchParams(OpParams):
    controllable: list[str] = ui_field(en="Controllable columns", zh="可调参数")
    goal: Literal["maximize", "minimize"] = ui_field("maximize", en="Goal", zh="优化方向", widget="radio")
    scenario: Literal["median", "latest"] = ui_field("median", en="Context scenario", zh="工况场景",
                                                     help_en="context held at its median, or at the latest row")
    time: str | None = ui_field(None, en="Time column", zh="时间列")
    envelope: tuple[float, float] = ui_field((0.01, 0.99), en="Operating envelope (quantiles)", zh="运行包络(分位数)")
    bounds: dict[str, tuple[float, float]] = ui_field({}, en="Expert bounds", zh="专家设定范围")
    pin: dict[str, float] = ui_field({}, en="Pinned values", zh="固定取值")
    n_samples: int = ui_field(3000, en="Random candidates", zh="随机候选数", ge=10, le=1_000_000)
    rounds: int = ui_field(4, en="Refinement rounds", zh="局部细化轮数", ge=0, le=20)
    trust: float = ui_field(0.95, en="Trust region (quantile)", zh="可信域(分位数)", gt=0.0, le=1.0,
                            help_en="how far from historical operation a recommendation may go: 1.0 allows the whole "
                                    "envelope box, 0.95 keeps it as close to past points as 95% of them are to "
                                    "each other",
                            help_zh="推荐点与历史运行点的最大距离；1.0 表示允许整个包络盒")
    window_share: float = ui_field(0.2, en="Window tolerance", zh="操作窗口容差", gt=0.0, le=1.0,
                                   help_en="window = values keeping at least (1 - share) of the predicted uplift")


def _example() -> tuple[dict, dict]:
    from engine.pipeline.context import StepContext
    from engine.operators.model import LightGBMParams, lightgbm_cv
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant()
    trained = lightgbm_cv(LightGBMParams(target="yield", features=["temp", "speed", "humidity"], folds=3,
                                         n_estimators=30), StepContext("example", "train", 0), frame)
    return {"controllable": ["temp", "speed"], "n_samples": 200, "rounds": 2}, {"frame": frame,
                                                                               "model": trained["model"]}


@operator("optimize.sample_search", version=1, inputs=("frame", "model"), outputs=("recommendations", "predicted"),
          example=_example)
def sample_search(params: SampleSearchParams, ctx: StepContext, frame: pd.DataFrame, model: ModelBundle) -> dict:
    """Best settings of the controllables for the chosen context, inside the operating envelope, by sampling."""
    controls, scenario_row, baseline, box = setup(frame, model, params)
    sign = 1.0 if params.goal == "maximize" else -1.0
    region = TrustRegion(frame, box, params.trust)

    def score(candidates: pd.DataFrame) -> np.ndarray:
        values = sign * model.predict(model_rows(scenario_row, candidates, box, params.pin))
        return np.where(region.inside(candidates), values, -np.inf)

    # historical settings (and the baseline) are good starting points; clipped into the box, the trust region
    # still rejects any that clipping moved far from operation
    seeds = pd.concat([frame[box.names].dropna().drop_duplicates().head(5000), baseline.to_frame().T[box.names]])
    seeds = clip_to_box(seeds.reset_index(drop=True).infer_objects(), box)
    rng = np.random.default_rng(ctx.seed)
    best, best_score, evaluations = search(score, box, seeds,
                                           params.n_samples, params.rounds, rng, ctx.progress)
    if not np.isfinite(best_score):
        raise StudioError(Msg(f"no candidate setting lies within the trust region around historical operation "
                              f"(trust {params.trust}) and inside the bounds; widen the expert bounds or raise trust "
                              f"towards 1.0", f"没有候选设定同时落在历史运行的信任域（trust {params.trust}）和范围之内；"
                                              f"请放宽专家范围，或把 trust 调向 1.0"))
    point = _full_point(scenario_row, best, params.pin)
    base_point = _full_point(scenario_row, baseline[box.names], params.pin)
    predicted = _predicted(model, base_point, point, params, evaluations, frame[model.target].dropna())
    predicted["distance_to_data"] = {"value": float(region.distance(best.to_frame().T)[0]),
                                     "trust_radius": region.radius,
                                     "unit": "nearest historical point, in envelope widths"}
    return {"recommendations": recommendations(params, frame, box, best, baseline, predicted, score, controls),
            "predicted": predicted}


def model_rows(scenario_row: pd.Series, candidates: pd.DataFrame, box: Box, pin: dict) -> pd.DataFrame:
    """Full model inputs for candidate settings: the scenario's context, the candidates, pinned values."""
    full = pd.DataFrame([scenario_row] * len(candidates)).reset_index(drop=True)
    for c in box.names:
        full[c] = candidates[c].to_numpy()
    for c, v in pin.items():
        if c in full:
            full[c] = v
    return full


def setup(frame: pd.DataFrame, model: ModelBundle, params) -> tuple[list[str], pd.Series, pd.Series, Box]:
    """(controllables in the model, scenario row, baseline settings, search box): shared by the recommenders."""
    controls = [c for c in params.controllable if c in model.features]
    if not controls:
        raise StudioError(Msg("none of the controllable columns is in the model; assign controllable columns that "
                              "survived cleaning", "模型中没有任何可调列；请指定清洗后仍保留的可调列"))
    scenario_row, baseline = _scenario(frame, model, controls, params)
    return controls, scenario_row, baseline, _box(frame, controls, model, params)


def recommendations(params, frame, box: Box, best, baseline, predicted: dict, score, controls) -> list[dict]:
    """Per controllable: value, operating window (values keeping most of the uplift), envelope; pins as given."""
    sign = 1.0 if params.goal == "maximize" else -1.0
    best_score = sign * predicted["recommended"]["value"]
    floor = best_score - params.window_share * abs(best_score - sign * predicted["baseline"]["value"])
    out = [_recommendation(c, best, baseline, box, frame, score, floor, params) for c in box.names]
    return out + [{"name": c, "value": v, "low": v, "high": v, "baseline": _plain(baseline[c]), "pinned": True}
                  for c, v in params.pin.items() if c in controls]


def _scenario(frame: pd.DataFrame, model: ModelBundle, controls: list[str], params) -> tuple[pd.Series, pd.Series]:
    """(row of all features at the chosen context, baseline settings of the controllables)."""
    if params.scenario == "latest":
        if not params.time:
            raise StudioError(Msg("scenario 'latest' needs a time column; assign the time role or use 'median'",
                                  "场景 'latest' 需要时间列；请指定时间角色，或改用 'median'"))
        row = frame.sort_values(params.time).iloc[-1][model.features]
        return row, row[controls]
    row = pd.Series({c: _typical(frame[c]) for c in model.features})
    return row, row[controls]


def _typical(s: pd.Series):
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return float(s.median())
    mode = s.mode(dropna=True)
    return mode.iloc[0] if len(mode) else None


def _box(frame: pd.DataFrame, controls: list[str], model: ModelBundle, params) -> Box:
    low, high, levels = {}, {}, {}
    q_lo, q_hi = params.envelope
    for c in controls:
        if c in params.pin:
            continue
        if c in model.coder.levels:
            levels[c] = sorted(frame[c].dropna().unique().tolist(), key=str)
            continue
        lo, hi = params.bounds.get(c, (float(frame[c].quantile(q_lo)), float(frame[c].quantile(q_hi))))
        if not np.isfinite([lo, hi]).all():
            raise StudioError(Msg(f"column '{c}' has no numeric values to build an operating envelope from",
                                  f"列 '{c}' 没有数值，无法确定运行包络"))
        low[c], high[c] = float(lo), float(hi)
    if not low and not levels:
        raise StudioError(Msg("every controllable is pinned: nothing left to recommend", "所有可调参数都已固定：没有可推荐的了"))
    return Box(low, high, levels, [c for c in model.coder.integer if c in low])


def _full_point(scenario_row: pd.Series, settings: pd.Series, pin: dict) -> pd.DataFrame:
    point = scenario_row.copy()
    for c, v in settings.items():
        point[c] = v
    for c, v in pin.items():
        if c in point:
            point[c] = v
    return point.to_frame().T.reset_index(drop=True).infer_objects()


def _predicted(model: ModelBundle, base: pd.DataFrame, best: pd.DataFrame, params, evaluations: int,
               observed: pd.Series) -> dict:
    """Outcome at baseline and recommendation, re-predicted by the model (verified), with intervals.

    Outcome bands: engine.ml.bands.outcome_band (the what-if uses the same). Uplift interval: the range over the fold models and the final model."""
    base_value, best_value = float(model.predict(base)[0]), float(model.predict(best)[0])
    uplift = best_value - base_value
    uplifts = np.append(model.predict_folds(best)[:, 0] - model.predict_folds(base)[:, 0], uplift)
    lo_obs, hi_obs = float(observed.min()), float(observed.max())
    return {"target": model.target, "goal": params.goal, "scenario": params.scenario,
            "baseline": outcome_band(base_value, model.residual_q, (lo_obs, hi_obs)),
            "recommended": outcome_band(best_value, model.residual_q, (lo_obs, hi_obs)),
            "uplift": {"value": uplift, "low": float(uplifts.min()), "high": float(uplifts.max()),
                       "pct": 100.0 * uplift / abs(base_value) if base_value else None,
                       "interval": "range over the cross-validation fold models and the final model"},
            "outcome_interval": "90% band from out-of-fold residuals, within the observed range",
            "observed_range": [lo_obs, hi_obs],
            "verified": True, "method": "sampling", "evaluations": evaluations,
            "settings": {k: _plain(v) for k, v in best.iloc[0].items()},
            "warnings": _caveats(params.goal, best_value, uplifts, lo_obs, hi_obs)}


def _caveats(goal: str, best_value: float, uplifts: np.ndarray, lo_obs: float, hi_obs: float) -> list[dict]:
    """What a plant manager should know before trusting the number (en + zh)."""
    out = []
    beyond = best_value > hi_obs if goal == "maximize" else best_value < lo_obs
    if beyond:
        edge = hi_obs if goal == "maximize" else lo_obs
        out.append({"en": f"The predicted outcome {best_value:.4g} is beyond anything observed ({edge:.4g}): "
                          f"take it as a direction and confirm it with a trial.",
                    "zh": f"预测结果 {best_value:.4g} 超出历史观测范围（{edge:.4g}）：请视为改进方向，并通过试验确认。"})
    sign = 1 if goal == "maximize" else -1
    if (sign * uplifts <= 0).any():
        out.append({"en": "Not every cross-validation model predicts an improvement here: the uplift is uncertain.",
                    "zh": "并非所有交叉验证模型都预测会有改善：提升幅度不确定。"})
    return out


def _recommendation(col, best, baseline, box: Box, frame, score, floor, params) -> dict:
    value = _plain(best[col])
    out = {"name": col, "value": value, "baseline": _plain(baseline[col])}
    if col in box.levels:
        out.update({"low": value, "high": value, "levels": box.levels[col]})
        return out
    low, high = window(score, best, box, col, floor)
    data = frame[col].dropna().to_numpy(dtype=float)
    out.update({"low": low, "high": high, "envelope": [box.low[col], box.high[col]],
                "data_percentile": round(float((data <= value).mean() * 100), 1),
                "expert_bounds": col in params.bounds})
    return out


def _plain(value):
    return value.item() if hasattr(value, "item") else value
