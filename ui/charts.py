"""Plotly figures drawn from the engine's plain results (profiles, result.json); no computation beyond layout."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ui.i18n import t

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 320}


def missing_bar(profile: dict[str, Any]) -> go.Figure:
    cols = profile["columns"]
    fig = go.Figure(go.Bar(x=[c["name"] for c in cols], y=[c["missing_pct"] for c in cols],
                           marker_color=["#d62728" if c["missing_pct"] > 20 else "#1f77b4" for c in cols]))
    fig.update_layout(title=t("chart_missing"), yaxis_title="%", **_LAYOUT)
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


def key_parameters(key_params: list[dict[str, Any]]) -> go.Figure:
    ranked = list(reversed(key_params))
    fig = go.Figure(go.Bar(y=[k["name"] for k in ranked], x=[100 * k["importance"] for k in ranked],
                           error_x={"type": "data", "array": [100 * (k.get("importance_std") or 0) for k in ranked]},
                           orientation="h",
                           marker_color=["#2ca02c" if k.get("direction", 0) > 0 else "#d62728" if k.get("direction", 0)
                                         < 0 else "#7f7f7f" for k in ranked]))
    fig.update_layout(title=t("chart_key_parameters"), xaxis_title=t("chart_importance_pct"),
                      **{**_LAYOUT, "height": max(260, 28 * len(ranked) + 80)})
    return fig


def fold_metrics(metrics: dict[str, Any], names: list[str]) -> go.Figure:
    fig = go.Figure()
    for name in names:
        folds = metrics[name].get("folds") or []
        fig.add_trace(go.Box(y=folds, name=name, boxpoints="all", jitter=0.2, pointpos=0))
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
