"""Batch-by-batch verdicts on a line running a recommendation (pure: arrays in, verdicts out).

`evaluate(...)` takes the monitored batches (the outcome, the model's predictions, the recommended controllables'
values, the key parameters), the recommendation's windows and the training data of the key parameters, and returns
- `series`: per batch — outcome, prediction, residual, compliance, the control-chart statistics and flags;
- `alerts`: one per episode of a rule (rule, batch row, column, a sentence in en and zh saying what to check);
- `summary`: limits, counts, compliance share, drift per column, recent accuracy, measured benefit, retrain advice.
The rows before `baseline` are the reference period: the charts' limits come from them and the benefit is measured
against them; alerts are raised from the first batch after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.core.i18n import Msg
from engine.ml import benefit, control_charts as cc, drift as dr


@dataclass(frozen=True)
class MonitorSettings:
    baseline: int = 100                        # batches of the reference period
    rules: tuple[str, ...] = cc.DEFAULT_RULES  # control-chart rules raising alerts
    charts: cc.ChartSettings = cc.DEFAULT_SETTINGS          # the residual chart's constants
    outcome_charts: cc.ChartSettings = cc.OUTCOME_SETTINGS  # the outcome's: wider (see control_charts)
    drift: dr.DriftSettings = dr.DEFAULT_DRIFT
    accuracy_window: int = 50
    persist: int = 10                          # batches of residual or drift alarms that suggest a retrain
    quiet: int = 10                            # clear batches that end a chart's alarm episode
    goal: str = "maximize"


@dataclass
class Batches:
    """The monitored data, as arrays of equal length (row i = the i-th batch of the monitored table)."""
    outcome: np.ndarray
    predicted: np.ndarray | None
    controls: dict[str, np.ndarray] = field(default_factory=dict)   # recommended controllables' values
    inputs: dict[str, np.ndarray] = field(default_factory=dict)     # key parameters checked for drift
    time: list | None = None


RULE_TEXT = {
    "beyond_limits": Msg("a batch beyond the control limits", "单批超出控制限"),
    "moving_range": Msg("a jump between two batches beyond the moving-range limit", "相邻两批跳变超出移动极差控制限"),
    "ewma": Msg("a small sustained shift (EWMA)", "小幅持续偏移（EWMA）"),
    "cusum": Msg("a small sustained shift (CUSUM)", "小幅持续偏移（CUSUM）"),
    "we2": Msg("2 of 3 batches beyond 2 sigma", "3 批中有 2 批超出 2 sigma"),
    "we3": Msg("4 of 5 batches beyond 1 sigma", "5 批中有 4 批超出 1 sigma"),
    "we4": Msg("8 batches in a row on one side", "连续 8 批在中心线同一侧"),
    "nelson2": Msg("9 batches in a row on one side", "连续 9 批在中心线同一侧"),
    "nelson3": Msg("6 batches in a row rising or falling", "连续 6 批上升或下降"),
    "nelson4": Msg("14 batches alternating up and down", "连续 14 批交替上下"),
    "nelson5": Msg("2 of 3 batches beyond 2 sigma", "3 批中有 2 批超出 2 sigma"),
    "nelson6": Msg("4 of 5 batches beyond 1 sigma", "5 批中有 4 批超出 1 sigma"),
    "nelson7": Msg("15 batches in a row within 1 sigma (limits too wide?)", "连续 15 批在 1 sigma 内（控制限过宽？）"),
    "nelson8": Msg("8 batches in a row beyond 1 sigma on both sides", "连续 8 批在 1 sigma 之外（两侧）"),
}


def _fmt(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.4g}"


def _chart(values: np.ndarray, base: int, settings: MonitorSettings, charts: cc.ChartSettings) -> dict:
    limits = cc.limits_from(values[:base])
    out = cc.check(values[base:], limits, settings.rules, charts)
    return {"limits": limits, "offset": base, **out}


PRIORITY = ("beyond_limits", "cusum", "ewma", "moving_range")


def _chart_alerts(kind: str, chart: dict, values: np.ndarray, target: str, base: int, quiet: int,
                  predicted=None) -> list[dict]:
    """One alert per episode of the chart (any of its rules; `quiet` clear batches end an episode), named by the
    rule that fired first (the others firing on that batch are listed in the sentence)."""
    alerts, limits, flags = [], chart["limits"], chart["flags"]
    if not flags:
        return alerts
    fired = np.zeros(len(next(iter(flags.values()))), dtype=bool)
    for f in flags.values():
        fired |= f
    order = sorted(flags, key=lambda r: PRIORITY.index(r) if r in PRIORITY else len(PRIORITY))
    for pos in cc.episodes(fired, quiet):
        rules = [r for r in order if flags[r][pos]]
        rule, row, value = rules[0], base + int(pos), float(values[base + pos])
        up = chart["side"][pos] > 0 if rule != "cusum" else chart["cusum_hi"][pos] > chart["cusum_h"]
        alerts.append({"row": row, "kind": kind, "rule": rule, "column": target, "value": value,
                       **_chart_message(kind, rules, row, target, value, limits, up, predicted, chart, pos)})
    return alerts


def _chart_message(kind, rules, row, target, value, limits, up, predicted, chart, pos) -> dict:
    rule = rules[0]
    what = Msg("; ".join(RULE_TEXT[r] for r in rules), "；".join(RULE_TEXT[r].zh for r in rules))
    way, way_zh = ("up", "偏高") if up else ("down", "偏低")
    since = _shift_start(chart, pos) if rule in ("cusum", "ewma") else None
    since_en = f", starting about batch {since}" if since is not None else ""
    since_zh = f"，约从第 {since} 批开始" if since is not None else ""
    if kind == "outcome":
        msg = Msg(f"batch {row}: {target} {way} — {what}{since_en} ({_fmt(value)}; centre {_fmt(limits.center)}, "
                  f"sigma {_fmt(limits.sigma)}). Check the material, the settings actually used and the measurement "
                  f"of these batches; an intended change (a new recommendation) moves the baseline.",
                  f"第 {row} 批：{target} {way_zh} —— {what.zh}{since_zh}（{_fmt(value)}；中心 {_fmt(limits.center)}，"
                  f"sigma {_fmt(limits.sigma)}）。请检查这些批次的原料、实际使用的设定和测量；若是有意的改变（新的推荐），"
                  f"请重新选择基准期。")
    else:
        pred = _fmt(predicted[row]) if predicted is not None else "—"
        msg = Msg(f"batch {row}: measured {target} {_fmt(value + predicted[row]) if predicted is not None else ''} vs "
                  f"predicted {pred}, residual {way} — {what}{since_en}. The line no longer behaves as the model "
                  f"learned: check equipment, sensors and incoming material; if it persists, retrain with the new batches.",
                  f"第 {row} 批：{target} 实测 {_fmt(value + predicted[row]) if predicted is not None else ''}，预测 {pred}，"
                  f"残差{way_zh} —— {what.zh}{since_zh}。产线已不再按模型学到的规律运行：请检查设备、传感器和来料；"
                  f"若持续存在，请用新批次重新训练。")
    return {"message": str(msg), "zh": msg.zh}


def _shift_start(chart: dict, pos: int) -> int | None:
    """The batch after the CUSUM last stood at zero before `pos`: where a sustained shift likely began."""
    stat = chart["cusum_hi"] if chart["cusum_hi"][pos] >= -chart["cusum_lo"][pos] else -chart["cusum_lo"]
    zeros = np.flatnonzero(stat[:pos + 1] == 0)
    return None if not len(zeros) else int(zeros[-1] + 1 + chart.get("offset", 0))


def compliance(controls: dict[str, np.ndarray], windows: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Per recommended controllable: 1.0 inside its window, 0.0 outside, NaN when not measured."""
    out = {}
    for name, values in controls.items():
        low, high = windows[name]
        v = np.asarray(values, dtype=float)
        out[name] = np.where(np.isfinite(v), ((v >= low) & (v <= high)).astype(float), np.nan)
    return out


