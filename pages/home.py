"""Home: what the studio does, templates, tables, recent runs, and a one-click demo run."""

import streamlit as st

from engine import api
from engine.core.errors import StudioError
from ui import auth
from ui.i18n import bilingual, choice_label, t
from ui.widgets import page_start, status_text

page_start()

DEMO_RECIPE = "recipes/concrete_strength.yaml"

st.title(t("app_title"))
st.write(t("tagline"))
st.markdown(t("home_how"))
links = st.columns(4)
for col, (path, key, icon) in zip(links, [("pages/data.py", "nav_data", ":material/database:"),
                                         ("pages/gallery.py", "nav_gallery", ":material/widgets:"),
                                         ("pages/build.py", "nav_build", ":material/build:"),
                                         ("pages/results.py", "nav_results", ":material/insights:")]):
    col.page_link(path, label=t(key), icon=icon)

try:
    templates = api.list_templates()
    tables = api.tables()
except StudioError as exc:
    st.error(t("error", message=bilingual(exc)))
    st.stop()

left, right = st.columns(2)
with left:
    st.subheader(t("templates"))
    for tpl in templates:
        st.markdown(f"**{bilingual(tpl.title.model_dump())}** · `{tpl.id}@{tpl.version}`  \n"
                    f"{bilingual(tpl.description.model_dump())}")
with right:
    st.subheader(t("tables"))
    if tables:
        st.dataframe([{t("tables"): i.name, t("col_rows"): i.rows, t("col_columns"): len(i.columns)} for i in tables],
                     hide_index=True)
    else:
        st.info(t("no_tables"))

if auth.can("runs.start") and st.button(t("try_demo"), type="primary"):
    try:
        with st.spinner(t("running")):
            api.ensure_demo_as(auth.who())
            st.session_state["demo_result"] = api.run_recipe_as(auth.who(), DEMO_RECIPE)
    except StudioError as exc:
        st.error(t("error", message=bilingual(exc)))

result = st.session_state.get("demo_result")
if result:
    st.success(t("demo_done", run_id=result["run_id"], seconds=result["timings"]["total_seconds"]))
    if st.button(t("open_results"), icon=":material/insights:", key="demo_open_results"):
        st.session_state["results_run"] = result["run_id"]
        st.switch_page("pages/results.py")
    pred = result["predicted"]
    c1, c2 = st.columns(2)
    c1.metric(t("metric_r2"), f"{result['metrics']['r2']['mean']:.3f} ± {result['metrics']['r2']['std']:.3f}")
    c2.metric(t("predicted_uplift"), f"{pred['uplift']['value']:+.2f}",
              f"[{pred['uplift']['low']:+.2f}, {pred['uplift']['high']:+.2f}]")
    st.subheader(t("recommendations"))
    st.dataframe([{t("col_name"): r["name"], t("col_value"): round(r["value"], 2), t("col_low"): round(r["low"], 2),
                   t("col_high"): round(r["high"], 2), t("col_baseline"): r["baseline"]}
                  for r in result["recommendations"]], hide_index=True)
    st.subheader(t("key_parameters"))
    st.dataframe([{t("col_name"): k["name"], t("col_importance"): k["importance"],
                   t("col_role"): choice_label(k["role"])} for k in result["key_parameters"]], hide_index=True)

st.subheader(t("recent_runs"))
try:
    runs = api.runs(limit=10)  # read after the demo button, so a demo run just finished is listed
except StudioError as exc:
    st.error(t("error", message=bilingual(exc)))
    st.stop()
if runs:
    st.dataframe([{t("col_run"): r["run_id"], t("col_status"): status_text(r["status"], plain=True),
                   t("col_user"): r.get("user") or "", t("col_template"): r["template_id"],
                   t("col_recipe"): r["recipe_name"]} for r in runs], hide_index=True)
else:
    st.caption(t("no_runs"))
