"""Predictive-maintenance report sections and figures (result.json `outputs.pdm`), as pure data, in zh and en.
The Results page draws the same figures (through engine.api.pdm_figures)."""

from __future__ import annotations

import plotly.graph_objects as go

from engine.report.text import num

_T = {
    "title": ("Predictive maintenance report", "预测性维护报告"),
    "pdm": ("Equipment health", "设备健康"),
    "task_rul": ("Remaining useful life (capped at {cap} steps), cross-validated by unit.",
                 "剩余使用寿命（上限 {cap} 步），按设备交叉验证。"),
    "task_horizon": ("Failure within the next {h} steps, alarm threshold set for {fa} false alarms per unit per {per}.",
                     "未来 {h} 步内是否故障；报警阈值按每台每{per} {fa} 次误报设定。"),
    "task_normal": ("Normal-behaviour model of {watch}: an alarm when the residual, averaged over time, stays high; "
                    "threshold set for {fa} false alarms per unit per {per}.",
                    "{watch} 的正常行为模型：残差经时间平均后持续偏高时报警；阈值按每台每{per} {fa} 次误报设定。"),
    "task_classification": ("Failure classifier (rows without unit and time); threshold chosen for F1 on other folds.",
                            "故障分类（无设备与时间的行）；阈值在其他折上按 F1 选取。"),
    "rmse": ("RMSE (steps)", "RMSE（步）"), "mae": ("MAE (steps)", "MAE（步）"),
    "nasa": ("NASA score per row", "每行 NASA 评分"), "last_row": ("RMSE at each unit's last row", "各设备最后一行的 RMSE"),
    "recall": ("Failures warned", "提前报警的故障"), "false": ("False alarms per unit-year", "每台每年误报"),
    "lead": ("Mean lead time", "平均提前量"), "auc": ("ROC-AUC", "ROC-AUC"), "f1": ("F1", "F1"),
    "ranking": ("Units ranked by risk now", "当前风险排序"), "time_axis": ("Time", "时间"), "unit": ("Unit", "设备"), "time": ("Last record", "最后记录"),
    "rul_now": ("RUL now", "当前剩余寿命"), "risk": ("Risk score", "风险分"), "alarm": ("Alarm", "报警"),
    "sensors": ("Sensors that drive the risk", "驱动风险的传感器"), "sensor": ("Sensor", "传感器"),
    "share": ("Share of importance", "重要性占比"),
    "curves": ("Health over time (out-of-fold: each unit predicted by models that never saw it)",
               "健康随时间变化（交叉验证外预测：每台设备由未见过它的模型预测）"),
    "timeline": ("Alarm timeline", "报警时间线"), "alarm_start": ("alarm", "报警"), "failure": ("failure", "故障"),
    "predicted": ("predicted", "预测"), "actual": ("actual (capped)", "实际（截断）"), "band": ("interval", "区间"),
    "alarm_level": ("alarm level", "报警线"), "yes": ("yes", "是"), "no": ("no", "否"), "hours": ("{v} h", "{v} 小时"),
    "steps": ("{v} steps", "{v} 步"),
    "scoring": ("Scoring live units: python -m engine score RUN --table NEW --latest gives each unit's current "
                "{what}.", "对在役设备打分：python -m engine score 运行 --table 新表 --latest 给出每台设备当前的{what}。"),
    "what_rul": ("remaining life with its interval", "剩余寿命及区间"),
    "what_alarm": ("risk score, alarm and state (normal-behaviour runs: also each temperature's expected value and "
                   "residual)", "风险分、是否报警与状态（正常行为模型还给出每个温度的期望值与残差）"),
    "per_year": ("year", "年"), "per_steps": ("365 steps", "365 步"),
}


def t(key: str, lang: str, **kw) -> str:
    en, zh = _T[key]
    text = zh if lang == "zh" else en
    return text.format(**kw) if kw else text


def is_pdm(result: dict) -> bool:
    return bool(((result.get("outputs") or {}).get("pdm") or {}).get("pdm"))


def _pdm(result: dict) -> dict:
    return result["outputs"]["pdm"]["pdm"]


def kpis(result: dict, lang: str) -> list[dict]:
    m, p = result.get("metrics") or {}, _pdm(result)
    task = p["task"]
    if task == "rul":
        items = [{"label": t("rmse", lang), "value": num(m["rmse"]["mean"]), "note": f"± {num(m['rmse']['std'])}"},
                 {"label": t("mae", lang), "value": num(m["mae"]["mean"])},
                 {"label": t("nasa", lang), "value": num(m["nasa_score"]["mean"])}]
        if m.get("last_row"):
            items.append({"label": t("last_row", lang), "value": num(m["last_row"]["rmse"])})
        return items
    if task == "classification":
        return [{"label": t("auc", lang), "value": num(m["auc"]["mean"]), "note": f"± {num(m['auc']['std'])}"},
                {"label": t("f1", lang), "value": num(m["f1"]["mean"]), "note": f"± {num(m['f1']['std'])}"}]
    a = m.get("alarms") or {}
    lead = (t("hours", lang, v=num(a["mean_lead_hours"])) if a.get("mean_lead_hours") is not None else
            t("steps", lang, v=num(a["mean_lead_steps"])) if a.get("mean_lead_steps") is not None else "—")
    return [{"label": t("recall", lang), "value": f"{a.get('caught', 0)} / {a.get('failures', 0)}",
             "note": f"{num(100 * (a.get('recall') or 0), 3)} %"},
            {"label": t("false", lang), "value": num(a.get("false_alarms_per_unit_year"))},
            {"label": t("lead", lang), "value": lead}]