def _compliance_alerts(controls, inside: dict[str, np.ndarray], windows, base: int) -> list[dict]:
    alerts = []
    for name, ok in inside.items():
        low, high = windows[name]
        for pos in cc.episodes(ok[base:] == 0):
            row, value = base + int(pos), float(controls[name][base + pos])
            side, side_zh = ("above", "高于") if value > high else ("below", "低于")
            msg = Msg(f"batch {row}: {name} = {_fmt(value)} is {side} its recommended window [{_fmt(low)}, "
                      f"{_fmt(high)}]. Set it back into the window, or check the controller and the recipe loaded.",
                      f"第 {row} 批：{name} = {_fmt(value)}，{side_zh}推荐窗口 [{_fmt(low)}, {_fmt(high)}]。"
                      f"请调回窗口内，或检查控制器和下发的配方。")
            alerts.append({"row": row, "kind": "compliance", "rule": "window", "column": name, "value": value,
                           "message": str(msg), "zh": msg.zh})
    return alerts


def _drift(batches: Batches, reference: dict[str, np.ndarray], base: int, settings: MonitorSettings):
    columns = [c for c in batches.inputs if c in reference]
    results, alerts = {}, []
    for name in columns:
        res = dr.drift(reference[name], batches.inputs[name], len(columns), settings.drift)
        res["flags"][:base] = False
        results[name] = res
        for row in cc.episodes(res["flags"], settings.drift.window):
            row = int(row)
            stat, p = float(res["stat"][row]), float(res["p"][row])
            label = "KS D" if settings.drift.method == "ks" else "PSI"
            msg = Msg(f"batch {row}: {name} has moved away from the training data over the last "
                      f"{settings.drift.window} batches ({label} {stat:.3g}, p {p:.2g}). The model has not seen these "
                      f"values: check the sensor and the incoming material; predictions here are less reliable.",
                      f"第 {row} 批：最近 {settings.drift.window} 批的 {name} 已偏离训练数据（{label} {stat:.3g}，"
                      f"p {p:.2g}）。模型没见过这些数值：请检查传感器和来料；此时的预测不太可靠。")
            alerts.append({"row": row, "kind": "drift", "rule": settings.drift.method, "column": name,
                           "value": float(batches.inputs[name][row]), "message": str(msg), "zh": msg.zh})
    return results, alerts


