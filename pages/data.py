"""Data factory: upload a file as a table, see the tables with their readiness, preview, profile, clean."""

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from engine import api
from engine.core.errors import InvalidInput
from engine.api import IngestOptions
from ui import auth, charts
from ui.forms import model_form
from ui.i18n import bilingual, choice_label, has, labeller, t
from ui.widgets import guard, localized_uploader_css, num, page_start, place_issues

page_start()

st.title(t("data_title"))
st.caption(t("data_intro"))


def ingest_upload(upload, table: str, options: dict) -> None:
    folder = Path(tempfile.mkdtemp(prefix="studio-upload-"))
    path = folder / Path(upload.name).name
    try:
        path.write_bytes(upload.getbuffer())
        bar = st.progress(0.0, text=t("ingesting"))
        try:
            info = api.ingest_as(auth.who(), path, table, options=options,
                                 on_progress=lambda f, _m: bar.progress(min(max(f, 0.0), 1.0), text=t("ingesting")))
        except InvalidInput as exc:  # name the user's file, not its temporary copy; say what to do on this page
            raise exc.on_screen({str(path): upload.name}) from None
        bar.empty()
        st.session_state["data_table"] = info.name
        st.session_state["data_ingested"] = {"name": info.name, "rows": info.rows, "columns": len(info.columns),
                                             "warnings": info.warnings}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def name_from_upload() -> None:
    """A new file proposes its name as the table name, or name_2 ... when taken (the user may change it)."""
    upload = st.session_state.get("data_upload")
    st.session_state["data_name"] = api.catalog().free_name(Path(upload.name).stem) if upload else ""


UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "xlsm", "parquet", "zip"]
with st.expander(t("upload_title"), expanded=not api.tables()):
    localized_uploader_css(UPLOAD_TYPES)
    upload = st.file_uploader(t("upload_file"), type=UPLOAD_TYPES,
                              key="data_upload", on_change=name_from_upload)
    st.caption(t("upload_zip_note"))
    table_name = st.text_input(t("table_name"), key="data_name")
    with st.container(border=True):
        st.caption(t("ingest_options"))
        form = model_form(IngestOptions, key="ingest")
    if not auth.can("tables.write"):
        auth.refused("tables.write")
    elif st.button(t("upload_button"), type="primary", disabled=upload is None or bool(form.errors)):
        with guard():
            try:
                form.check(IngestOptions, "options")
                ingest_upload(upload, table_name.strip(), form.values)
            except InvalidInput as exc:
                place_issues(exc, form, "options")

done = st.session_state.get("data_ingested")
if done:
    st.success(t("ingested", **{k: done[k] for k in ("name", "rows", "columns")}))
    for warning in done["warnings"]:
        st.warning(bilingual(warning))

with guard():
    tables = api.tables()
    if not tables:
        st.info(t("no_tables_upload"))
        if auth.can("tables.write") and st.button(t("load_demo")):
            api.ensure_demo_as(auth.who())
            st.rerun()
        st.stop()

    def readiness(name: str):
        try:
            return api.profile_table(name)["readiness"]["score"]
        except Exception:  # noqa: BLE001 — a table that cannot be profiled still appears in the list
            return None

    st.subheader(t("tables"))
    st.dataframe([{t("col_table"): i.name, t("col_rows"): i.rows, t("col_columns"): len(i.columns),
                   t("col_readiness"): readiness(i.name), t("col_source"): bilingual(i.source), t("col_ingested"): i.ingested_at}
                  for i in tables], hide_index=True, width="stretch")

    names = [i.name for i in tables]
    current = st.session_state.get("data_table")
    name = st.selectbox(t("pick_table"), names, index=names.index(current) if current in names else 0,
                        key="data_pick")
    st.session_state["data_table"] = name
    info = next(i for i in tables if i.name == name)
    preview_tab, profile_tab, clean_tab = st.tabs([t("tab_preview"), t("tab_profile"), t("tab_clean")])

with preview_tab, guard():
    if api.is_image_table(name):   # an image table: a few images of each class before the rows
        st.markdown(f"**{t('img_samples')}**")
        for label, samples in api.image_samples(name, per_class=8).items():
            st.caption(f"{label or t('img_unlabelled')}")
            cols = st.columns(8)
            for col, sample in zip(cols, samples):
                col.image(sample["png"], caption=sample["file"], width="stretch")
    st.caption(t("preview_caption", rows=info.rows))
    st.dataframe(api.preview_table(name, 50), hide_index=True, width="stretch")

with profile_tab, guard():
    profile = api.profile_table(name)
    ready = profile["readiness"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("readiness"), num(ready["score"]))
    c2.metric(t("data_density"), num(ready["data_density"]))
    c3.metric(t("collection_density"), num(ready["collection_density"]))
    c4.metric(t("duplicates"), profile["duplicate_rows"])
    for reason in ready["reasons"]:
        (st.warning if reason.get("lowers_score") else st.info)(bilingual(reason))
    if any(c["missing"] for c in profile["columns"]):
        st.plotly_chart(charts.missing_bar(profile), width="stretch")
    else:  # an empty bar chart would draw a meaningless -1..1 axis
        st.caption(t("no_missing_values"))
    charted = [c for c in profile["columns"] if c.get("histogram")]  # numeric bins or text top values
    if charted:
        col = st.selectbox(t("histogram_of"), [c["name"] for c in charted], key=f"hist_{name}")
        st.plotly_chart(charts.distribution(next(c for c in charted if c["name"] == col)), width="stretch")
    st.dataframe([{t("col_column"): c["name"], t("col_kind"): choice_label(c["class"]),
                   t("col_missing_pct"): c["missing_pct"], t("col_distinct"): c["distinct"],
                   t("col_min"): num(c.get("min")), t("col_mean"): num(c.get("mean")), t("col_max"): num(c.get("max"))}
                  for c in profile["columns"]], hide_index=True, width="stretch")

with clean_tab, guard():
    ops = {op.id: op for op in api.table_operators()}
    op_id = st.selectbox(t("clean_operator"), list(ops), format_func=labeller(ops), key="clean_op")
    op = ops[op_id]
    if has(f"op_help.{op_id}"):
        st.caption(t(f"op_help.{op_id}"))
    right = None
    if "right" in op.inputs:
        right = st.selectbox(t("clean_right"), [n for n in names if n != name], key="clean_right")
    form = model_form(op.params_model, key=f"op.{op_id}.{name}", columns=list(info.columns))
    new_name = st.text_input(t("new_table"), value=f"{name}_{op_id.split('.')[-1]}", key=f"clean_new_{name}_{op_id}")
    if not auth.can("tables.write"):
        auth.refused("tables.write")
    elif st.button(t("clean_button"), type="primary", disabled=bool(form.errors)):
        try:
            new_info, report = api.derive_table_as(auth.who(), name, op_id, form.values, new_name.strip(), right=right)
        except InvalidInput as exc:
            place_issues(exc, form, "params")
        else:
            st.success(t("derived", name=new_info.name, rows=new_info.rows, source=name))
            st.json(report, expanded=False)
