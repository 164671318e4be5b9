"""Template Studio (model engineers): library with versions → YAML editor with live checks by line → preview of the
generated form and role boxes → compiled pipeline and a dry run on a sample → diff of versions → save a new version."""

import hashlib

import streamlit as st

from engine import api
from engine.core.errors import InvalidInput, StudioError
from ui import auth, charts
from ui.authoring import diff_table, dry_run_result, library_table, show_issues
from ui.forms import template_form
from ui.i18n import bilingual, choice_label, labeller, t
from ui.roles import recipe_roles, role_board
from ui.widgets import guard, page_start, show_error

NEW, DRAFT = "", "~draft"

page_start()

st.title(t("ts_title"))
st.caption(t("ts_intro"))


def _load(template_id: str, version: str | None) -> None:
    """Button callback: put a saved version (or the skeleton) into the editor before the editor is drawn."""
    st.session_state["ts_text"] = api.template_text(template_id, version) if template_id else api.template_skeleton()
    st.session_state.pop("ts_dry", None)


def _use_version(version: str) -> None:
    st.session_state["ts_text"] = api.set_template_version(st.session_state["ts_text"], version)


def opener(lib) -> None:
    ids = [NEW] + sorted(lib.templates)
    a, b, c = st.columns([3, 1, 1], vertical_alignment="bottom")
    names = {i: f"{bilingual(lib.get(i).template.title)} · {i}" for i in ids if i}
    tpl_id = a.selectbox(t("ts_open"), ids, key="ts_pick",
                         format_func=labeller(ids, lambda i: names.get(i) or t("ts_new")))
    versions = list(reversed(lib.versions(tpl_id))) if tpl_id else []
    version = b.selectbox(t("ts_version"), versions, key=f"ts_pick_version.{tpl_id}", disabled=not versions,
                          placeholder=t("ts_no_versions"))  # else Streamlit's own English "No options to select"
    c.button(t("ts_load"), on_click=_load, args=(tpl_id, version))


def checks(text: str, lib):
    """Problems by line, then the semver rule against the newest saved version; returns (template or None when the
    text has problems, whether it may be saved)."""
    loaded, issues, version_issues = api.check_template_text(text)
    st.markdown(f"**{t('ts_checks')}**")
    if issues:
        show_issues(issues)
        return None, False
    st.success(t("ts_valid", ref=loaded.template.key))
    versions = lib.versions(loaded.template.id)
    if not versions:
        st.info(t("ts_first_version"))
        return loaded.template, True
    diff = api.diff_templates(loaded.template.id, versions[-1], draft=text)
    suggested = api.suggest_template_version(text)
    if diff.changes:
        st.caption(t("ts_changes_vs", old=f"{loaded.template.id}@{versions[-1]}", n=len(diff.changes), version=suggested))
    else:
        st.caption(t("ts_no_change_vs", old=f"{loaded.template.id}@{versions[-1]}"))
    show_issues(version_issues, "warning")
    if version_issues and suggested:
        st.button(t("ts_use_version", version=suggested), on_click=_use_version, args=(suggested,), key="ts_bump")
    return loaded.template, not version_issues


def preview(template, table: str | None) -> tuple[dict, dict]:
    """The role boxes and the parameter form this template generates; returns (roles, param values)."""
    roles = {}
    st.markdown(f"**{t('ts_roles_preview')}**")
    if table:
        shape = hashlib.sha256(template.roles.model_dump_json().encode()).hexdigest()[:8]  # new roles: new boxes
        roles = recipe_roles(role_board(template, table, "ts.roles", None, shape))
    else:
        st.info(t("ts_pick_table"))
    st.markdown(f"**{t('ts_form_preview')}**")
    if not template.params:
        st.caption(t("ts_no_params"))
        return roles, {}
    columns = list(api.catalog().table_info(table).columns) if table else None
    form = template_form(template, key=f"ts.params.{template.id}", columns=columns)
    return roles, form.values


