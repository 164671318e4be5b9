"""Results of an image-inspection run: figures, confusion matrix, the OK-vs-defect cut, the misclassified images,
what the decisions rest on, and scoring an uploaded zip of new images. Drawn from result.json's
`outputs.inspection`; the scoring goes through engine.api."""

from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from engine import api
from engine.core.errors import InvalidInput
from ui import auth
from ui.i18n import lang, t
from ui.widgets import num


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.2f} %"


def _png(data_uri: str | None) -> bytes | None:
    return base64.b64decode(data_uri.split(",", 1)[1]) if data_uri else None


def confusion_figure(block: dict) -> go.Figure:
    classes, matrix = block["confusion"]["classes"], block["confusion"]["matrix"]
    fig = go.Figure(go.Heatmap(z=matrix, x=classes, y=classes, colorscale="Blues", text=matrix, texttemplate="%{text}",
                               showscale=False))
    fig.update_layout(title=t("img_confusion"), xaxis_title=t("img_predicted"), yaxis_title=t("img_actual"),
                      yaxis={"autorange": "reversed"}, height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def escape_figure(decision: dict) -> go.Figure:
    pts = decision["curve"]
    fig = go.Figure(go.Scatter(x=[100 * p["reinspection_rate"] for p in pts], y=[100 * p["escape_rate"] for p in pts],
                               mode="lines+markers", name=t("img_curve"),
                               hovertext=[f"cut {p['threshold']}" for p in pts]))
    fig.add_trace(go.Scatter(x=[100 * decision["reinspection_rate"]], y=[100 * decision["escape_rate"]], mode="markers",
                             marker={"size": 13, "color": "#2a9d8f"}, name=t("img_chosen")))
    fig.add_hline(y=100 * decision["max_escape_rate"], line_dash="dash", line_color="#d62728",
                  annotation_text=t("img_limit"))
    fig.update_layout(title=t("img_cut_title"), xaxis_title=t("img_reinspection_axis"),
                      yaxis_title=t("img_escape_axis"), height=380, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      showlegend=False)
    return fig


def show_inspection(result: dict[str, Any]) -> None:
    block, metrics = result["outputs"]["inspection"], result["metrics"]
    timing = block["timings"].get("judge_one_image_seconds") or {}
    decision = block.get("ok_vs_defect")
    st.subheader(t("img_title"))
    cols = st.columns(4)
    cols[0].metric(t("img_balanced_accuracy"), num(metrics["balanced_accuracy"]),
                   help=t("img_ba_help", folds=metrics["folds"]))
    cols[0].caption(t("img_spread", std=num(metrics["balanced_accuracy_std"]),
                      folds=", ".join(num(v) for v in metrics["balanced_accuracy_folds"])))
    cols[1].metric(t("img_accuracy"), num(metrics["accuracy"]))
    cols[1].caption(t("img_images", n=metrics["images"], unlabelled=metrics.get("unlabelled", 0)))
    if decision:
        cols[2].metric(t("img_escape"), _pct(decision["escape_rate"]), help=t("img_escape_help"))
        cols[2].caption(t("img_reinspect", rate=_pct(decision["reinspection_rate"]), cut=num(decision["threshold"])))
    cols[3].metric(t("img_latency"), f"{num(timing.get('median_ms'))} ms")
    cols[3].caption(f"p95 {num(timing.get('p95_ms'))} ms · {t('img_latency_note')}")
    sel = block["selection"]
    st.caption(t("img_choice", chosen=sel["final"], per_fold=", ".join(sel["chosen_per_fold"]),
                 budget=num(sel["budget_s"])) + (" " + t("img_left_out", left=", ".join(sel["left_out_for_budget"]))
                                                if sel.get("left_out_for_budget") else ""))
    left, right = st.columns(2)
    left.plotly_chart(confusion_figure(block), width="stretch")
    if decision:
        right.plotly_chart(escape_figure(decision), width="stretch")
        if not decision.get("proven", True):
            st.warning(t("img_unproven", defects=decision["defects"], needed=decision["defects_needed"],
                         limit=_pct(decision["max_escape_rate"])))
        st.caption(t("img_cut_note", limit=_pct(decision["max_escape_rate"]), conf=_pct(decision["confidence"]),
                     escapes=decision["escapes"], defects=decision["defects"]))
    st.dataframe([{t("img_class"): c["class"], t("img_support"): c["support"], t("img_precision"): num(c["precision"]),
                   t("img_recall"): num(c["recall"])} for c in block["per_class"]], hide_index=True, width="stretch")
    _gallery(block)
    _explained(block)
    _score_zip(result["run_id"])


def _gallery(block: dict) -> None:
    st.markdown(f"#### {t('img_gallery')}")
    items = block.get("gallery") or []
    if not items:
        st.caption(t("img_no_errors"))
        return
    cols = st.columns(6)
    for i, g in enumerate(items):
        probs = sorted(g["probabilities"].items(), key=lambda kv: -kv[1])[:3]
        with cols[i % 6]:
            if g.get("thumbnail"):
                st.image(_png(g["thumbnail"]), width="stretch")
            st.caption(f"{g['file']}  \n{t('img_actual')}: **{g['label']}** → {g['predicted']}  \n"
                       + ", ".join(f"{k} {num(v)}" for k, v in probs))


def _explained(block: dict) -> None:
    families = block.get("feature_families") or []
    if not families:
        return
    st.markdown(f"#### {t('img_explained')}")
    st.caption(t("img_families_note"))
    st.dataframe([{t("img_family"): f["label"].get(lang(), f["label"]["en"]), t("img_features"): f["features"],
                   t("img_importance"): num(f["importance"])} for f in families], hide_index=True, width="stretch")
    regions = block.get("regions") or []
    if regions:
        st.caption(t("img_regions_note"))
        cols = st.columns(6)
        for i, r in enumerate(regions):
            with cols[i % 6]:
                st.image(_boxed(_png(r["thumbnail"]), [b["box"] for b in r["boxes"]]), width="stretch")
                st.caption(f"{r['label']} → {r['class']} ({num(r['probability'])})")


def _boxed(png: bytes, boxes: list[list[float]]) -> bytes:
    """The thumbnail with the candidate regions outlined (drawing only; the boxes come from the engine)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.open(io.BytesIO(png)).convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for top, left, bottom, right in boxes:
        draw.rectangle([left * w, top * h, right * w - 1, bottom * h - 1], outline=(230, 57, 70), width=2)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _score_zip(run_id: str) -> None:
    st.markdown(f"#### {t('img_score_title')}")
    st.caption(t("img_score_help"))
    upload = st.file_uploader(t("img_score_upload"), type=["zip"], key=f"img_score_{run_id}")
    if upload is None:
        return
    key = f"img_scored_{run_id}_{upload.name}_{upload.size}"
    if key not in st.session_state:
        folder = Path(tempfile.mkdtemp(prefix="studio-score-"))
        try:
            path = folder / Path(upload.name).name
            path.write_bytes(upload.getbuffer())
            with st.spinner(t("img_scoring")):
                try:
                    api.authorize(auth.who(), "runs.score", f"run:{run_id}")
                    st.session_state[key] = api.score_images(run_id, path)
                    api.audit(auth.who(), "runs.score", f"run:{run_id}", "ok", upload.name)
                except InvalidInput as exc:
                    raise exc.on_screen({str(path): upload.name}) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    frame = st.session_state[key]
    counts = frame["prediction"].value_counts().to_dict()
    st.caption(t("img_scored", n=len(frame), counts=", ".join(f"{k}: {v}" for k, v in counts.items())))
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(t("img_score_download"), frame.to_csv(index=False), file_name=f"scores_{run_id}.csv",
                       mime="text/csv")
