"""Results: metrics with fold spread, key parameters, recommendations, expected uplift, warnings, and what-if."""

import json

import streamlit as st

from engine.core.numbers import tidy

from engine import api
from engine.core.errors import StudioError
from ui import auth, charts
from ui.i18n import bilingual, choice_label, t
from ui.i18n import lang as current_lang
from ui.model_search import show_copies, show_leaderboard, smooth_solver_caption
from ui.pareto import show_tuning
from ui.firsthour import (goal_colour, reset_what_if, scenario_choice, show_consequences, show_quality_words,
                          show_solver, show_verdict, template_of, what_if_outcome)
from ui.savings import show_savings
from ui.scale import show_scale
from ui.scoring import show_apply
from ui.widgets import guard, num, page_start, pick_succeeded_run, status_text

page_start()

st.title(t("results_title"))

with guard():
    run_id = pick_succeeded_run(st.session_state.get("results_run") or st.query_params.get("result"), limit=50)
    st.session_state["results_run"] = run_id
    st.query_params["result"] = run_id
    result = api.load_result(run_id)
    metrics, predicted, data = result["metrics"], result["predicted"], result["data"]
    st.caption(t("result_caption", template=f"{result['template']['id']}@{result['template']['version']}",
                 source=(data.get("binding") or {}).get("table") or data["source"], rows=data["rows"],
                 status=status_text(result["status"]), seconds=result["timings"]["total_seconds"]))

actionable = True
with guard():
    actionable = show_verdict(result)   # sanity before success: an impossible result shows no benefit
    show_consequences(result)

with guard():
    report_cols = st.columns(3)
    lang_code = current_lang()
    html_key = f"html-{run_id}-{lang_code}"
    if html_key not in st.session_state:  # built once per run and language, not on every rerun
        st.session_state[html_key] = api.report_html(run_id, lang=lang_code)
    report_html = st.session_state[html_key]
    report_cols[0].download_button(t("download_report_html"), report_html, file_name=f"report-{run_id}-{lang_code}.html",
                                   mime="text/html", icon=":material/description:")
    if report_cols[1].button(t("prepare_report_pdf"), icon=":material/picture_as_pdf:"):
        with st.spinner(t("preparing_pdf")):
            st.session_state[f"pdf-{run_id}-{lang_code}"] = api.report_pdf(run_id, lang=lang_code)
    pdf = st.session_state.get(f"pdf-{run_id}-{lang_code}")
    if pdf:
        report_cols[2].download_button(t("download_report_pdf"), pdf, file_name=f"report-{run_id}-{lang_code}.pdf",
                                       mime="application/pdf", icon=":material/download:")

pdm_view = api.pdm_view(result, current_lang())
if pdm_view:                                # predictive maintenance: its own view, no recommendations
    from ui.pdm import show_pdm

    with guard():
        show_pdm(pdm_view)
    with guard():
        show_apply(run_id, result, "results")
    st.download_button(t("download_result"), json.dumps(result, ensure_ascii=False, indent=2),
                       file_name=f"result_{run_id}.json", mime="application/json")
    st.stop()

if result.get("test_reduction"):            # the test-item reduction template: its own view, no recommendations
    from ui.item_reduction import show_test_reduction

    with guard():
        show_test_reduction(result)
    st.download_button(t("download_result"), json.dumps(result, ensure_ascii=False, indent=2),
                       file_name=f"result_{run_id}.json", mime="application/json")
    with guard():
        show_apply(run_id, result, "results")
    st.stop()

if (result.get("outputs") or {}).get("inspection"):   # the image-inspection template: its own view
    from ui.inspection import show_inspection

    with guard():
        show_inspection(result)
    st.download_button(t("download_result"), json.dumps(result, ensure_ascii=False, indent=2),
                       file_name=f"result_{run_id}.json", mime="application/json")
    st.stop()

with guard():
    st.subheader(t("model_quality"))
    names = [k for k, v in metrics.items() if isinstance(v, dict) and "mean" in v]
    cols = st.columns(max(len(names), 1))
    for col, name in zip(cols, names):
        col.metric(choice_label(f"metric.{name}"), f"{num(metrics[name]['mean'])} ± {num(metrics[name]['std'], 1)}")
    st.caption(t("cv_caption", folds=metrics.get("folds"), cv=choice_label(metrics.get("cv")),
                 task=choice_label(metrics.get("task"))))
    show_quality_words(result)
    for warning in metrics.get("warnings") or []:
        st.warning(bilingual(warning))
    pva = (result.get("outputs", {}).get("model_report") or {}).get("predicted_vs_actual")
    left, right = st.columns(2) if pva else (st.container(), None)
    if names:
        left.plotly_chart(charts.fold_metrics(metrics, names[:1]), width="stretch")
    if pva:
        right.plotly_chart(charts.predicted_vs_actual(pva, predicted.get("target", "")), width="stretch")

with guard():
    show_leaderboard(result)  # model search: the candidates compared on the same folds
with guard():
    show_scale(result)  # big tables: rows used of rows bound, samples, learning curve


def solver_caption(predicted: dict) -> None:
    solver = predicted.get("solver")
    if not solver or smooth_solver_caption(predicted):
        return
    gap = solver.get("gap")
    st.caption(t("solver_caption", status=t(f"solver_status_{solver.get('status')}"),
                 gap=num(100 * gap, 3) if gap is not None else "—", seconds=num(solver.get("seconds"), 2),
                 verified=t("verified_ok" if (predicted.get("verification") or {}).get("ok") else "verified_failed")))


