"""Build: template + table → roles (drag or pick) → parameters → expert knowledge → live check → save, run."""

import streamlit as st

from engine import api
from engine.core.errors import InvalidInput, StudioError
from ui import auth, charts
from ui.expert import expert_form
from ui.firsthour import consequence_gate, guess_banner
from ui.forms import template_form
from ui.i18n import bilingual, labeller, t
from ui.roles import guess_params, recipe_roles, role_board, role_label
from ui.widgets import guard, issues_by_key, page_start, show_error
from ui.cluster import run_cluster

page_start()

st.title(t("build_title"))
st.caption(t("build_intro"))

with guard():
    templates = {tpl.id: tpl for tpl in api.list_templates()}
    tables = api.tables()
    if not templates or not tables:
        st.info(t("build_needs_data"))
        st.stop()

    loaded = st.session_state.get("build_loaded") or {}
    gen = st.session_state.get("build_gen", 0)
    with st.expander(t("load_recipe")):
        paths = api.saved_recipes()
        saved_by = api.owners("recipe")  # who saved each recipe from the studio
        path = st.selectbox(t("saved_recipes"), paths, index=None, key="build_path", placeholder=t("form_pick"),
                            format_func=lambda p: p.name + (f" · {saved_by[p.name]}" if p.name in saved_by else ""))
        if st.button(t("load_button"), disabled=path is None):
            loaded = api.read_recipe(path)
            st.session_state.update(build_loaded=loaded, build_gen=gen + 1,
                                    build_template=loaded["template"].split("@")[0],
                                    build_table=loaded["data"].get("table"))
            for widget in ("build_template_pick", "build_table_pick"):  # start again from the loaded recipe
                st.session_state.pop(widget, None)
            st.rerun()

    ids, names = list(templates), [i.name for i in tables]
    c1, c2 = st.columns(2)
    want = st.session_state.get("build_template") or "quick_model"  # the shortest path is the default
    # keyed, so the widget stays the same one while its starting index follows the choice (unkeyed, a new index
    # made a new widget every other run and dropped the user's pick); the plain keys survive leaving the page
    tpl_id = c1.selectbox(t("pick_template"), ids, index=ids.index(want) if want in ids else 0,
                          format_func=labeller(ids, lambda i: bilingual(templates[i].title)), key="build_template_pick")
    want = st.session_state.get("build_table")
    table = c2.selectbox(t("pick_table"), names, index=names.index(want) if want in names else 0,
                         key="build_table_pick")
    st.session_state.update(build_template=tpl_id, build_table=table)
    template = templates[tpl_id]
    from_recipe = loaded if loaded.get("template", "").split("@")[0] == tpl_id else {}
    key = f"build.{gen}.{tpl_id}.{table}"
    # Streamlit drops widget keys when the page is left: the choices are kept under plain keys (build_saved, per
    # template and table) and, when the widgets come back fresh, become their starting values for this visit.
    saved, starts = st.session_state.setdefault("build_saved", {}), st.session_state.setdefault("build_starts", {})
    if f"{key}.name" not in st.session_state:
        starts[key] = saved.get(key) or from_recipe
    from_recipe = starts.get(key, from_recipe)

    st.subheader(t("step_roles"))
    st.caption(t("roles_drag_help"))
    roles = role_board(template, table, "build.roles", from_recipe.get("roles"), gen)
    role_slot = st.empty()
    checked, confirmed, blocked = True, [], False
    with guard():
        checked = guess_banner(template, roles, "build.roles")     # a guess is shown as one until confirmed
        confirmed, blocked = consequence_gate(table, roles, "build.roles")  # consequences are not levers

    st.subheader(t("step_params"))
    columns = list(api.catalog().table_info(table).columns)
    params = template_form(template, key=f"{key}.params", columns=columns,
                           initial=from_recipe.get("params") or guess_params("build.roles") or None)

    st.subheader(t("step_expert"))
    features = roles.get("controllable", []) + roles.get("context", [])
    profile = api.profile_table(table)
    ranges = {c["name"]: (c["quantiles"]["p1"], c["quantiles"]["p99"]) for c in profile["columns"]
              if c.get("quantiles")}
    uses_costs = any(v == "expert.costs" for step in template.steps for v in step.with_.values())
    expert, expert_slots = expert_form(features, roles.get("controllable", []), ranges, f"{key}.expert",
                                       from_recipe.get("expert"), costs=uses_costs)

    st.subheader(t("step_check"))
    name = st.text_input(t("recipe_name"), value=from_recipe.get("name") or f"{bilingual(template.title)} · {table}",
                         key=f"{key}.name")
    if confirmed:
        expert = {**expert, "confirmed_settings": confirmed}
    recipe = {"template": template.key, "name": name, "data": {"table": table}, "roles": recipe_roles(roles),
              "params": params.values, "expert": expert}
    saved[key] = {"name": name, "roles": recipe["roles"], "params": params.values, "expert": expert}
    try:
        pipeline = api.compile_recipe(recipe)
    except InvalidInput as exc:
        pipeline = None
        st.error(t("recipe_problems", count=len(exc.issues)))
        by_role = issues_by_key(exc, "roles")
        if by_role:
            role_slot.error("\n\n".join(f"**{role_label(template, r)}**: {'; '.join(m)}" for r, m in by_role.items()))
        leftover = params.show(issues_by_key(exc, "params"))
        for part, messages in issues_by_key(exc, "expert").items():
            expert_slots.get(part, st).error("\n\n".join(messages))
        shown = ("roles", "params", "expert")
        for issue in exc.issues:
            if not (issue.path or "").startswith(shown):
                st.error(t("error", message=bilingual(issue)))
        for message in leftover:
            st.error(t("error", message=message))
    if params.errors:
        pipeline = None
    if pipeline is not None:
        sizes = {"steps": len(pipeline.steps), "features": len(pipeline.roles.get("features", []))}
        if checked and not blocked:
            st.success(t("recipe_ok", **sizes))
        else:  # a guess is never called valid: amber until the expert has checked the roles
            st.warning(t("fh_recipe_ok_guess", **sizes) if not checked else t("fh_run_blocked"))
        st.graphviz_chart(charts.pipeline_dot(pipeline, {s.id: s.title for s in template.steps}))

    text = api.recipe_yaml(recipe)
    with st.expander(t("recipe_yaml")):
        st.code(text, language="yaml")
    a, b, c = st.columns(3)
    a.download_button(t("download_recipe"), text, file_name=f"{tpl_id}_{table}.yaml", mime="application/x-yaml",
                      disabled=pipeline is None)
    if auth.can("recipes.save") and b.button(t("save_recipe"), disabled=pipeline is None):
        with guard():
            st.success(t("recipe_saved", path=api.save_recipe_as(auth.who(), recipe)))
    if not auth.can("runs.start"):  # a viewer reads; the engine refuses a run anyway
        with c:
            auth.refused("runs.start")
    elif c.button(t("run_button"), type="primary", disabled=pipeline is None or blocked):
        try:
            st.session_state["current_run"] = api.start_run_as(auth.who(), recipe, cluster=run_cluster())
        except StudioError as exc:
            show_error(exc)
        else:
            st.switch_page("pages/run.py")
