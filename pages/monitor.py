"""Monitor: a run's recommendation watched on a table that grows — control charts with limits and flagged batches,
compliance over time, measured benefit against the baseline, the alert list (acknowledge), retrain. Refreshes on its
own (st.fragment(run_every=...)); every number comes from engine.api.check_monitor."""

import streamlit as st

from engine import api
from engine.core.errors import StudioError
from ui import auth, monitor_charts as charts
from ui.i18n import lang, t
from ui.widgets import guard, num, page_start, pick_succeeded_run, show_error

page_start()

st.title(t("mon_title"))
st.caption(t("mon_intro"))

REFRESH = {0: "mon_refresh_off", 10: "mon_refresh_10", 30: "mon_refresh_30", 60: "mon_refresh_60"}

with guard():
    run_id = pick_succeeded_run(st.session_state.get("results_run"), key="mon_run")
    stored = {m["table_name"]: m for m in api.monitors(run_id)}
    tables = [info.name for info in api.tables()]
    if not tables:
        st.info(t("mon_no_tables"))
        st.stop()
    trained_on = ((api.load_result(run_id).get("data") or {}).get("binding") or {}).get("table")
    first = next(iter(stored), None) or next((n for n in tables if n != trained_on), None)
    c1, c2, c3 = st.columns([2, 1, 1])
    table = c1.selectbox(t("mon_table"), tables, index=tables.index(first) if first in tables else 0, key="mon_table",
                         help=t("mon_table_help"))
    baseline = c2.number_input(t("mon_baseline_batches"), min_value=3, step=10, key=f"mon_base.{run_id}.{table}",
                               value=int(stored[table]["baseline"]) if table in stored else 100,
                               help=t("mon_baseline_help"))
    every = c3.selectbox(t("mon_refresh"), list(REFRESH), index=2, format_func=lambda s: t(REFRESH[s]),
                         key="mon_every")
    with st.expander(t("mon_webhook")):
        webhook = st.text_input(t("mon_webhook_url"), value=(stored.get(table) or {}).get("webhook") or "",
                                key=f"mon_hook.{run_id}.{table}", placeholder="http://mes.local/alerts")


def _metrics(s: dict) -> None:
    b, acc = s["benefit"], s["accuracy"]
    cols = st.columns(5)
    cols[0].metric(t("mon_batches"), s["batches"], help=t("mon_batches_help", baseline=s["baseline"]))
    cols[1].metric(t("mon_compliance"), "—" if s["compliance"]["share"] is None else f"{s['compliance']['share']:.0%}")
    cols[2].metric(t("mon_rmse"), num(acc["rmse"]), help=t("mon_rmse_help", cv=num(acc["cv_rmse"]),
                                                         n=acc["batches"]))
    cols[3].metric(t("mon_uplift"), num(b["value"]),
                   help=t("mon_uplift_help", low=num(b["low"]), high=num(b["high"]), trials=b["trials"],
                          base=b["baseline_batches"]))
    more = b["more_batches"] if b["verdict"] != "not_seen" else None
    cols[4].metric(t("mon_more"), "—" if more is None else more,
                   help=t(f"mon_verdict_{b['verdict']}"))
    if b["value"] is not None:
        st.caption(t("mon_uplift_line", value=num(b["value"]), low=num(b["low"]), high=num(b["high"]),
                     trials=b["trials"], base=b["baseline_batches"], logged=s.get("logged_trials", 0)))
    for w in s.get("warnings", []):
        st.warning(w.get(lang()) or w.get("en"))


def _alerts(run_id: str, table: str) -> None:
    rows = api.alerts(run_id=run_id, table=table, limit=200)
    st.subheader(t("mon_alerts"))
    if not rows:
        st.caption(t("mon_no_alerts"))
        return
    kind = {k: t(f"mon_kind_{k}") for k in ("outcome", "residual", "compliance", "drift", "retrain")}
    st.dataframe([{t("mon_col_row"): a["row"], t("mon_col_time"): a["time"] or "",
                   t("mon_col_kind"): kind.get(a["kind"], a["kind"]), t("mon_col_rule"): a["rule"],
                   t("mon_col_column"): a["column"], t("mon_col_message"): a["zh"] if lang() == "zh" else a["message"],
                   t("mon_col_ack"): a["acknowledged_by"] or ""} for a in rows],
                 hide_index=True, width="stretch", key="mon_alert_table")
    open_ids = [a["alert_id"] for a in rows if not a["acknowledged_at"]]
    if not open_ids:
        return
    labels = {a["alert_id"]: f"{a['row']} · {kind.get(a['kind'], a['kind'])} · {a['column']}" for a in rows}
    with st.form("mon_ack_form"):
        chosen = st.multiselect(t("mon_ack_pick"), open_ids, format_func=labels.get, key="mon_ack_ids",
                                placeholder=t("mon_ack_placeholder"))
        c1, c2 = st.columns(2)
        user = c1.text_input(t("mon_ack_user"), value=auth.who().name, key="mon_ack_user")
        note = c2.text_input(t("mon_ack_note"), key="mon_ack_note")
        if st.form_submit_button(t("mon_ack"), type="primary"):
            try:
                api.authorize(auth.who(), "monitor.manage", f"run:{run_id}")
                n = api.acknowledge_alerts(chosen, user, note)
                api.audit(auth.who(), "alerts.acknowledge", f"run:{run_id}", "ok", f"{n} alert(s) as {user}")
                st.success(t("mon_acked", n=n, user=user))
            except StudioError as exc:
                show_error(exc)