def task_text(result: dict, lang: str) -> str:
    m, p = result.get("metrics") or {}, _pdm(result)
    per = t("per_year" if (m.get("alarms") or {}).get("per") == "year" else "per_steps", lang)
    fa = num((m.get("alarms") or {}).get("budget_per_unit_year"))
    return t(f"task_{p['task']}", lang, cap=num(p.get("cap")), h=p.get("horizon"), fa=fa, per=per,
             watch=", ".join(p.get("watch") or []))


def curves_figure(result: dict, lang: str, units: int = 6) -> go.Figure | None:
    p = _pdm(result)
    curves = p.get("curves") or []
    if not curves:
        return None
    fig = go.Figure()
    for c in curves[:units]:
        if c.get("low") is not None:
            fig.add_trace(go.Scatter(x=c["time"] + c["time"][::-1], y=c["high"] + c["low"][::-1], fill="toself",
                                     line=dict(width=0), opacity=0.15, showlegend=False, hoverinfo="skip",
                                     name=f"{c['unit']} {t('band', lang)}"))
        fig.add_trace(go.Scatter(x=c["time"], y=c["value"], mode="lines", name=f"{c['unit']} {t('predicted', lang)}"))
        if c.get("actual") is not None:
            fig.add_trace(go.Scatter(x=c["time"], y=c["actual"], mode="lines", line=dict(dash="dot", width=1),
                                     name=f"{c['unit']} {t('actual', lang)}"))
    if p.get("threshold") is not None and p["task"] != "rul":  # the alarm level the risk is compared with
        fig.add_hline(y=float(p["threshold"]), line=dict(dash="dash", color="#c23030", width=1),
                      annotation_text=t("alarm_level", lang))
    fig.update_layout(xaxis_title=t("time_axis", lang),
                      yaxis_title=t("rul_now" if p["task"] == "rul" else "risk", lang))
    return fig


def timeline_figure(result: dict, lang: str) -> go.Figure | None:
    p = _pdm(result)
    if not (p.get("alarms") or p.get("failures")):
        return None
    fig = go.Figure()
    for key, symbol, color in (("alarms", "triangle-up", "#d9822b"), ("failures", "x", "#c23030")):
        rows = p.get(key) or []
        fig.add_trace(go.Scatter(x=[r["time"] for r in rows], y=[r["unit"] for r in rows], mode="markers",
                                 marker=dict(symbol=symbol, size=10, color=color),
                                 name=t("alarm_start" if key == "alarms" else "failure", lang)))
    fig.update_layout(xaxis_title=t("time_axis", lang), yaxis_title=t("unit", lang))
    return fig


def ranking_rows(result: dict, lang: str, limit: int = 20) -> list[dict]:
    p = _pdm(result)
    rows = []
    for r in (p.get("ranking") or [])[:limit]:
        row = {t("unit", lang): r["unit"], t("time", lang): r.get("time") or ""}
        if "rul" in r:
            row[t("rul_now", lang)] = num(r["rul"])
            if r.get("low") is not None:
                row[t("band", lang)] = f"{num(r['low'])} – {num(r['high'])}"
        else:
            row[t("risk", lang)] = num(r["risk"])
            row[t("alarm", lang)] = t("yes" if r["alarm"] else "no", lang)
        rows.append(row)
    return rows


def sensor_rows(result: dict, lang: str) -> list[dict]:
    return [{t("sensor", lang): s["sensor"], t("share", lang): f"{num(100 * s['share'], 3)} %"}
            for s in _pdm(result).get("sensors") or []]


def sections(result: dict, lang: str, fig) -> list[dict]:
    """The PdM section of the report: the task and its cross-validated figures, units at risk, driving sensors,
    health curves and the alarm timeline."""
    blocks = [{"kind": "text", "text": task_text(result, lang)}, {"kind": "kpis", "items": kpis(result, lang)}]
    ranking = ranking_rows(result, lang)
    if ranking:
        blocks.append({"kind": "table", "title": t("ranking", lang), "columns": list(ranking[0]),
                       "rows": [list(r.values()) for r in ranking]})
    sensors = sensor_rows(result, lang)
    if sensors:
        blocks.append({"kind": "table", "title": t("sensors", lang), "columns": list(sensors[0]),
                       "rows": [list(r.values()) for r in sensors]})
    for title, figure in ((t("curves", lang), curves_figure(result, lang)), (t("timeline", lang),
                                                                              timeline_figure(result, lang))):
        if figure is not None:
            blocks.append({"kind": "text", "text": title})
            blocks.append(fig(figure))
    what = t("what_rul" if _pdm(result)["task"] == "rul" else "what_alarm", lang)
    blocks.append({"kind": "text", "text": t("scoring", lang, what=what)})
    return [{"id": "pdm", "title": t("pdm", lang), "blocks": blocks}]
