"""Plotly figures of a monitor report (engine.api.monitor_report / check_monitor): control charts with their limits
and flagged batches, compliance over time, measured benefit with its interval. Layout only — every number comes
from the engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from ui.i18n import t

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 300, "showlegend": True,
           "legend": {"orientation": "h", "y": -0.2}}


def _flagged(chart: dict) -> np.ndarray:
    flags = np.zeros(len(chart["z"]), dtype=bool)
    for f in chart["flags"].values():
        flags |= f
    return flags


def individuals(values: np.ndarray, chart: dict, sigma_limit: float, title: str) -> go.Figure:
    """The series with the baseline shaded, centre line, ± limits, and the batches a rule flagged in red."""
    lim, base = chart["limits"], chart["offset"]
    x = np.arange(len(values))
    fig = go.Figure(go.Scatter(x=x, y=values, mode="lines+markers", marker={"size": 4}, name=t("mon_value"),
                               line={"width": 1, "color": "#1f77b4"}))
    flagged = np.flatnonzero(_flagged(chart)) + base
    if len(flagged):
        fig.add_trace(go.Scatter(x=flagged, y=values[flagged], mode="markers", name=t("mon_flagged"),
                                 marker={"color": "#d62728", "size": 8, "symbol": "x"}))
    for y, dash, name in ((lim.center, "solid", t("mon_centre")),
                          (lim.center + sigma_limit * lim.sigma, "dash", t("mon_limits")),
                          (lim.center - sigma_limit * lim.sigma, "dash", None)):
        fig.add_trace(go.Scatter(x=[0, len(values) - 1], y=[y, y], mode="lines", name=name or "", showlegend=bool(name),
                                 line={"color": "#7f7f7f", "dash": dash, "width": 1}, hoverinfo="skip"))
    fig.add_vrect(x0=-0.5, x1=base - 0.5, fillcolor="#bbbbbb", opacity=0.15, line_width=0,
                  annotation_text=t("mon_baseline"), annotation_position="top left")
    fig.update_layout(title=title, xaxis_title=t("mon_batch"), **_LAYOUT)
    return fig


def moving_range(values: np.ndarray, chart: dict, title: str) -> go.Figure:
    """The moving range |x_i − x_(i−1)| with its upper limit (D4 × the baseline's average moving range)."""
    lim, base, ucl = chart["limits"], chart["offset"], chart["mr_limit"]
    mr = np.abs(np.diff(np.asarray(values, dtype=float), prepend=np.nan))
    x = np.arange(len(mr))
    fig = go.Figure(go.Scatter(x=x, y=mr, mode="lines+markers", marker={"size": 3}, name=t("mon_mr"),
                               line={"width": 1, "color": "#9467bd"}))
    over = np.flatnonzero(np.nan_to_num(mr) > ucl)
    over = over[over >= base]
    if len(over):
        fig.add_trace(go.Scatter(x=over, y=mr[over], mode="markers", name=t("mon_flagged"),
                                 marker={"color": "#d62728", "size": 8, "symbol": "x"}))
    for y, dash, name in ((lim.mr_mean, "solid", t("mon_centre")), (ucl, "dash", t("mon_limits"))):
        fig.add_trace(go.Scatter(x=[0, len(mr) - 1], y=[y, y], mode="lines", name=name, hoverinfo="skip",
                                 line={"color": "#7f7f7f", "dash": dash, "width": 1}))
    fig.add_vrect(x0=-0.5, x1=base - 0.5, fillcolor="#bbbbbb", opacity=0.15, line_width=0)
    fig.update_layout(title=title, xaxis_title=t("mon_batch"), **{**_LAYOUT, "height": 220})
    return fig


def ewma_cusum(chart: dict, title: str) -> go.Figure:
    """The EWMA (with its limits) and the CUSUM (with its decision interval) of the standardised series."""
    base = chart["offset"]
    x = np.arange(base, base + len(chart["ewma"]))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=chart["ewma"], mode="lines", name="EWMA", line={"color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=x, y=chart["ewma_limit"], mode="lines", name=t("mon_ewma_limits"),
                             line={"color": "#1f77b4", "dash": "dash", "width": 1}))
    fig.add_trace(go.Scatter(x=x, y=-chart["ewma_limit"], mode="lines", showlegend=False,
                             line={"color": "#1f77b4", "dash": "dash", "width": 1}))
    fig.add_trace(go.Scatter(x=x, y=chart["cusum_hi"] / chart["cusum_h"], mode="lines", name=t("mon_cusum"),
                             line={"color": "#ff7f0e"}, yaxis="y2"))
    fig.add_trace(go.Scatter(x=x, y=chart["cusum_lo"] / chart["cusum_h"], mode="lines", showlegend=False,
                             line={"color": "#ff7f0e"}, yaxis="y2"))
    reach = max(1.5, 1.1 * float(np.nanmax(np.abs(np.r_[chart["cusum_hi"], chart["cusum_lo"], 0]))) / chart["cusum_h"])
    fig.update_layout(title=title, xaxis_title=t("mon_batch"), yaxis_title=t("mon_ewma_axis"),
                      yaxis2={"overlaying": "y", "side": "right", "title": t("mon_cusum_axis"), "range": [-reach, reach],
                              "showgrid": False, "zeroline": False},
                      **_LAYOUT)
    return fig


def compliance(series: dict, window: int = 20) -> go.Figure:
    """Share of recent batches inside each recommended window (rolling over `window` batches)."""
    fig = go.Figure()
    base = series["baseline"]
    for name, ok in {**series["compliance"], t("mon_all_windows"): series["compliant"]}.items():
        ok = np.asarray(ok, dtype=float)
        kernel = np.ones(window)
        known = np.isfinite(ok)
        share = np.convolve(np.where(known, ok, 0), kernel)[:len(ok)] / np.maximum(
            np.convolve(known.astype(float), kernel)[:len(ok)], 1)
        fig.add_trace(go.Scatter(x=np.arange(len(ok)), y=share * 100, mode="lines", name=name))
    fig.add_vrect(x0=-0.5, x1=base - 0.5, fillcolor="#bbbbbb", opacity=0.15, line_width=0)
    fig.update_layout(title=t("mon_compliance_chart", window=window), xaxis_title=t("mon_batch"),
                      yaxis={"title": "%", "range": [0, 105]}, **_LAYOUT)
    return fig


def benefit(b: dict[str, Any], target: str) -> go.Figure:
    """Baseline mean vs the mean of the batches on the recommended settings, the uplift's interval as error bar."""
    fig = go.Figure()
    if b.get("value") is not None:
        fig.add_trace(go.Bar(x=[t("mon_baseline"), t("mon_trials")], y=[b["baseline_mean"], b["trial_mean"]],
                             error_y={"type": "data", "symmetric": False, "array": [0, b["high"] - b["value"]],
                                      "arrayminus": [0, b["value"] - b["low"]]},
                             marker_color=["#7f7f7f", "#2ca02c"]))
        low = min(b["baseline_mean"], b["trial_mean"] - (b["value"] - b["low"]))
        high = max(b["baseline_mean"], b["trial_mean"] + (b["high"] - b["value"]))
        pad = (high - low) * 0.5 or 1
        fig.update_yaxes(range=[low - pad, high + pad])
    fig.update_layout(title=t("mon_benefit_chart", target=target), **{**_LAYOUT, "showlegend": False})
    return fig