with guard():
    st.subheader(t("expected_outcome"))
    if predicted:
        up = predicted["uplift"]
        c1, c2, c3 = st.columns(3)
        c1.metric(t("baseline"), num(predicted["baseline"]["value"]))
        c2.metric(t("recommended"), num(predicted["recommended"]["value"]),
                  f"{num(up['value'])} ({num(up.get('pct'), 2)} %)",
                  delta_color=goal_colour(predicted) if actionable else "off")
        c3.metric(t("uplift_interval"), f"[{num(up['low'])}, {num(up['high'])}]")
        st.caption(t("outcome_caption", target=predicted.get("target"), goal=choice_label(predicted.get("goal")),
                     scenario=choice_label(predicted.get("scenario"))))
        scenario_choice(result, template_of(result))
        for warning in predicted.get("warnings") or []:
            st.warning(bilingual(warning))
        if predicted.get("fallback"):
            st.info(bilingual(predicted["fallback"]))
        show_solver(predicted)  # in words; the solver's own terms under "details"
        with st.expander(t("fh_details")):
            solver_caption(predicted)
            dist = predicted.get("distance_to_data") or {}
            if dist.get("trust_radius") is not None:
                st.caption(t("distance_caption", value=num(dist.get("value")), radius=num(dist.get("trust_radius"))))
            elif dist.get("typical") is not None:
                st.caption(t("distance_caption_typical", value=num(dist.get("value")),
                             radius=num(dist.get("typical"))))
        if actionable:
            show_savings(result.get("savings"))
        elif result.get("savings"):
            st.info(t("fh_money_hidden"))

with guard():
    show_tuning(result)  # recipe tuning only: cost and the quality-vs-cost front

with guard():
    st.subheader(t("recommendations"))
    st.dataframe([{t("col_name"): r["name"], t("col_value"): num(r["value"]),
                   t("col_window"): f"{num(r.get('low'))} – {num(r.get('high'))}",
                   t("col_baseline"): num(r.get("baseline")),
                   t("col_envelope"): " – ".join(num(x) for x in r.get("envelope") or []) or "—",
                   t("col_percentile"): num(r.get("data_percentile")),
                   t("col_note"): t("pinned") if r.get("pinned") else (t("expert_bounded")
                                                                        if r.get("expert_bounds") else "")}
                  for r in result["recommendations"]], hide_index=True, width="stretch")
    if result["key_parameters"]:
        st.plotly_chart(charts.key_parameters(result["key_parameters"], (predicted or {}).get("goal", "maximize")), width="stretch")

with guard():
    show_copies(result)  # key parameters v2: controllables judged downstream copies of others


curves = result.get("outputs", {}).get("curves") or []
if curves:
    with guard():
        st.subheader(t("parameter_curves"))
        st.caption(t("curves_help"))
        pick = st.selectbox(t("curve_of"), [c["name"] for c in curves], key=f"curve.{run_id}")
        st.plotly_chart(charts.curve(next(c for c in curves if c["name"] == pick), predicted.get("target", "")),
                        width="stretch")


def what_if_inputs(recs: list[dict]) -> dict:
    settings = {}
    for rec in (r for r in recs if not r.get("pinned")):
        if rec.get("levels"):
            settings[rec["name"]] = st.selectbox(rec["name"], rec["levels"], key=f"wi.{run_id}.{rec['name']}",
                                                 index=rec["levels"].index(rec["value"]))
            continue
        lo, hi = rec.get("envelope") or [rec["low"], rec["high"]]
        lo, hi = min(lo, rec["value"]), max(hi, rec["value"])
        if hi > lo:
            settings[rec["name"]] = st.slider(rec["name"], tidy(float(lo)), tidy(float(hi)), tidy(float(rec["value"])),
                                              step=tidy((hi - lo) / 200, 2), key=f"wi.{run_id}.{rec['name']}")
    return settings


with guard():
    st.subheader(t("what_if"))
    st.caption(t("what_if_help"))
    # the prediction stays in view: the inputs scroll inside their own box, the outcome sits beside them
    sliders, outcome_box = st.columns([2, 3])
    pinned = outcome_box.container()
    with sliders:
        st.button(t("fh_what_if_reset"), icon=":material/restart_alt:", key=f"wi_reset.{run_id}",
                  on_click=reset_what_if, args=(run_id, result["recommendations"]))
        many = len(result["recommendations"]) > 6
        with st.container(height=420) if many else st.container():
            settings = what_if_inputs(result["recommendations"])
    with pinned:
        try:
            outcome = api.what_if(run_id, settings)
        except StudioError as exc:
            st.info(t("what_if_unavailable", message=bilingual(exc)))
            outcome = None
        what_if_outcome(outcome, predicted)
        if predicted:
            st.plotly_chart(charts.outcome_band(predicted, outcome), width="stretch")

with guard():
    st.subheader(t("rerun_pinned"))
    recs = [r for r in result["recommendations"] if not r.get("levels")]
    if recs:
        a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
        name = a.selectbox(t("pin_which"), [r["name"] for r in recs], key=f"pin_name.{run_id}")
        rec = next(r for r in recs if r["name"] == name)
        value = b.number_input(t("pin_value"), value=tidy(float(rec.get("baseline") or rec["value"])), format="%g",
                               key=f"pin_value.{run_id}.{name}")
        if auth.can("runs.start") and c.button(t("rerun_button")):
            recipe = result["recipe"]["content"]
            expert = {**recipe.get("expert", {}), "pin": {**recipe.get("expert", {}).get("pin", {}), name: value}}
            st.session_state["current_run"] = api.start_run_as(auth.who(), {
                **recipe, "expert": expert, "name": f"{recipe['name']} · {name}={num(value)}"})
            st.switch_page("pages/run.py")
    st.download_button(t("download_result"), json.dumps(result, ensure_ascii=False, indent=2),
                       file_name=f"result_{run_id}.json", mime="application/json")

with guard():
    show_apply(run_id, result, "results")
