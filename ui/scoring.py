""""Apply to new data": upload a file or pick a table, score it with a run's saved model, preview the predictions,
download them, keep them as a table. Shared by the Results and History pages; all work is engine.api.score."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from engine import api
from engine.core.errors import InvalidInput, StudioError
from ui import auth
from ui.i18n import t
from ui.widgets import guard, localized_uploader_css, num, show_error

PREVIEW_ROWS = 200


def show_apply(run_id: str, result: dict, key: str, folded: bool = False) -> None:
    """The apply-to-new-data section for one run; `key` keeps two pages' widgets apart; `folded`: in an expander."""
    if folded:
        with st.expander(t("apply_title") + f" · {run_id}", icon=":material/query_stats:"):
            _section(run_id, result, key)
    else:
        st.subheader(t("apply_title"))
        _section(run_id, result, key)


def _section(run_id: str, result: dict, key: str) -> None:
    scoring = result.get("scoring") or {}
    if not scoring.get("available"):
        st.info(t("apply_no_model"))
        return
    k = f"{key}.{run_id}"
    labels = [t("apply_source_upload"), t("apply_source_table")]
    how = st.radio(t("apply_source"), labels, horizontal=True, key=f"apply_how.{k}")
    upload, table = None, None
    if how == labels[0]:
        localized_uploader_css(["csv", "parquet", "xlsx"])
        upload = st.file_uploader(t("apply_upload"), type=["csv", "parquet", "xlsx"], key=f"apply_file.{k}")
    else:
        names = [info.name for info in api.tables()]
        table = st.selectbox(t("apply_table"), names, key=f"apply_table.{k}") if names else None
    roles = (result.get("recipe") or {}).get("content", {}).get("roles", {})
    used = {c for cols in roles.values() for c in ([cols] if isinstance(cols, str) else cols or [])}
    keep = st.multiselect(t("apply_keep"), sorted(used), key=f"apply_keep.{k}", placeholder=t("form_pick"))
    ready = upload is not None or table is not None
    if st.button(t("apply_button"), disabled=not ready, key=f"apply_go.{k}", icon=":material/query_stats:"):
        with guard(), st.spinner(t("apply_running")):
            st.session_state[f"apply_result.{k}"] = _score(run_id, upload, table, keep)
    scored = st.session_state.get(f"apply_result.{k}")
    if scored is not None:
        _show(run_id, scored, k)


def _score(run_id: str, upload, table: str | None, keep: list[str]):
    api.authorize(auth.who(), "runs.score", f"run:{run_id}")
    api.audit(auth.who(), "runs.score", f"run:{run_id}", "ok", table or (upload.name if upload else None))
    if upload is None:
        return api.score(run_id, table=table, keep=keep, collect=True)
    with tempfile.TemporaryDirectory(prefix="apply-") as tmp:
        path = Path(tmp) / f"upload{Path(upload.name).suffix.lower()}"
        path.write_bytes(upload.getvalue())
        try:
            return api.score(run_id, path, keep=keep, collect=True)
        except InvalidInput as exc:
            raise exc.on_screen({str(path): upload.name}) from None


def _show(run_id: str, scored, k: str) -> None:
    frame = scored.frame
    st.success(t("apply_done", rows=f"{scored.rows:,}", seconds=num(scored.seconds)))
    if scored.out_of_range:
        cols = ", ".join(f"{c} ({n})" for c, n in sorted(scored.out_of_range_columns.items(), key=lambda x: -x[1])[:6])
        st.warning(t("apply_out_of_range", rows=f"{scored.out_of_range:,}", columns=cols))
    model = scored.model
    if model.get("task") == "classification":
        st.caption(t("apply_caption_class", threshold=num(model.get("threshold")), target=model.get("target")))
    elif model.get("task") == "regression":
        st.caption(t("apply_caption_reg", target=model.get("target")))
    st.dataframe(frame.head(PREVIEW_ROWS), hide_index=True, width="stretch")
    if len(frame) > PREVIEW_ROWS:
        st.caption(t("apply_preview_rows", shown=PREVIEW_ROWS, rows=f"{len(frame):,}"))
    c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
    c1.download_button(t("apply_download"), frame.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"predictions-{run_id}.csv", mime="text/csv", key=f"apply_dl.{k}",
                       icon=":material/download:")
    name = c2.text_input(t("apply_keep_table"), value=f"predictions_{run_id.replace('-', '_')}", key=f"apply_into.{k}")
    if c3.button(t("apply_save_table"), key=f"apply_save.{k}"):
        try:
            api.authorize(auth.who(), "tables.write", f"table:{name}")
            api.save_frame_table(frame, name)
            api.audit(auth.who(), "tables.predictions", f"table:{name}", "ok", f"run {run_id}")
            st.success(t("apply_saved", table=name))
        except StudioError as exc:
            show_error(exc)
