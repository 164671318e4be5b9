"""Streamlit pieces of the Template Studio: the library table, problems by line, a version diff, a dry-run result."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.i18n import bilingual, choice_label, lang, t
from ui.widgets import num, seconds


def library_table(lib) -> None:
    """Every template with its newest and older versions; broken files with their problems at file:line."""
    rows = []
    for template_id in sorted(lib.templates):
        versions = lib.versions(template_id)
        newest = lib.get(template_id)
        rows.append({t("ts_col_id"): template_id, t("ts_col_title"): bilingual(newest.template.title),
                     t("ts_col_newest"): versions[-1], t("ts_col_older"): ", ".join(reversed(versions[:-1])),
                     t("ts_col_file"): newest.path.name})
    st.dataframe(rows, hide_index=True, width="stretch")
    if lib.broken:
        with st.expander(t("ts_broken", n=len(lib.broken))):
            for path, issues in lib.broken.items():
                st.error(f"{path}\n\n" + "\n".join(f"- {bilingual(i)}" for i in issues))


def issue_text(issue) -> str:
    """`Line 18: steps[1].op: unknown operator … — hint` in the session's language (the line first: it is what the
    author looks for)."""
    body = (f"{issue.path}: " if issue.path else "") + issue.body(lang())
    return t("ts_issue", line=issue.line or "?", message=body)


def show_issues(issues: list, kind: str = "error") -> None:
    if kind == "error" and issues:
        st.error(t("ts_problems", n=len(issues)) + "\n\n" + "\n".join(f"- {issue_text(i)}" for i in issues))
    for issue in issues if kind != "error" else []:
        st.warning(issue_text(issue))


def diff_table(diff) -> None:
    if not diff.changes:
        st.info(t("ts_no_changes"))
        return
    st.markdown(t("ts_diff_needs", n=len(diff.changes), level=choice_label(diff.required, "level")))
    st.dataframe([{t("ts_col_area"): choice_label(c.area, "diff"), t("ts_col_name"): c.name,
                   t("ts_col_kind"): choice_label(c.kind, "change"), t("ts_col_detail"): bilingual(c.detail),
                   t("ts_col_level"): choice_label(c.level, "level")} for c in diff.changes],
                 hide_index=True, width="stretch")


def dry_run_result(result: dict[str, Any]) -> None:
    sample = result["sample"]
    if result["status"] == "succeeded":
        st.success(t("ts_dry_ok", rows=sample["rows"], table=sample["table"],
                     seconds=result["timings"]["total_seconds"]))
    else:
        error = result.get("error") or {}
        message = bilingual({"en": error.get("message"), "zh": error.get("zh")})  # the engine stores both
        st.error(t("ts_dry_failed", step=error.get("step"), message=message))
    metrics = {k: v for k, v in (result.get("metrics") or {}).items() if isinstance(v, dict) and "mean" in v}
    if metrics:
        st.markdown(f"**{t('ts_metrics')}**")
        st.dataframe([{t("col_metric"): k, t("ts_mean"): num(v["mean"]), t("ts_std"): num(v.get("std"))}
                      for k, v in metrics.items()], hide_index=True)
    steps = result["timings"].get("steps") or []
    if steps:
        st.dataframe([{t("col_step"): s["step"], t("col_operator"): s["op"], t("col_status"): choice_label(s["status"]),
                       t("col_seconds"): seconds(s["seconds"])} for s in steps], hide_index=True)
    if result.get("recommendations"):
        st.markdown(f"**{t('recommendations')}**")
        st.dataframe([{t("col_name"): r["name"], t("col_value"): num(r.get("value")),
                       t("col_baseline"): num(r.get("baseline"))} for r in result["recommendations"]],
                     hide_index=True)
