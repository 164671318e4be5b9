"""Report section for big tables (issue 21): how many rows the run trained on, what was computed on samples, and the
learning curve (accuracy against rows used) when the table was larger than the memory budget."""

from __future__ import annotations

import plotly.graph_objects as go

from engine.report.text import num

_T = {
    "title": {"en": "Data size and learning curve", "zh": "数据规模与学习曲线"},
    "sampled": {"en": "The bound table has {total} rows ({table_mb} MB in memory), more than the memory budget of "
                      "{budget} MB: the model was trained on {used} rows, a sample spread evenly along {by}.",
                "zh": "绑定的数据表有 {total} 行（内存中约 {table_mb} MB），超过内存预算 {budget} MB：模型在 {used} 行上训练，"
                      "样本沿 {by} 均匀分层抽取。"},
    "whole": {"en": "The model was trained on all {used} rows ({table_mb} MB in memory; memory budget {budget} MB).",
              "zh": "模型在全部 {used} 行上训练（内存中约 {table_mb} MB；内存预算 {budget} MB）。"},
    "samples": {"en": "On a big table the model search picks families and settings on samples of at most {search} rows; "
                      "every outer fold still refits on all its training rows and is scored on all its test rows. "
                      "Key parameters (SHAP) come from {explain} test rows.",
                "zh": "数据表较大时，模型搜索在至多 {search} 行的样本上选择模型族和参数；各外层折仍在其全部训练行上重新拟合、"
                      "在全部测试行上评分。关键参数（SHAP）基于 {explain} 个测试行。"},
    "curve": {"en": "Learning curve: the default LightGBM's {metric} on outer fold {fold}'s test rows against the "
                    "training rows used. {verdict}",
              "zh": "学习曲线：默认 LightGBM 在外层第 {fold} 折测试行上的 {metric} 随训练行数的变化。{verdict}"},
    "axis_rows": {"en": "training rows used", "zh": "所用训练行数"},
    "stratum_time": {"en": "time ({col})", "zh": "时间（{col}）"},
    "stratum_target": {"en": "the target ({col})", "zh": "目标（{col}）"},
    "stratum_none": {"en": "the row order", "zh": "行顺序"},
}


def t(key: str, lang: str, **kw) -> str:
    entry = _T[key]
    return (entry.get(lang) or entry["en"]).format(**kw)


def stratum_words(scale: dict, lang: str) -> str:
    role = scale.get("stratum_role")
    return t(f"stratum_{role}" if role in ("time", "target") else "stratum_none", lang, col=scale.get("stratified_by"))


def curve_figure(curve: dict, lang: str) -> go.Figure:
    points = curve.get("points") or []
    metric = str(curve.get("metric", "")).upper().replace("R2", "R²")
    fig = go.Figure(go.Scatter(x=[p["rows"] for p in points], y=[p["mean"] for p in points], mode="lines+markers",
                               name=metric))
    fig.update_layout(xaxis_title=t("axis_rows", lang), yaxis_title=metric, xaxis_type="log", xaxis_tickformat="~s")
    return fig


def sections(result: dict, lang: str, section, fig) -> list[dict]:
    """[the data-size section] when the run sampled its table or treated it as big; else none."""
    scale = result.get("scale") or {}
    if not (scale.get("sampled") or scale.get("big_table") or (scale.get("learning_curve") or {}).get("points")):
        return []   # a table read whole and small: nothing about its size is worth a section
    blocks = []
    if scale.get("rows_used") is not None:
        key = "sampled" if scale.get("sampled") else "whole"
        blocks.append({"kind": "text", "text": t(key, lang, total=f"{scale.get('rows_total') or 0:,}",
                                                 used=f"{scale.get('rows_used') or 0:,}",
                                                 table_mb=num(scale.get("table_mb")), budget=num(scale.get("budget_mb")),
                                                 by=stratum_words(scale, lang))})
    if scale.get("big_table"):
        blocks.append({"kind": "text", "text": t("samples", lang, search=f"{scale.get('search_rows_max', 0):,}",
                                                 explain=f"{scale.get('explain_rows', 0):,}")})
    curve = scale.get("learning_curve")
    if curve and curve.get("points"):
        verdict = (curve.get("verdict") or {}).get(lang) or (curve.get("verdict") or {}).get("en", "")
        blocks.append({"kind": "text", "text": t("curve", lang, metric=str(curve.get("metric")).upper().replace(
            "R2", "R²"), fold=curve.get("fold"), verdict=verdict)})
        blocks.append(fig(curve_figure(curve, lang)))
    if not blocks:
        return []
    return [{"id": "scale", "title": t("title", lang), "blocks": blocks}]
