"""Run: per-step progress, log and cancel of a run working in the background (it survives page switches and a
browser refresh: its status is read from the data factory, the run id is kept in the page address)."""

import streamlit as st

from engine import api
from ui import auth
from ui.cluster import cluster_field, run_cluster
from ui.i18n import bilingual, t
from ui.scale import budget_caption
from ui.widgets import guard, page_start, seconds, status_text

page_start()

ACTIVE = ("running", "starting")

st.title(t("run_title"))
with st.expander(t("cluster_field"), expanded=bool(run_cluster())):
    cluster_field()

with guard():
    runs = api.runs(limit=30)
    wanted = st.session_state.get("current_run") or st.query_params.get("run")
    ids = [r["run_id"] for r in runs]
    if wanted and wanted not in ids:
        ids.insert(0, wanted)  # just started: its row may not be written yet
    if not ids:
        st.info(t("no_runs_yet"))
        st.stop()
    labels = {r["run_id"]: f"{r['run_id']} · {r['recipe_name']} · {r.get('user') or '—'} · "
                           f"{status_text(r['status'], plain=True)}"
              for r in runs}
    run_id = st.selectbox(t("pick_run"), ids, index=ids.index(wanted) if wanted in ids else 0,
                          format_func=lambda i: labels.get(i, i))
    st.session_state["current_run"] = run_id
    st.query_params["run"] = run_id
    st.caption(budget_caption())  # a table larger than this trains on a stratified sample (issue 21)


def step_name(step: dict) -> str:
    return bilingual(step.get("title")) or step["step_id"]


def progress_text(status: dict, current: dict | None, fraction: float) -> str:
    """The step, what it is doing inside (fold k of K, trial n of N …) and the time it still needs."""
    if not current:
        return f"{round(100 * fraction)} %"
    text = t("progress_step", step=step_name(current), pct=round(100 * fraction))
    inside = bilingual(status.get("message"))
    if inside and inside not in ("running", "运行中"):
        text += f" — {inside}"
    left = status.get("step_seconds_left")
    if left is not None:
        text += f" — {t('fh_time_left', seconds=max(1, round(left)))}"
    return text


def may_cancel(status: dict) -> bool:
    """Its owner (with the role) or an administrator; the engine checks the same (api.cancel_run_as)."""
    me = auth.who()
    return me.can("runs.cancel") and (me.role == "admin" or status.get("user") in (None, me.name))


def panel(run_id: str) -> dict:
    status = api.run_status(run_id)
    st.markdown(f"### {status_text(status['status'])}")
    fraction = min(max(status["fraction"], 0.0), 1.0)
    current = next((s for s in status["steps"] if s["step_id"] == status.get("step")), None)
    st.progress(fraction, text=progress_text(status, current, fraction))
    st.dataframe([{t("col_step"): step_name(s), t("col_operator"): s.get("op") or "",
                   t("col_status"): status_text(s["status"], plain=True), t("col_seconds"): seconds(s.get("seconds")),
                   t("col_cached"): "✓" if s.get("cached") else ""} for s in status["steps"]],
                 hide_index=True, width="stretch")
    if status["status"] == "cancelled":
        st.warning(t("run_cancelled"))
    elif status.get("error"):
        st.error(t("run_error", step=status.get("failed_step") or "—", message=bilingual(status["error"])))
    if status["live"]:
        if status["cancel_requested"]:
            st.warning(t("cancel_requested"))
        elif may_cancel(status) and st.button(t("cancel_button"), key=f"cancel_{run_id}"):
            api.cancel_run_as(auth.who(), run_id)
            st.rerun(scope="fragment")
    elif status["status"] == "running":
        st.info(t("running_elsewhere"))
    if status["log"]:
        with st.expander(t("run_log")):
            st.code("\n".join(bilingual(line) for line in status["log"][-50:]), language=None)
    return status


@st.fragment(run_every=1.0)
def live_panel(run_id: str) -> None:
    with guard():
        if panel(run_id)["status"] not in ACTIVE:
            st.rerun()  # the whole page: stops polling and shows the finished state


with guard():
    first = api.run_status(run_id)
    if first["status"] in ACTIVE:
        live_panel(run_id)
    else:
        status = panel(run_id)
        if status["status"] == "succeeded":
            st.success(t("run_done", seconds=status.get("seconds") or 0))
            if st.button(t("open_results"), type="primary"):
                st.session_state["results_run"] = run_id
                st.switch_page("pages/results.py")
