"""A process expert's first hour (issue 16), on the Results page: the verdict before any benefit (not actionable:
reason and fix), consequences of the target named, model quality and the optimiser's status in plain words, the
scenario next to the answer (and choosable), and a what-if whose prediction stays in view with a reset.
The engine decides (api.check_result, api.plain_words); these functions only show."""

from __future__ import annotations

import streamlit as st

from engine import api
from ui import auth
from ui.i18n import bilingual, choice_label, t
from ui.widgets import num


def verdict(result: dict) -> dict:
    return api.check_result(result) if result.get("predicted") else {"actionable": True, "findings": []}


def show_verdict(result: dict) -> bool:
    """A red 'not actionable' box with every reason and its fix; nothing when the result is possible. Returns
    whether the result may be shown as a benefit."""
    found = verdict(result)
    if found["actionable"]:
        return True
    lines = "\n".join(f"- **{bilingual(f['reason'])}**{t('fh_fix')}{bilingual(f['fix'])}" for f in found["findings"])
    st.error(f"### {t('fh_not_actionable')}\n{t('fh_not_actionable_help')}\n\n{lines}", icon=":material/block:")
    return False


def show_consequences(result: dict) -> None:
    """The columns the target determines (or that determine it), with the evidence and the role each had."""
    found = (result.get("consequences") or {}).get("found") or []
    if not found:
        return
    used = [f for f in found if f.get("role") in ("controllable", "context")]
    with st.expander(t("fh_consequences_title", count=len(found)), expanded=bool(used), icon=":material/link:"):
        st.caption(t("fh_consequences_help", target=result["consequences"].get("target", "")))
        st.dataframe([{t("col_column"): f["name"], t("fh_col_kind"): choice_label(f"consequence.{f['kind']}"),
                       t("col_role"): choice_label(f.get("role")), t("fh_col_evidence"): bilingual(f["evidence"])}
                      for f in found], hide_index=True, width="stretch")


def show_quality_words(result: dict) -> None:
    words = api.plain_words(result).get("quality")
    if words:
        st.markdown(f"**{t('fh_in_words')}** {bilingual(words)}")
    used = (result.get("consequences") or {}).get("in_features") or []
    if used:  # a model reading a meter of the target scores high and says nothing about the process
        st.warning(t("fh_quality_inflated", columns=", ".join(used[:6])))


def goal_colour(predicted: dict) -> str:
    """st.metric's delta colour: a decrease is good when the goal is to minimise."""
    return "inverse" if predicted.get("goal") == "minimize" else "normal"


def show_solver(predicted: dict) -> None:
    """The optimiser's status in words; the raw status, gap, time and distance under 'details'."""
    words = api.plain_words({"predicted": predicted}).get("solver")
    if words:
        st.caption(bilingual(words))


def scenario_choice(result: dict, template) -> None:
    """The scenario stated next to the answer, and a way to ask for another one (a new run)."""
    words = api.plain_words(result).get("scenario")
    if not words:
        return
    st.info(f"**{t('fh_scenario')}** {bilingual(words)}", icon=":material/place:")
    spec = (template.params.get("scenario") if template is not None else None)
    choices = list(getattr(spec, "choices", None) or [])
    current = (result.get("predicted") or {}).get("scenario")
    if len(choices) < 2 or current not in choices:
        return
    run_id = result["run_id"]
    a, b = st.columns([3, 1], vertical_alignment="bottom")
    labels = {c: bilingual((spec.choice_labels or {}).get(c)) or choice_label(c) for c in choices}
    other = a.selectbox(t("fh_other_scenario"), choices, index=choices.index(current), key=f"fh_scn.{run_id}",
                        format_func=labels.get)
    if b.button(t("fh_rerun_scenario"), disabled=other == current or not auth.can("runs.start"),
                key=f"fh_scn_go.{run_id}"):
        recipe = result["recipe"]["content"]
        st.session_state["current_run"] = api.start_run_as(auth.who(), {
            **recipe, "params": {**recipe.get("params", {}), "scenario": other},
            "name": f"{recipe['name']} · {labels[other]}"})
        st.switch_page("pages/run.py")


def template_of(result: dict):
    tid = (result.get("template") or {}).get("id")
    return next((tpl for tpl in api.list_templates() if tpl.id == tid), None)


