"""The role board: drag columns between role boxes (streamlit-sortables), with plain multiselects as a fallback
that works without JavaScript (and in AppTest, where the component is an UnknownElement)."""

from __future__ import annotations

import streamlit as st
from streamlit_sortables import sort_items

from engine import api
from ui.i18n import bilingual, choice_label, labeller, t

POOL = "columns"  # the box of columns that play no role yet
BIG = 40          # from this many columns on, the board draws a few per box and a search finds the rest
SHOWN = 12        # columns drawn per box on a big board (those matching the search first)
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
    return roles, (guess.notes if guess else []), guess


def role_board(template, table: str, key: str, given: dict | None = None, generation: int = 0) -> dict[str, list[str]]:
    """Render the board; return {role: columns} (the POOL included). A new `generation` re-reads `given`."""
    state = _state(key)
    source = (template.key, table, generation)
    if state["source"] != source:
        first, notes, guess = initial_roles(template, table, given)
        state.update(source=source, roles=first, notes=notes, version=state["version"] + 1, guessed=guess is not None,
                     checked=False, params=dict(getattr(guess, "params", None) or {}))
    names = role_names(template)
    shown = board_tools(template, key, state, names)
    roles = state["roles"]
    items = [{"header": role_label(template, r) + (f" ({len(roles[r])})" if len(roles[r]) > len(shown[r]) else ""),
              "items": list(shown[r])} for r in names]
    dragged = sort_items(items, multi_containers=True, direction="vertical", custom_style=_STYLE,
                         key=f"{key}.drag.{state['version']}")
    if isinstance(dragged, list) and len(dragged) == len(names):
        moved = {r: list(box.get("items", [])) for r, box in zip(names, dragged)}
        # columns not drawn stay where they were; the drawn ones go where they were dropped
        new = {r: moved[r] + [c for c in roles[r] if c not in shown[r]] for r in names}
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


def board_tools(template, key: str, state: dict, names: list[str]) -> dict[str, list[str]]:
    """Search (a part of a name or a glob like `*_sp`) and a bulk move of every match into one box; on a big table
    each box draws only SHOWN columns (matches first) so the page stays short. Returns the columns drawn per box."""
    roles = state["roles"]
    every = [c for r in names for c in roles[r]]
    big = len(every) >= BIG
    a, b, c = st.columns([3, 2, 1], vertical_alignment="bottom")
    pattern = a.text_input(t("fh_board_search"), key=f"{key}.search", placeholder="*_sp")
    matching = api.match_columns(every, pattern)
    dest = b.selectbox(t("fh_board_move_to"), names[1:], key=f"{key}.move_to",
                       format_func=labeller(names[1:], lambda r: role_label(template, r)))
    c.button(t("fh_board_move", count=len(matching)), key=f"{key}.move", disabled=not matching,
             on_click=_move_matching, args=(key, names))
    if pattern:
        a.caption(t("fh_board_matches", count=len(matching)))
    if not big and not pattern:
        return {r: list(roles[r]) for r in names}
    first = set(matching)
    shown = {r: ([x for x in roles[r] if x in first] if pattern else list(roles[r]))[:SHOWN] for r in names}
    hidden = sum(len(roles[r]) - len(shown[r]) for r in names)
    if hidden:
        st.caption(t("fh_board_hidden", count=hidden))
    return shown


def _move_matching(key: str, names: list[str]) -> None:
    """The bulk-move button: the search and the destination as they are when it is clicked (not as they were when
    the button was drawn: a click can come before the redraw that follows a new choice)."""
    state = _state(key)
    every = [c for r in names for c in state["roles"].get(r, [])]
    dest = st.session_state.get(f"{key}.move_to") or names[1]
    _bulk_move(key, api.match_columns(every, st.session_state.get(f"{key}.search") or ""), dest)


def _bulk_move(key: str, columns: list[str], role: str) -> None:
    """Move every column in `columns` into `role` (out of the other boxes) and redraw the board."""
    state = _state(key)
    moving = set(columns)
    roles = {r: [c for c in cols if c not in moving] for r, cols in state["roles"].items()}
    roles[role] = [c for c in state["roles"][role] if c in moving] + roles[role] + \
        [c for c in columns if c not in state["roles"][role]]
    state.update(roles=roles, version=state["version"] + 1)


def move_to(key: str, columns: list[str], role: str) -> None:
    """Move columns into a role box from outside the board (e.g. consequences → ignore)."""
    _bulk_move(key, columns, role)


def guess_state(key: str) -> dict:
    """{'guessed': the roles came from the engine's guess, 'checked': the expert confirmed them}."""
    state = _state(key)
    checked = st.session_state.setdefault("build_roles_checked", {})
    return {"guessed": bool(state.get("guessed")), "checked": bool(checked.get(repr(state.get("source")))),
            "source": abs(hash(repr(state.get("source")))) % 10**8}


def guess_params(key: str) -> dict:
    """Parameter suggestions that came with the guess (e.g. minimise an energy use)."""
    return dict(_state(key).get("params") or {})


def confirm_guess(key: str, widget_key: str) -> None:
    """The expert ticked (or unticked) 'the roles are right'."""
    # kept per template, table and recipe generation, outside the board's state: a redraw of the board (the
    # browser re-sending a stale choice) must not forget the expert's word
    checked = st.session_state.setdefault("build_roles_checked", {})
    checked[repr(_state(key).get("source"))] = bool(st.session_state.get(widget_key))


def _picked(key: str, role: str, widget_key: str) -> None:
    """A multiselect changed: move its columns into `role` (out of every other box), bump the board."""
    state = _state(key)
    chosen = list(st.session_state[widget_key])
    if set(chosen) == set(state["roles"][role]):
        return  # the browser re-sent the same choice: nothing moved (a redraw would drop what the board holds)
    roles = {r: [c for c in cols if c not in chosen] for r, cols in state["roles"].items()}
    dropped = [c for c in state["roles"][role] if c not in chosen]
    roles[role] = chosen
    roles[POOL] += dropped
    state.update(roles=roles, version=state["version"] + 1)


def recipe_roles(roles: dict[str, list[str]]) -> dict[str, list[str]]:
    return {r: list(cols) for r, cols in roles.items() if r != POOL and cols}
