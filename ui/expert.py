"""Expert knowledge: exclude / force columns, monotone directions, safe ranges and pinned values."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.i18n import t


def pick_many(label: str, options: list, **kw) -> list:
    return st.multiselect(label, options, placeholder=t("form_pick_columns"), **kw)


def _num(value: Any, fallback: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) else fallback


def expert_form(features: list[str], controllable: list[str], ranges: dict[str, tuple[float, float]], key: str,
                initial: dict[str, Any] | None = None, costs: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Render the expert inputs; return (the recipe's `expert:` mapping, placeholder per expert key).
    `costs`: the template uses prices (expert.costs), so ask for them."""
    initial, slots, expert = initial or {}, {}, {}
    mono = initial.get("monotone", {})
    c1, c2 = st.columns(2)
    with c1:
        expert["exclude"] = pick_many(t("expert_exclude"), features, key=f"{key}.exclude",
                                           default=[c for c in initial.get("exclude", []) if c in features],
                                           help=t("expert_exclude_help"))
        slots["exclude"] = st.empty()
        up = pick_many(t("expert_up"), features, key=f"{key}.up", help=t("expert_up_help"),
                            default=[c for c, d in mono.items() if d == 1 and c in features])
        slots["monotone"] = st.empty()
    with c2:
        expert["force"] = pick_many(t("expert_force"), features, key=f"{key}.force",
                                         default=[c for c in initial.get("force", []) if c in features],
                                         help=t("expert_force_help"))
        slots["force"] = st.empty()
        down = pick_many(t("expert_down"), [c for c in features if c not in up], key=f"{key}.down",
                              default=[c for c, d in mono.items() if d == -1 and c in features and c not in up],
                              help=t("expert_down_help"))
    expert["monotone"] = {**{c: 1 for c in up}, **{c: -1 for c in down}}
    expert["bounds"] = _ranges(t("expert_bounds"), t("expert_bounds_help"), controllable, ranges, key,
                               initial.get("bounds", {}))
    slots["bounds"] = st.empty()
    expert["pin"] = _pins(controllable, ranges, key, initial.get("pin", {}))
    slots["pin"] = st.empty()
    if costs:
        expert["costs"] = _costs(features, key, initial.get("costs", {}))
        slots["costs"] = st.empty()
    return {k: v for k, v in expert.items() if v}, slots


def _costs(columns: list[str], key: str, initial: dict) -> dict:
    """Price per unit of each chosen column; level surcharges ('origin=B') written in the recipe are kept."""
    chosen = pick_many(t("expert_costs"), columns, key=f"{key}.priced", help=t("expert_costs_help"),
                       default=[c for c in initial if c in columns])
    out = {k: v for k, v in initial.items() if "=" in k}
    for col in chosen:
        out[col] = st.number_input(t("expert_price", column=col), value=_num(initial.get(col)), min_value=None,
                                   key=f"{key}.price.{col}", format="%g")
    return out


def _ranges(label: str, help_text: str, columns: list[str], ranges: dict, key: str, initial: dict) -> dict:
    chosen = pick_many(label, columns, key=f"{key}.bounded", help=help_text,
                            default=[c for c in initial if c in columns])
    out = {}
    for col in chosen:
        lo, hi = initial.get(col) or ranges.get(col) or (0.0, 0.0)
        a, b, _ = st.columns([2, 2, 3])
        low = a.number_input(t("expert_low", column=col), value=_num(lo), key=f"{key}.lo.{col}", format="%g")
        high = b.number_input(t("expert_high", column=col), value=_num(hi), key=f"{key}.hi.{col}", format="%g")
        out[col] = [low, high]
    return out


def _pins(columns: list[str], ranges: dict, key: str, initial: dict) -> dict:
    chosen = pick_many(t("expert_pin"), columns, key=f"{key}.pinned", help=t("expert_pin_help"),
                            default=[c for c in initial if c in columns])
    out = {}
    for col in chosen:
        lo, hi = ranges.get(col) or (0.0, 0.0)
        start = initial.get(col, (_num(lo) + _num(hi)) / 2)
        out[col] = st.number_input(t("expert_pin_value", column=col), value=_num(start), key=f"{key}.pin.{col}",
                                   format="%g")
    return out
