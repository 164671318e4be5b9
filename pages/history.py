"""History: every run with its status, and two runs compared side by side."""

import streamlit as st

from engine import api
from ui.i18n import choice_label, t
from ui.scoring import show_apply
from ui.widgets import guard, num, page_start, seconds, status_text

page_start()

st.title(t("history_title"))

with guard():
    runs = api.runs(limit=200)
    if not runs:
        st.info(t("no_runs_yet"))
        st.stop()
    st.dataframe([{t("col_run"): r["run_id"], t("col_status"): status_text(r["status"], plain=True),
                   t("col_user"): r.get("user") or "", t("col_recipe"): r["recipe_name"], t("col_template"): f"{r['template_id']}@{r['template_version']}",
                   t("col_started"): (r["started_at"] or "")[:19].replace("T", " "),
                   t("col_seconds"): seconds(r["seconds"]), t("col_failed_step"): r["failed_step"] or ""}
                  for r in runs], hide_index=True, width="stretch")

    done = [r for r in runs if r["status"] == "succeeded"]
    ids = [r["run_id"] for r in done]
    label = {r["run_id"]: f"{r['run_id']} · {r['recipe_name']}" for r in done}
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    pick = c1.selectbox(t("pick_run"), [r["run_id"] for r in runs], key="hist_pick",
                        format_func=lambda i: next(f"{i} · {r['recipe_name']}" for r in runs if r["run_id"] == i))
    if c2.button(t("open_run")):
        st.session_state["current_run"] = pick
        st.switch_page("pages/run.py")
    if c3.button(t("open_results"), disabled=pick not in ids):
        st.session_state["results_run"] = pick
        st.switch_page("pages/results.py")

    if pick in ids:
        with guard():
            show_apply(pick, api.load_result(pick), "history", folded=True)

    st.subheader(t("compare_title"))
    if len(ids) < 2:
        st.info(t("compare_needs_two"))
        st.stop()
    a, b = st.columns(2)
    # A: the newest earlier run of the same template as the newest run (comparing two templates says little)
    same = [i for i, r in enumerate(done) if i > 0 and r["template_id"] == done[0]["template_id"]]
    run_a = a.selectbox(t("run_a"), ids, index=same[0] if same else 1, format_func=label.get, key="cmp_a")
    run_b = b.selectbox(t("run_b"), ids, index=0, format_func=label.get, key="cmp_b")
    template_of = {r["run_id"]: r["template_id"] for r in done}
    if template_of[run_a] != template_of[run_b]:  # an energy run next to a yield run measures different things
        st.warning(t("fh_history_other_template", a=template_of[run_a], b=template_of[run_b]))
        st.stop()
    diff = api.compare_runs(run_a, run_b)

    def table(rows: list[dict], title: str, header: str, translate: bool = False) -> None:
        st.markdown(f"**{title}**")
        st.dataframe([{header: choice_label(f"metric.{r['name']}") if translate else r["name"],
                       "A": num(r["a"]), "B": num(r["b"]),
                       "B − A": num(r["b"] - r["a"]) if isinstance(r["a"], (int, float))
                       and isinstance(r["b"], (int, float)) else "—"} for r in rows],
                     hide_index=True, width="stretch")

    table(diff["metrics"], t("model_quality"), t("col_metric"), translate=True)
    left, right = st.columns(2)
    with left:
        table(diff["recommendations"], t("recommendations"), t("col_name"))
    with right:
        table(diff["predicted"], t("expected_outcome"), t("col_quantity"), translate=True)
