"""Results of a test-item reduction run: the reduction, the risk, the curve items kept → miss rate, the item lists.
Drawn from result.json's `test_reduction` block; no computation beyond layout."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from ui.i18n import bilingual, t
from ui.widgets import num


DECISION = {"upper_bound": "tr_decision_upper_bound", "median": "tr_decision_median"}
REASON = {"never_failed": "tr_reason_never_failed", "covered": "tr_reason_covered",
          "predicted": "tr_reason_predicted", "accepted_risk": "tr_reason_accepted_risk"}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def reduction_curve(block: dict[str, Any]) -> go.Figure:
    """Held-out miss rate (with its upper bound, and for kept items alone) and false alarms against items kept."""
    pts = block["curve"]
    kept = [p["kept"] for p in pts]
    series = [("miss_rate", "tr_curve_miss", {}), ("miss_high", "tr_curve_bound", {"dash": "dot"}),
              ("miss_rate_kept_only", "tr_curve_kept_only", {"dash": "dash"}),
              ("false_alarm_rate", "tr_curve_false_alarms", {"color": "#7f7f7f"})]
    fig = go.Figure([go.Scatter(x=kept, y=[100 * p[key] for p in pts], mode="lines", name=t(label), line=line)
                     for key, label, line in series])
    fig.add_hline(y=100 * block["decision"]["max_miss_rate"], line_dash="dash", line_color="#d62728",
                  annotation_text=t("tr_curve_limit"))
    fig.add_vline(x=block["items_kept"], line_color="#2ca02c", annotation_text=t("tr_curve_chosen"))
    fig.update_layout(title=t("tr_curve_title"), xaxis_title=t("tr_curve_x"), yaxis_title="%", height=360,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis={"autorange": "reversed"},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def show_test_reduction(result: dict[str, Any]) -> None:
    block = result["test_reduction"]
    st.subheader(t("tr_title"))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("tr_items"), f"{block['items_total']} → {block['items_kept']}", f"-{num(block['reduction_pct'])} %",
              delta_color="inverse")
    miss = block["miss_rate"]
    c2.metric(t("tr_miss"), _pct(miss["value"]), help=t("tr_miss_help"))
    c2.caption(t("tr_bounds", low=_pct(miss["low"]), high=_pct(miss["high"]), count=miss["count"], of=miss["of"]))
    c3.metric(t("tr_miss_kept_only"), _pct(block["miss_rate_kept_only"]["value"]))
    c3.caption(t("tr_bounds", low=_pct(block["miss_rate_kept_only"]["low"]),
                 high=_pct(block["miss_rate_kept_only"]["high"]), count=block["miss_rate_kept_only"]["count"],
                 of=block["miss_rate_kept_only"]["of"]))
    c4.metric(t("tr_false_alarms"), _pct(block["false_alarm_rate"]["value"]))
    cost = block["cost"]
    c4.caption(t("tr_cost", saved=num(cost["saved"]), total=num(cost["total"]), pct=num(cost["saved_pct"])))
    st.caption(t(DECISION[block["decision"]["criterion"]], folds=block["decision"]["folds"],
                 limit=_pct(block["decision"]["max_miss_rate"]), needed=block["decision"]["bad_needed"]))
    for warning in block.get("warnings") or []:
        st.warning(bilingual(warning))
    st.plotly_chart(reduction_curve(block), width="stretch")
    left, right = st.columns(2)
    left.markdown(f"**{t('tr_kept_items')}**")
    left.dataframe([{t("col_name"): k["name"], t("tr_col_fails"): k["fails"], t("tr_col_unique"): k["unique"],
                     t("tr_col_stability"): num(k["stability"]), t("tr_col_mandatory"): "✓" if k["mandatory"] else ""}
                    for k in block["kept"]], hide_index=True, width="stretch")
    right.markdown(f"**{t('tr_dropped_items')}**")
    right.dataframe([{t("col_name"): d["name"], t("tr_col_reason"): t(REASON[d["reason"]]),
                      t("tr_col_fails"): d["fails"],
                      t("tr_col_by"): ", ".join(c["name"] for c in d.get("covered_by", [])) or
                      ", ".join(p["name"] for p in (d.get("predicted_from") or {}).get("items", [])),
                      t("tr_col_stability"): num(d["stability"])} for d in block["dropped"]],
                     hide_index=True, width="stretch")
