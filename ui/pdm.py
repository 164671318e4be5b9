"""The Results view of a predictive-maintenance run: figures, units at risk, sensors, health curves, alarms.
Everything comes ready from engine.api.pdm_view; this only lays it out."""

from __future__ import annotations

import streamlit as st


def show_pdm(view: dict) -> None:
    titles = view["titles"]
    st.subheader(titles["pdm"])
    st.caption(view["task"])
    cols = st.columns(len(view["kpis"]))
    for col, k in zip(cols, view["kpis"]):
        col.metric(k["label"], k["value"], help=k.get("note") or None)
    left, right = st.columns([3, 2])
    with left:
        if view["ranking"]:
            st.markdown(f"**{titles['ranking']}**")
            st.dataframe(view["ranking"], hide_index=True, width="stretch")
    with right:
        if view["sensors"]:
            st.markdown(f"**{titles['sensors']}**")
            st.dataframe(view["sensors"], hide_index=True, width="stretch")
    if view["curves"] is not None:
        st.markdown(f"**{titles['curves']}**")
        st.plotly_chart(view["curves"], width="stretch")
    if view["timeline"] is not None:
        st.markdown(f"**{titles['timeline']}**")
        st.plotly_chart(view["timeline"], width="stretch")
