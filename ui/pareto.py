"""The recipe-tuning results: cost at baseline vs recommendation and the quality-vs-cost Pareto front (plain data
from result.json; no computation beyond layout)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui.i18n import t
from ui.widgets import num


def pareto_chart(front: list[dict[str, Any]], predicted: dict[str, Any]) -> go.Figure:
    """Quality (with its band) against cost; the baseline and the recommendation marked."""
    cost = [e["cost"] for e in front]
    quality = [e["quality"]["value"] for e in front]
    band = [[e["quality"]["value"] - e["quality"]["low"] for e in front],
            [e["quality"]["high"] - e["quality"]["value"] for e in front]]
    hover = [t("pareto_hover", budget=num(e["budget"]), status=e["status"],
               gap=num(100 * e["gap"], 3) if e.get("gap") is not None else "—") for e in front]
    fig = go.Figure(go.Scatter(x=cost, y=quality, mode="lines+markers", name=t("pareto_front"), text=hover,
                               error_y={"type": "data", "symmetric": False, "array": band[1], "arrayminus": band[0],
                                        "thickness": 1}))
    money = predicted.get("cost") or {}
    for key, symbol in (("baseline", "x"), ("recommended", "star")):
        if money.get(key) is not None:
            fig.add_trace(go.Scatter(x=[money[key]], y=[predicted[key]["value"]], mode="markers", name=t(key),
                                     marker={"symbol": symbol, "size": 14}))
    fig.update_layout(title=t("pareto_title"), xaxis_title=t("pareto_cost"), yaxis_title=predicted.get("target", ""),
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=360)
    return fig


def show_tuning(result: dict[str, Any]) -> None:
    """Cost figures and the front, when the run is a recipe tuning (nothing otherwise)."""
    predicted, front = result.get("predicted") or {}, (result.get("outputs") or {}).get("pareto") or []
    money = predicted.get("cost")
    if not money:
        return
    st.subheader(t("tuning_cost"))
    c1, c2, c3 = st.columns(3)
    c1.metric(t("cost_baseline"), num(money["baseline"]))
    c2.metric(t("cost_recommended"), num(money["recommended"]), f"{num(money['change'])} ({num(money.get('pct'), 2)} %)",
              delta_color="inverse")
    c3.metric(t("cost_budget"), num(money.get("budget")) if money.get("budget") is not None else "—")
    solver = predicted.get("solver") or {}
    st.caption(t("tuning_solver", status=solver.get("status"),
                 gap=num(100 * solver["gap"], 3) if solver.get("gap") is not None else "—",
                 verified=t("tuning_verified") if (predicted.get("verification") or {}).get("ok")
                 else t("tuning_unverified")))
    if front:
        st.plotly_chart(pareto_chart(front, predicted), width="stretch")
        st.caption(t("pareto_help"))