def _persisting(flags: np.ndarray, persist: int) -> np.ndarray:
    """True where at least `persist` of the last 2·persist batches are flagged."""
    if not len(flags):
        return flags.astype(bool)
    counts = np.convolve(flags.astype(np.int32), np.ones(2 * persist, dtype=np.int32))[:len(flags)]
    return counts >= persist


def evaluate(batches: Batches, windows: dict[str, tuple], reference: dict[str, np.ndarray], *, target: str,
             cv_rmse: float | None = None, expected_uplift: float | None = None,
             settings: MonitorSettings = MonitorSettings()) -> dict:
    """Verdicts on every batch; see the module docstring."""
    y = np.asarray(batches.outcome, dtype=float)
    n = len(y)
    base = min(settings.baseline, n)
    if base < 3:
        raise ValueError(Msg(f"the baseline period needs at least 3 batches (has {base})",
                             f"基准期至少需要 3 批（现有 {base} 批）"))
    pred = None if batches.predicted is None else np.asarray(batches.predicted, dtype=float)
    resid = None if pred is None else y - pred
    outcome_chart = _chart(y, base, settings, settings.outcome_charts)
    alerts = _chart_alerts("outcome", outcome_chart, y, target, base, settings.quiet)
    resid_chart = None
    if resid is not None and np.isfinite(resid[:base]).sum() >= 3:
        resid_chart = _chart(resid, base, settings, settings.charts)
        alerts += _chart_alerts("residual", resid_chart, resid, target, base, settings.quiet, pred)
    inside = compliance(batches.controls, windows)
    alerts += _compliance_alerts(batches.controls, inside, windows, base)
    all_inside = np.ones(n, dtype=bool)
    for ok in inside.values():
        all_inside &= ok == 1
    drift_res, drift_alerts = _drift(batches, reference, base, settings)
    alerts += drift_alerts
    retrain_flags, retrain_alerts = _retrain(resid_chart, drift_res, n, base, settings, target)
    alerts += retrain_alerts
    for a in alerts:
        a["time"] = None if batches.time is None else batches.time[a["row"]]
    alerts.sort(key=lambda a: (a["row"], a["kind"], a["rule"], a["column"]))
    trials = y[base:][all_inside[base:]] if inside else y[base:]
    summary = {
        "batches": n, "baseline": base, "monitored": n - base, "target": target, "rules": list(settings.rules),
        "sigma_limits": {"outcome": settings.outcome_charts.sigma_limit, "residual": settings.charts.sigma_limit},
        "limits": {"outcome": outcome_chart["limits"].to_dict(),
                   "residual": resid_chart["limits"].to_dict() if resid_chart else None},
        "alerts": _count(alerts),
        "compliance": {"share": float(all_inside[base:].mean()) if n > base and inside else None,
                       "columns": {c: _share(ok[base:]) for c, ok in inside.items()}},
        "drift": {c: {"stat": _last(r["stat"]), "p": _last(r["p"]), "flagged_batches": int(r["flags"].sum()),
                      "threshold": r["threshold"]} for c, r in drift_res.items()},
        "accuracy": benefit.accuracy(resid[base:] if resid is not None else [], cv_rmse, settings.accuracy_window),
        "benefit": benefit.uplift(y[:base], trials, expected=expected_uplift, goal=settings.goal),
        "retrain": {"suggested": bool(retrain_flags[-1]) if n else False,
                    "reasons": _retrain_reasons(resid_chart, drift_res, settings)},
    }
    series = {"outcome": y, "predicted": pred, "residual": resid, "compliant": all_inside.astype(float),
              "compliance": inside, "outcome_chart": outcome_chart, "residual_chart": resid_chart,
              "drift": drift_res, "baseline": base}
    return {"alerts": alerts, "summary": summary, "series": series}


