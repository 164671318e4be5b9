"""The energy templates' saving on the results page: % of the energy used and money per year, with intervals."""

from __future__ import annotations

import streamlit as st

from ui.i18n import bilingual, has, t
from ui.widgets import num


def show_savings(savings: dict | None) -> None:
    """Nothing for templates without a `savings` block (result.json top level)."""
    if not savings or savings["pct"]["value"] is None:
        return
    pct, energy, money = savings["pct"], savings.get("energy_per_hour") or {}, savings.get("money_per_year")
    cols = st.columns(3)
    cols[0].metric(t("energy_saving"), f"{num(pct['value'], 3)} %",
                   help=t("interval_text", low=num(pct["low"], 3), high=num(pct["high"], 3)))
    if energy.get("value") is not None:
        cols[1].metric(t("energy_saved_per_hour", unit=energy["unit"]), num(energy["value"]),
                       help=t("interval_text", low=num(energy["low"]), high=num(energy["high"])))
    if money and money["value"] is not None:
        cols[2].metric(t("money_per_year", unit=money["unit"]), f"{money['value']:,.0f}",
                       help=t("interval_text", low=f"{money['low']:,.0f}", high=f"{money['high']:,.0f}"))
    status = (savings.get("solver") or {}).get("status")
    st.caption(t("savings_caption", status=t(f"solver_status_{status}") if has(f"solver_status_{status}") else "—",
                 verified=t("verified_yes") if savings.get("verified") else t("verified_no")))
    for warning in savings.get("warnings") or []:
        st.warning(bilingual(warning))
