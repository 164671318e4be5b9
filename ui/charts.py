"""Plotly figures drawn from the engine's plain results (profiles, result.json); no computation beyond layout."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ui.i18n import choice_label, t

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 320}


def missing_bar(profile: dict[str, Any]) -> go.Figure:
    cols = profile["columns"]
    fig = go.Figure(go.Bar(x=[c["name"] for c in cols], y=[c["missing_pct"] for c in cols],
                           marker_color=["#d62728" if c["missing_pct"] > 20 else "#1f77b4" for c in cols]))
    fig.update_layout(title=t("chart_missing"), yaxis_title="%", **_LAYOUT)
    return fig


def distribution(column: dict[str, Any]) -> go.Figure:
    """A profiled column's distribution: bins of a numeric column, its most common values otherwise."""
    return histogram(column) if "edges" in column["histogram"] else top_values(column)


def top_values(column: dict[str, Any]) -> go.Figure:
    hist = column["histogram"]
    labels = [str(v["value"]) for v in hist.get("top") or []]
    counts = [v["count"] for v in hist.get("top") or []]
    if hist.get("other"):
        labels, counts = labels + [t("chart_other_values")], counts + [hist["other"]]
    fig = go.Figure(go.Bar(x=labels, y=counts, marker_line_width=0))
    fig.update_layout(title=t("chart_histogram", column=column["name"]), yaxis_title=t("chart_count"),
                      xaxis_type="category", **_LAYOUT)
    return fig


def histogram(column: dict[str, Any]) -> go.Figure:
    hist = column["histogram"]
    edges, counts = hist["edges"], hist["counts"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    fig = go.Figure(go.Bar(x=centres, y=counts, width=widths, marker_line_width=0))
    fig.update_layout(title=t("chart_histogram", column=column["name"]), yaxis_title=t("chart_count"),
                      bargap=0.02, **_LAYOUT)
    return fig


def key_parameters(key_params: list[dict[str, Any]], goal: str = "maximize") -> go.Figure:
    """Importance bars coloured by the goal: green where a higher value helps (raises a target to maximise, lowers
    one to minimise), red where it hurts."""
    ranked = list(reversed(key_params))
    good = -1 if goal == "minimize" else 1
    fig = go.Figure(go.Bar(y=[k["name"] for k in ranked], x=[100 * k["importance"] for k in ranked],
                           error_x={"type": "data", "array": [100 * (k.get("importance_std") or 0) for k in ranked]},
                           orientation="h",
                           marker_color=["#2ca02c" if good * k.get("direction", 0) > 0 else "#d62728"
                                         if good * k.get("direction", 0) < 0 else "#7f7f7f" for k in ranked]))
    fig.update_layout(title=t("chart_key_parameters" if good > 0 else "fh_chart_key_parameters_min"), xaxis_title=t("chart_importance_pct"),
                      **{**_LAYOUT, "height": max(260, 28 * len(ranked) + 80)})
    return fig


def fold_metrics(metrics: dict[str, Any], names: list[str]) -> go.Figure:
    fig = go.Figure()
    for name in names:
        folds = metrics[name].get("folds") or []
        fig.add_trace(go.Box(y=folds, name=choice_label(f"metric.{name}"), boxpoints="all", jitter=0.2, pointpos=0))
    fig.update_layout(title=t("chart_folds"), showlegend=False, **{**_LAYOUT, "height": 240})
    return fig


def outcome_band(predicted: dict[str, Any], what_if: dict[str, Any] | None) -> go.Figure:
    rows = [(t("baseline"), predicted.get("baseline") or {}), (t("recommended"), predicted.get("recommended") or {})]
    if what_if:
        rows.append((t("what_if"), what_if))
    rows = [(label, r) for label, r in rows if r.get("value") is not None]
    fig = go.Figure(go.Scatter(
        x=[label for label, _ in rows], y=[r["value"] for _, r in rows], mode="markers",
        marker={"size": 14, "color": ["#7f7f7f", "#2ca02c", "#1f77b4"][:len(rows)]},
        error_y={"type": "data", "symmetric": False, "array": [r["high"] - r["value"] for _, r in rows],
                 "arrayminus": [r["value"] - r["low"] for _, r in rows]}))
    fig.update_layout(title=t("chart_outcome", target=predicted.get("target", "")), **_LAYOUT)
    return fig


def curve(c: dict[str, Any], target: str) -> go.Figure:
    """A parameter curve: mean prediction (PD), the 10–90 % band of individual rows, where the data lies."""
    fig = go.Figure()
    hist = c.get("histogram") or {}
    if hist.get("counts"):
        edges = hist["edges"]
        fig.add_trace(go.Bar(x=[(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])], y=hist["counts"], yaxis="y2",
                             width=[b - a for a, b in zip(edges[:-1], edges[1:])], name=t("chart_data"),
                             marker_color="rgba(127,127,127,0.25)", hoverinfo="skip"))
    if c.get("ice_low") and c.get("ice_high"):
        fig.add_trace(go.Scatter(x=c["grid"] + c["grid"][::-1], y=c["ice_high"] + c["ice_low"][::-1], fill="toself",
                                 fillcolor="rgba(31,119,180,0.15)", line={"width": 0}, name=t("chart_band"),
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=c["grid"], y=c["pd"], mode="lines+markers", name=t("chart_mean_prediction"),
                             line={"color": "#1f77b4", "width": 3}))
    if c.get("best_value") is not None and c.get("kind") == "numeric":
        fig.add_vline(x=c["best_value"], line_dash="dot", line_color="#2ca02c")
    fig.update_layout(title=t("chart_curve", name=c["name"], target=target), xaxis_title=c["name"],
                      yaxis={"title": target}, yaxis2={"overlaying": "y", "side": "right", "showgrid": False,
                                                       "title": t("chart_count")},
                      legend={"orientation": "h", "y": -0.25}, **{**_LAYOUT, "height": 360})
    return fig


def predicted_vs_actual(pva: dict[str, list], target: str, title_key: str = "chart_pva") -> go.Figure:
    actual, predicted = pva["actual"], pva["predicted"]
    lo, hi = min(actual + predicted), max(actual + predicted)
    fig = go.Figure([go.Scatter(x=actual, y=predicted, mode="markers", marker={"size": 5, "opacity": 0.6},
                                name=t("chart_rows")),
                     go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line={"dash": "dash", "color": "#7f7f7f"},
                                name=t("chart_perfect"))])
    fig.update_layout(title=t(title_key, target=target), xaxis_title=t("chart_actual"),
                      yaxis_title=t("chart_predicted"), showlegend=False, **_LAYOUT)
    return fig


def pipeline_dot(pipeline, titles: dict[str, Any]) -> str:
    """DOT text of a compiled pipeline with the template's step titles in the current language."""
    from ui.i18n import bilingual

    def node(step_id: str | None) -> str:
        return f'"{step_id or "data"}"'

    lines = ["digraph pipeline {", '  rankdir=LR; node [shape=box, style=rounded, fontname="sans-serif"];',
             f'  "data" [shape=cylinder, label="{t("dag_data")}"];']
    for step in pipeline.steps:
        lines.append(f'  {node(step.id)} [label="{bilingual(titles.get(step.id)) or step.id}\\n{step.op.id}"];')
        lines += [f"  {node(ref.step)} -> {node(step.id)};" for ref in step.inputs.values()]
    return "\n".join(dict.fromkeys(lines + ["}"]))
