"""The role board: drag columns between role boxes (streamlit-sortables), with plain multiselects as a fallback
that works without JavaScript (and in AppTest, where the component is an UnknownElement)."""

from __future__ import annotations

import streamlit as st
from streamlit_sortables import sort_items

from engine import api
from ui.i18n import bilingual, choice_label, t

POOL = "columns"  # the box of columns that play no role yet
_STYLE = """
.sortable-component {gap: 6px;}
.sortable-container {min-width: 150px; background: #f6f8fb; border-radius: 6px;}
.sortable-container-header {font-weight: 600;}
.sortable-item {background: #ffffff; border: 1px solid #c9d3e0; color: #1f2d3d; border-radius: 4px;}
"""


def role_names(template) -> list[str]:
    names = [name for name, _ in template.roles.items()]
    return [POOL] + names + ([] if "ignore" in names else ["ignore"])


def role_label(template, role: str) -> str:
    if role == POOL:
        return t("role_pool")
    spec = getattr(template.roles, role, None)
    return bilingual(spec.label) if spec is not None and spec.label else choice_label(role)


def _state(key: str) -> dict:
    return st.session_state.setdefault(key, {"source": None, "roles": {}, "version": 0})


def initial_roles(template, table: str, given: dict[str, list[str]] | None = None):
    """`given` roles (a loaded recipe) or the engine's guess for this template, fitted to its role boxes; with the
    guess's notes (which rules applied) to show under the board."""
    names = role_names(template)
    roles = {name: [] for name in names}
    guess = None if given is not None else api.guess_table_roles(table, template)
    suggested = given if given is not None else guess.roles
    columns = list(api.catalog().table_info(table).columns)
    placed = set()
    for role, cols in suggested.items():
        box = role if role in roles else POOL
        cols = [cols] if isinstance(cols, str) else cols
        roles[box] += [c for c in cols if c in columns and c not in placed]
        placed |= set(cols)
    roles[POOL] += [c for c in columns if c not in placed]
    return roles, (guess.notes if guess else [])


def role_board(template, table: str, key: str, given: dict | None = None, generation: int = 0) -> dict[str, list[str]]:
    """Render the board; return {role: columns} (the POOL included). A new `generation` re-reads `given`."""
    state = _state(key)
    source = (template.key, table, generation)
    if state["source"] != source:
        first, notes = initial_roles(template, table, given)
        state.update(source=source, roles=first, notes=notes, version=state["version"] + 1)
    roles, names = state["roles"], role_names(template)
    items = [{"header": role_label(template, r), "items": list(roles[r])} for r in names]
    dragged = sort_items(items, multi_containers=True, direction="vertical", custom_style=_STYLE,
                         key=f"{key}.drag.{state['version']}")
    if isinstance(dragged, list) and len(dragged) == len(names):
        new = {r: list(box.get("items", [])) for r, box in zip(names, dragged)}
        if new != roles:
            state["roles"] = roles = new
    if state.get("notes"):
        st.caption(t("roles_guess_notes", notes=" · ".join(bilingual(n) for n in state["notes"])))
    helps = [f"**{role_label(template, r)}**: {bilingual(s.help)}" for r, s in template.roles.items() if s.help]
    if helps:
        st.caption(" · ".join(helps))
    with st.expander(t("roles_fallback")):
        for role in names[1:]:
            widget_key = f"{key}.pick.{role}"
            st.session_state[widget_key] = list(roles[role])
            st.multiselect(role_label(template, role), sum(roles.values(), []), key=widget_key,
                           placeholder=t("form_pick_columns"),
                           on_change=_picked, args=(key, role, widget_key))
    return roles


def _picked(key: str, role: str, widget_key: str) -> None:
    """A multiselect changed: move its columns into `role` (out of every other box), bump the board."""
    state = _state(key)
    chosen = list(st.session_state[widget_key])
    roles = {r: [c for c in cols if c not in chosen] for r, cols in state["roles"].items()}
    dropped = [c for c in state["roles"][role] if c not in chosen]
    roles[role] = chosen
    roles[POOL] += dropped
    state.update(roles=roles, version=state["version"] + 1)


def recipe_roles(roles: dict[str, list[str]]) -> dict[str, list[str]]:
    return {r: list(cols) for r, cols in roles.items() if r != POOL and cols}