@st.fragment(run_every=every or None)
def live_view(run_id: str, table: str, baseline: int, webhook: str) -> None:
    with guard():
        report = api.check_monitor(run_id, table, baseline=baseline, webhook=webhook or None)
        s, series = report["summary"], report["series"]
        if report["new_alerts"]:
            st.toast(t("mon_new_alerts", n=len(report["new_alerts"])), icon=":material/notifications_active:")
        st.caption(t("mon_checked", time=(report["monitor"].get("checked_at") or "—")[:19].replace("T", " "), rules=", ".join(s["rules"])))
        _metrics(s)
        if s["retrain"]["suggested"]:
            st.warning(t("mon_retrain_suggested") + "\n\n" + "\n".join(
                f"- {r.get(lang()) or r['en']}" for r in s["retrain"]["reasons"]))
        if auth.can("monitor.manage") and st.button(t("mon_retrain"), icon=":material/model_training:",
                                                     key="mon_retrain"):
            api.authorize(auth.who(), "tables.write", f"table:{table}")
            new_table, recipe = api.retrain_from_monitor(run_id, table, lang=lang())
            st.session_state["current_run"] = api.start_run_as(auth.who(), recipe)
            st.switch_page("pages/run.py")
        target = s["target"]
        tabs = st.tabs([t("mon_tab_outcome"), t("mon_tab_residual"), t("mon_tab_compliance"), t("mon_tab_drift"),
                        t("mon_tab_benefit")])
        with tabs[0]:
            st.plotly_chart(charts.individuals(series["outcome"], series["outcome_chart"],
                                               _sigma_limit(s, "outcome"), t("mon_outcome_chart", target=target)),
                            width="stretch", key="mon_chart_outcome")
            st.plotly_chart(charts.moving_range(series["outcome"], series["outcome_chart"],
                                                t("mon_mr_chart", what=target)), width="stretch", key="mon_chart_outcome_mr")
            st.plotly_chart(charts.ewma_cusum(series["outcome_chart"], t("mon_small_shifts", what=target)),
                            width="stretch", key="mon_chart_outcome_ewma")
        with tabs[1]:
            if series["residual_chart"] is None:
                st.info(t("mon_no_residual"))
            else:
                st.plotly_chart(charts.individuals(series["residual"], series["residual_chart"],
                                                   _sigma_limit(s, "residual"), t("mon_residual_chart", target=target)),
                                width="stretch", key="mon_chart_residual")
                st.plotly_chart(charts.moving_range(series["residual"], series["residual_chart"],
                                                    t("mon_mr_chart", what=t("mon_residual"))),
                                width="stretch", key="mon_chart_residual_mr")
                st.plotly_chart(charts.ewma_cusum(series["residual_chart"], t("mon_small_shifts",
                                                                              what=t("mon_residual"))),
                                width="stretch", key="mon_chart_residual_ewma")
        with tabs[2]:
            if series["compliance"]:
                st.plotly_chart(charts.compliance(series), width="stretch", key="mon_chart_compliance")
            st.dataframe([{t("mon_col_column"): c, t("mon_window"): f"[{num(w[0])}, {num(w[1])}]",
                           t("mon_compliance"): "—" if s["compliance"]["columns"].get(c) is None
                           else f"{s['compliance']['columns'][c]:.0%}"} for c, w in s["windows"].items()],
                         hide_index=True, width="stretch", key="mon_windows")
        with tabs[3]:
            st.caption(t("mon_drift_help", method=s["drift_method"].upper()))
            st.dataframe([{t("mon_col_column"): c, t("mon_drift_stat"): num(d["stat"]), "p": num(d["p"]),
                           t("mon_drift_flagged"): d["flagged_batches"]} for c, d in s["drift"].items()],
                         hide_index=True, width="stretch", key="mon_drift")
        with tabs[4]:
            st.plotly_chart(charts.benefit(s["benefit"], target), width="stretch", key="mon_chart_benefit")
        _alerts(run_id, table)


def _sigma_limit(summary: dict, chart: str) -> float:
    return summary["sigma_limits"][chart]


with guard():
    if st.button(t("mon_save"), key="mon_save", help=t("mon_save_help")):
        try:
            api.authorize(auth.who(), "monitor.manage", f"run:{run_id}")
            api.start_monitor(run_id, table, baseline=int(baseline), webhook=webhook or None)
            api.audit(auth.who(), "monitor.save", f"run:{run_id}", "ok", f"table {table}")
            st.success(t("mon_saved", table=table))
        except StudioError as exc:
            show_error(exc)
    live_view(run_id, table, int(baseline), webhook)