def reset_what_if(run_id: str, recs: list[dict]) -> None:
    """Put every what-if input back at the recommended value."""
    for rec in recs:
        st.session_state.pop(f"wi.{run_id}.{rec['name']}", None)
    st.session_state[f"wi_gen.{run_id}"] = st.session_state.get(f"wi_gen.{run_id}", 0) + 1


def what_if_outcome(outcome: dict | None, predicted: dict) -> None:
    if not outcome:
        return
    st.metric(t("what_if_value"), num(outcome["value"]),
              f"{num(outcome['change'])} {t('vs_baseline')}" if outcome.get("change") is not None else None,
              delta_color=goal_colour(predicted))
    st.caption(t("what_if_ranges", low=num(outcome["low"]), high=num(outcome["high"]),
                 folds_low=num(outcome["folds_low"]), folds_high=num(outcome["folds_high"])))


# ---------------------------------------------------------------- Build page: the guess and the consequences gate

def guess_banner(template, roles: dict[str, list[str]], key: str) -> bool:
    """While the roles are the engine's guess, an amber 'check these' with a confirm button. Returns whether the
    roles count as checked (confirmed, or not a guess: a loaded recipe)."""
    from ui.roles import confirm_guess, guess_state, role_label

    state = guess_state(key)
    if not state["guessed"]:
        return True
    if not state["checked"]:
        some = lambda cols: (", ".join(cols[:8]) + (f" … (+{len(cols) - 8})" if len(cols) > 8 else "")) or "—"  # noqa: E731
        st.warning(t("fh_guess_amber", target=some(roles.get("target") or []), controllable=some(roles.get("controllable") or []),
                     ignored=some(roles.get("ignore") or [])), icon=":material/help:")
    # a checkbox, not a button: its value survives reruns the drag board triggers right after a click
    checked = st.checkbox(t("fh_guess_confirm"), value=state["checked"], key=f"{key}.confirm.{state['source']}",
                          on_change=confirm_guess, args=(key, f"{key}.confirm.{state['source']}"))
    if checked:
        st.caption(t("fh_guess_checked"))
    return bool(checked)


def _consequences(table: str, roles: dict[str, list[str]]) -> list[dict]:
    """Consequences among the inputs, computed once per table, target and inputs (a second per new choice)."""
    target = (roles.get("target") or [None])[0]
    inputs = [*roles.get("controllable", []), *roles.get("context", [])]
    if not target or not inputs:
        return []
    cache = st.session_state.setdefault("fh_consequences", {})
    cache_key = (table, target, tuple(sorted(inputs)))
    if cache_key not in cache:
        cache[cache_key] = api.table_consequences(table, target, inputs)
    return cache[cache_key]


def consequence_gate(table: str, roles: dict[str, list[str]], key: str) -> tuple[list[str], bool]:
    """Name the consequences of the target among the inputs, with the evidence; the expert moves them to Ignore or
    confirms they are settings. Returns (confirmed columns for expert.confirmed_settings, whether the run is blocked)."""
    from ui.roles import move_to

    confirmed = st.session_state.setdefault(f"{key}.confirmed.{table}", [])
    found = _consequences(table, roles)
    open_ = [f for f in found if f["name"] not in confirmed]
    kept = [c for c in confirmed if any(f["name"] == c for f in found)]
    if kept:
        st.caption(t("fh_confirmed_settings", columns=", ".join(kept)))
    if not open_:
        return kept, False
    target = (roles.get("target") or [""])[0]
    lines = "\n".join(f"- **{f['name']}** ({kind_label(f)}): "
                      f"{bilingual(f['evidence'])}" for f in open_[:8])
    if len(open_) > 8:
        lines += "\n- " + t("fh_and_more", count=len(open_) - 8)
    st.error(t("fh_consequence_block", target=target) + "\n\n" + lines, icon=":material/link:")
    names = [f["name"] for f in open_]
    a, b = st.columns(2)
    a.button(t("fh_move_ignore"), key=f"{key}.cons_ignore", type="primary", on_click=move_to,
             args=(key, names, "ignore"))
    b.button(t("fh_confirm_settings"), key=f"{key}.cons_confirm", on_click=confirmed.extend, args=(names,))
    return kept, True


def kind_label(finding: dict) -> str:
    return choice_label(f"consequence.{finding['kind']}")
