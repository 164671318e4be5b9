"""The parameters of optimize.recipe_tuning (one source of truth for validation, the form and the JSON Schema)."""

from __future__ import annotations

from typing import Literal

from engine.operators.optimize_exact import LinearConstraintParams
from engine.pipeline.registry import OpParams
from engine.schema.base import ui_field


class TuningParams(OpParams):
    controllable: list[str] = ui_field(en="Controllable columns", zh="可调参数")
    objective: Literal["max_quality", "min_cost"] = ui_field(
        "max_quality", en="Objective", zh="优化目标", widget="radio",
        help_en="maximise quality at cost <= budget, or minimise cost at quality >= spec",
        help_zh="在成本 ≤ 预算下使质量最优，或在质量 ≥ 规格下使成本最低")
    goal: Literal["maximize", "minimize"] = ui_field("maximize", en="Better quality is", zh="质量优化方向",
                                                     help_en="maximize: higher is better (strength, pass rate)")
    costs: dict[str, float] = ui_field({}, en="Prices per unit", zh="单位价格",
                                       help_en="column -> price per unit; 'column=level' -> surcharge of a level")
    composition: list[str] = ui_field([], en="Composition columns", zh="配方组分列",
                                      help_en="columns whose sum is held: at `total`, or in its historical range")
    total: float | None = ui_field(None, en="Composition total", zh="组分总量",
                                   help_en="empty: keep the sum within its historical 1-99% range")
    budget: float | None = ui_field(None, en="Cost budget", zh="成本预算")
    spec: float | None = ui_field(None, en="Quality spec", zh="质量规格")
    pareto_points: int = ui_field(7, en="Pareto points", zh="帕累托点数", ge=0, le=30)
    constraints: list[LinearConstraintParams] = ui_field([], en="Further linear constraints", zh="其他线性约束")
    scenario: Literal["median", "latest"] = ui_field("median", en="Context scenario", zh="工况场景")
    time: str | None = ui_field(None, en="Time column", zh="时间列")
    envelope: tuple[float, float] = ui_field((0.01, 0.99), en="Operating envelope (quantiles)", zh="运行包络(分位数)")
    bounds: dict[str, tuple[float, float]] = ui_field({}, en="Expert bounds", zh="专家设定范围")
    pin: dict[str, float] = ui_field({}, en="Pinned values", zh="固定取值")
    trust: float = ui_field(1.0, en="Trust region (quantile)", zh="可信域(分位数)", gt=0.0, le=1.0)
    window_share: float = ui_field(0.2, en="Window tolerance", zh="操作窗口容差", gt=0.0, le=1.0)
    time_limit: float = ui_field(30.0, en="Solver time limit per solve (s)", zh="单次求解时限(秒)", gt=0.0, le=3600.0)
    mip_gap: float = ui_field(1e-4, en="Target optimality gap", zh="目标最优性间隙", ge=0.0, le=0.5)
    report_seconds: bool = ui_field(True, en="Report solver wall time", zh="报告求解耗时")