def _retrain(resid_chart, drift_res, n: int, base: int, settings: MonitorSettings, target: str):
    flags = np.zeros(n, dtype=bool)
    if resid_chart is not None and resid_chart["flags"]:
        any_flag = np.zeros(n - base, dtype=bool)
        for f in resid_chart["flags"].values():
            any_flag |= f
        flags[base:] |= _persisting(any_flag, settings.persist)
    for r in drift_res.values():
        flags |= _persisting(r["flags"], settings.persist)
    alerts = []
    for row in cc.episodes(flags, 2 * settings.persist):
        msg = Msg(f"batch {int(row)}: residual or drift alarms have persisted for {settings.persist} of the last "
                  f"{2 * settings.persist} batches — the model is out of date for this line. Retrain with the new "
                  f"batches (and the trials) added.",
                  f"第 {int(row)} 批：残差或漂移报警在最近 {2 * settings.persist} 批中已持续 {settings.persist} 批 —— "
                  f"模型已不适合当前产线。请加入新批次（和试验数据）重新训练。")
        alerts.append({"row": int(row), "kind": "retrain", "rule": "persist", "column": target, "value": None,
                       "message": str(msg), "zh": msg.zh})
    return flags, alerts


def _retrain_reasons(resid_chart, drift_res, settings) -> list[dict]:
    reasons = []
    if resid_chart is not None:
        recent = sum(int(f[-2 * settings.persist:].sum()) for f in resid_chart["flags"].values())
        if recent:
            reasons.append(Msg(f"residual alarms on {recent} of the last {2 * settings.persist} batch checks",
                               f"最近 {2 * settings.persist} 批中有 {recent} 次残差报警").to_dict())
    for c, r in drift_res.items():
        recent = int(r["flags"][-2 * settings.persist:].sum())
        if recent:
            reasons.append(Msg(f"{c} drifted in {recent} of the last {2 * settings.persist} batches",
                               f"最近 {2 * settings.persist} 批中 {c} 有 {recent} 批漂移").to_dict())
    return reasons


def _count(alerts: list[dict]) -> dict:
    out: dict[str, int] = {}
    for a in alerts:
        out[a["kind"]] = out.get(a["kind"], 0) + 1
    return {"total": len(alerts), **out}


def _share(ok: np.ndarray) -> float | None:
    known = ok[np.isfinite(ok)]
    return float(known.mean()) if len(known) else None


def _last(x: np.ndarray) -> float | None:
    finite = x[np.isfinite(x)]
    return float(finite[-1]) if len(finite) else None
