"""Results page: the model-search leaderboard, the parameters judged copies of others, the smooth optimiser's
caption (plain data from result.json; layout only)."""

from __future__ import annotations

import streamlit as st

from ui.i18n import choice_label, lang, t
from ui.widgets import num


def show_leaderboard(result: dict) -> None:
    board = (result.get("outputs") or {}).get("leaderboard")
    if not board or not board.get("rows"):
        return
    label = "label_zh" if lang() == "zh" else "label"
    metric = board["metric"].upper().replace("R2", "R²")
    st.subheader(t("leaderboard_title"))
    chosen = next((r[label] for r in board["rows"] if r["chosen"]), board["chosen"])
    st.caption(t("leaderboard_caption", folds=board["folds"], cv=choice_label(board["cv"]), chosen=chosen,
                 budget=num(board["budget_seconds"]), seconds=num(board["seconds"])))
    st.dataframe([{t("lb_col_model"): r[label], t("lb_col_chosen"): "✓" if r["chosen"] else "",
                   t("lb_col_metric", metric=metric): f"{num(r['mean'])} ± {num(r['std'], 2)}"
                   if r["mean"] is not None else "—",
                   t("lb_col_settings"): ", ".join(f"{k}={num(v) if isinstance(v, float) else v}"
                                                   for k, v in r["settings"].items()),
                   t("lb_col_fit"): num(r["fit_seconds"])} for r in board["rows"]], hide_index=True, width="stretch")
    skipped = sorted({s["family"] for s in board.get("skipped") or []} - {r["model"] for r in board["rows"]})
    if skipped:
        st.caption(t("lb_skipped", names=", ".join(skipped)))


def show_copies(result: dict) -> None:
    copies = (result.get("outputs") or {}).get("copies")
    if not copies:
        return
    st.subheader(t("copies_title"))
    st.caption(t("copies_caption"))
    st.dataframe([{t("cp_col_copy"): c["copy"], t("cp_col_of"): c["of"], t("cp_col_corr"): num(c["corr"], 3),
                   t("cp_col_cost"): f"{num(c['p_copy_adds'], 3)} / "
                                     f"{num(c['p_driver_adds'], 3)}",
                   t("cp_col_verdict"): t("cp_judged" if c["judged_copy"] else "cp_forced"
                                          if c.get("overruled_by_force") else "cp_kept")} for c in copies],
                 hide_index=True, width="stretch")


def smooth_solver_caption(predicted: dict) -> bool:
    """The caption for the smooth optimiser (True when it applied)."""
    solver = predicted.get("solver") or {}
    if solver.get("name") != "slsqp-multistart":
        return False
    st.caption(t("smooth_solver_caption", starts=solver.get("starts"), agreeing=solver.get("agreeing_starts"),
                 status=t(f"solver_status_{solver.get('status')}"), seconds=num(solver.get("seconds"), 2),
                 verified=t("verified_ok" if (predicted.get("verification") or {}).get("ok") else "verified_failed")))
    return True
