"""Trials: log what was actually run on the line after a recommendation and what was measured; see it against
the model's prediction; retrain the recipe with the trials added to its data."""

import streamlit as st

from engine import api
from engine.core.errors import StudioError
from ui import auth, charts
from ui.i18n import lang, t
from ui.widgets import guard, num, page_start, pick_succeeded_run, show_error

page_start()

st.title(t("trials_title"))
st.caption(t("trials_intro"))

with guard():
    run_id = pick_succeeded_run(st.session_state.get("results_run"), key="trial_run")
    result = api.load_result(run_id)
    target = result["predicted"].get("target", "")

with guard(), st.form("trial_form"):
    st.subheader(t("trial_log"))
    recs = [r for r in result["recommendations"] if not r.get("levels")]
    cols = st.columns(3)
    settings = {r["name"]: cols[i % 3].number_input(r["name"], value=float(r["value"]), key=f"tr.{run_id}.{r['name']}")
                for i, r in enumerate(recs)}
    c1, c2, c3 = st.columns([1, 1, 2])
    outcome = c1.number_input(t("trial_outcome", target=target), value=None, key=f"tr.{run_id}.outcome")
    batches = c2.number_input(t("trial_batches"), min_value=1, value=1, step=1, key=f"tr.{run_id}.batches")
    note = c3.text_input(t("trial_note"), key=f"tr.{run_id}.note")
    if st.form_submit_button(t("trial_save"), type="primary", disabled=not auth.can("trials.log")):
        if outcome is None:
            st.error(t("trial_need_outcome"))
        else:
            try:
                api.log_trial_as(auth.who(), run_id, settings, outcome, batches=int(batches), note=note)
                st.success(t("trial_saved"))
            except StudioError as exc:
                show_error(exc)

with guard():
    logged = api.trials(run_id)
    trial_users = api.owners("trial", [x["trial_id"] for x in logged])
    st.subheader(t("trial_list"))
    if not logged:
        st.caption(t("trial_none_yet"))
    else:
        st.dataframe([{t("trial_when"): x["logged_at"][:19].replace("T", " "), t("trial_outcome", target=target):
                       num(x["outcome"]), t("trial_predicted"): num(x["predicted"]),
                       t("trial_band"): f"[{num(x['predicted_low'])}, {num(x['predicted_high'])}]",
                       t("trial_batches"): x["batches"], t("trial_note"): x["note"],
                       t("col_user"): trial_users.get(x["trial_id"], "")} for x in logged],
                     hide_index=True, width="stretch")
        pairs = [x for x in logged if x["predicted"] is not None]
        if pairs:
            st.plotly_chart(charts.predicted_vs_actual({"actual": [x["outcome"] for x in pairs],
                                                        "predicted": [x["predicted"] for x in pairs]}, target,
                                                       "chart_pva_trials"),
                            width="stretch")
        if auth.can("runs.start") and st.button(t("trial_retrain"), icon=":material/model_training:"):
            try:
                api.authorize(auth.who(), "tables.write", f"run:{run_id}")
                table, recipe = api.retrain_with_trials(run_id, lang=lang())
                st.session_state["current_run"] = api.start_run_as(auth.who(), recipe)
            except StudioError as exc:
                show_error(exc)
            else:
                st.switch_page("pages/run.py")