def pipeline_and_dry_run(text: str, template, table: str | None, roles: dict, params: dict) -> None:
    if not table:
        st.info(t("ts_pick_table"))
        return
    a, b, c = st.columns(3)
    rows = a.number_input(t("ts_rows"), min_value=20, max_value=100_000, value=500, step=100, key="ts_rows")
    hows = ["head", "random"]
    how = b.radio(t("ts_how"), hows, key="ts_how", horizontal=True,
                  format_func=labeller(hows, lambda h: choice_label(h, "sample")))
    seed = c.number_input(t("ts_seed"), min_value=0, value=0, step=1, key="ts_seed")
    sample = {"roles": roles, "params": params, "rows": int(rows), "how": how, "seed": int(seed)}
    try:
        pipeline = api.compile_draft(text, table, **sample)
    except InvalidInput as exc:
        show_error(exc)
        return
    st.markdown(f"**{t('ts_dag')}**")
    st.graphviz_chart(charts.pipeline_dot(pipeline, {s.id: s.title for s in template.steps}))
    if st.button(t("ts_dry_run"), type="primary", key="ts_dry_button"):
        with st.spinner(t("running")):
            st.session_state["ts_dry"] = api.dry_run(text, table, **sample)
    if st.session_state.get("ts_dry"):
        dry_run_result(st.session_state["ts_dry"])


def compare(lib, template, text: str) -> None:
    ids = sorted(lib.templates)
    if not ids:
        return
    start = ids.index(template.id) if template is not None and template.id in ids else 0
    a, b, c = st.columns(3)
    tpl_id = a.selectbox(t("col_template"), ids, index=start, key="ts_diff_id")
    versions = list(reversed(lib.versions(tpl_id)))
    newer = versions + ([DRAFT] if template is not None and template.id == tpl_id else [])
    old = b.selectbox(t("ts_diff_old"), versions, index=min(1, len(versions) - 1), key=f"ts_diff_old.{tpl_id}")
    new = c.selectbox(t("ts_diff_new"), newer, key=f"ts_diff_new.{tpl_id}",
                      format_func=labeller(newer, lambda v: t("ts_draft") if v == DRAFT else v))
    diff_table(api.diff_templates(tpl_id, old, None if new == DRAFT else new, draft=text if new == DRAFT else None))


def save(text: str, template, ok: bool) -> None:
    if template is None:
        st.info(t("ts_fix_first"))
        return
    st.caption(t("ts_save_as", ref=template.key))
    if not auth.can("templates.save"):
        auth.refused("templates.save")
        return
    if st.button(t("ts_save_button"), type="primary", key="ts_save", disabled=not ok):  # the semver rule, shown above
        try:
            saved = api.save_template_as(auth.who(), text)
        except StudioError as exc:
            show_error(exc)
            return
        st.success(t("ts_saved", ref=template.key, path=saved.path))
        if saved.archived:
            st.info(t("ts_archived", path=saved.archived))


with guard():
    lib = api.library()
    st.subheader(t("ts_library"))
    library_table(lib)
    opener(lib)
    st.session_state.setdefault("ts_text", api.template_skeleton())
    left, right = st.columns([3, 2])
    text = left.text_area(t("ts_editor"), key="ts_text", height=560, help=t("ts_editor_help"))
    with right:
        template, savable = checks(text, lib)
    names = [i.name for i in api.tables()]
    table = st.selectbox(t("ts_sample_table"), names, index=None, key="ts_table", placeholder=t("form_pick"))
    tabs = st.tabs([t("ts_tab_preview"), t("ts_tab_pipeline"), t("ts_tab_diff"), t("ts_tab_save")])
    roles, params = {}, {}
    with tabs[0]:
        if template is not None:
            roles, params = preview(template, table)
        else:
            st.info(t("ts_fix_first"))
    with tabs[1]:
        if template is not None:
            pipeline_and_dry_run(text, template, table, roles, params)
        else:
            st.info(t("ts_fix_first"))
    with tabs[2]:
        compare(lib, template, text)
    with tabs[3]:
        save(text, template, savable)
