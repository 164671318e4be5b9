"""Results page: how many rows the run trained on, what ran on samples, and the learning curve (issue 21)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ui.i18n import lang, t
from ui.widgets import num


def show_scale(result: dict) -> None:
    scale = result.get("scale") or {}
    if not scale or not (scale.get("sampled") or scale.get("big_table") or scale.get("learning_curve")):
        return
    st.subheader(t("sc_title"))
    role = scale.get("stratum_role")
    by = t(f"sc_stratum_{role}" if role in ("time", "target") else "sc_stratum_none", col=scale.get("stratified_by"))
    if scale.get("rows_used") is not None:
        st.write(t("sc_sampled" if scale.get("sampled") else "sc_whole", total=f"{scale.get('rows_total') or 0:,}",
                   used=f"{scale.get('rows_used') or 0:,}", table_mb=num(scale.get("table_mb")),
                   budget=num(scale.get("budget_mb")), by=by))
    if scale.get("big_table"):
        st.caption(t("sc_samples", search=f"{scale.get('search_rows_max', 0):,}",
                     explain=f"{scale.get('explain_rows', 0):,}"))
    curve = scale.get("learning_curve") or {}
    points = curve.get("points") or []
    if points:
        metric = str(curve.get("metric", "")).upper().replace("R2", "R²")
        fig = go.Figure(go.Scatter(x=[p["rows"] for p in points], y=[p["mean"] for p in points],
                                   mode="lines+markers", name=metric))
        fig.update_layout(xaxis_title=t("sc_axis_rows"), yaxis_title=metric, xaxis_type="log", xaxis_tickformat="~s",
                          height=300, margin=dict(l=50, r=20, t=20, b=40))
        st.plotly_chart(fig, width="stretch")
        verdict = curve.get("verdict") or {}
        st.caption(t("sc_curve_caption", fold=curve.get("fold"), verdict=verdict.get(lang()) or verdict.get("en", "")))


def budget_caption() -> str:
    """The memory budget setting, in the page's language (label and help from engine.core.memory)."""
    from engine.core.memory import MEMORY_BUDGET

    zh = lang() == "zh"
    return t("sc_budget_caption", label=MEMORY_BUDGET.label.zh if zh else str(MEMORY_BUDGET.label),
             mb=num(MEMORY_BUDGET.mb()), source=MEMORY_BUDGET.source(),
             help=MEMORY_BUDGET.help.zh if zh else str(MEMORY_BUDGET.help))
