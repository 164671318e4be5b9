"""Report sections of an image-inspection run (result.json's `outputs.inspection`), as pure data: the figures,
the confusion matrix, the OK-vs-defect cut, the misclassified images (a gallery of embedded thumbnails), what the
decisions rest on, and the time to judge one image."""

from __future__ import annotations

import plotly.graph_objects as go

from engine.report.text import num, tr


def _pct(value) -> str:
    return "—" if value is None else f"{num(100 * value, 3)} %"


def sections(result: dict, lang: str, fig) -> list[dict]:
    block = result["outputs"]["inspection"]
    metrics = result["metrics"]
    timing = block["timings"].get("judge_one_image_seconds") or {}
    kpis = [{"label": tr("img_balanced_accuracy", lang), "value": num(metrics["balanced_accuracy"], 4),
             "note": tr("img_folds", lang, folds=metrics["folds"], std=num(metrics["balanced_accuracy_std"], 2))},
            {"label": tr("img_accuracy", lang), "value": num(metrics["accuracy"], 4),
             "note": tr("img_images", lang, n=metrics["images"])},
            {"label": tr("img_latency", lang), "value": f"{num(timing.get('median_ms'), 3)} ms",
             "note": f"p95 {num(timing.get('p95_ms'), 3)} ms"}]
    decision = block.get("ok_vs_defect")
    if decision:
        kpis.append({"label": tr("img_escape", lang), "value": _pct(decision["escape_rate"]),
                     "note": tr("img_reinspect", lang, rate=_pct(decision["reinspection_rate"]),
                                cut=num(decision["threshold"], 3))})
    notes = [tr("img_cv_note", lang, folds=metrics["folds"], chosen=block["selection"]["final"],
                per_fold=", ".join(block["selection"]["chosen_per_fold"]))]
    if block["selection"].get("left_out_for_budget"):
        notes.append(tr("img_budget_note", lang, left=", ".join(block["selection"]["left_out_for_budget"]),
                        budget=num(block["selection"]["budget_s"], 4)))
    if decision and not decision.get("proven", True):
        notes.append(tr("img_unproven", lang, defects=decision["defects"], needed=decision["defects_needed"],
                        limit=_pct(decision["max_escape_rate"])))
    if decision:
        notes.append(tr("img_cut_note", lang, limit=_pct(decision["max_escape_rate"]),
                        conf=_pct(decision["confidence"]), escapes=decision["escapes"], defects=decision["defects"]))
    summary = {"id": "summary", "title": tr("summary", lang),
               "blocks": [{"kind": "kpis", "items": kpis}, {"kind": "list", "title": tr("caveats", lang), "items": notes}]}
    out = [summary, _confusion(block, lang, fig)]
    if decision:
        out.append(_curve(decision, lang, fig))
    out.append(_gallery(block, lang))
    explained = _explained(block, lang)
    if explained["blocks"]:
        out.append(explained)
    return out


def _confusion(block: dict, lang: str, fig) -> dict:
    classes, matrix = block["confusion"]["classes"], block["confusion"]["matrix"]
    figure = go.Figure(go.Heatmap(z=matrix, x=classes, y=classes, colorscale="Blues", text=matrix,
                                  texttemplate="%{text}", showscale=False))
    figure.update_layout(xaxis_title=tr("img_predicted", lang), yaxis_title=tr("img_actual", lang),
                         yaxis={"autorange": "reversed"})
    rows = [[c["class"], c["support"], num(c["precision"], 3), num(c["recall"], 3)] for c in block["per_class"]]
    return {"id": "img_confusion", "title": tr("img_confusion", lang), "blocks": [
        fig(figure, 360),
        {"kind": "table", "columns": [tr("img_class", lang), tr("img_support", lang), tr("img_precision", lang),
                                      tr("img_recall", lang)], "rows": rows}]}


def _curve(decision: dict, lang: str, fig) -> dict:
    pts = decision["curve"]
    figure = go.Figure(go.Scatter(x=[100 * p["reinspection_rate"] for p in pts], y=[100 * p["escape_rate"] for p in pts],
                                  mode="lines+markers", text=[f"cut {p['threshold']}" for p in pts]))
    figure.add_hline(y=100 * decision["max_escape_rate"], line_dash="dash", line_color="#e76f51")
    figure.add_trace(go.Scatter(x=[100 * decision["reinspection_rate"]], y=[100 * decision["escape_rate"]],
                                mode="markers", marker={"size": 12, "color": "#2a9d8f"}, name=tr("img_chosen", lang)))
    figure.update_layout(xaxis_title=tr("img_reinspection_axis", lang), yaxis_title=tr("img_escape_axis", lang),
                         showlegend=False)
    return {"id": "img_cut", "title": tr("img_cut", lang), "blocks": [fig(figure, 320)]}


def _gallery(block: dict, lang: str) -> dict:
    items = []
    for g in block["gallery"]:
        probs = sorted(g["probabilities"].items(), key=lambda kv: -kv[1])[:3]
        caption = f"{g['file']} · {tr('img_actual', lang)}: {g['label']} → {g['predicted']} · " + \
                  ", ".join(f"{k} {num(v, 2)}" for k, v in probs)
        items.append({"src": g["thumbnail"], "caption": caption})
    blocks = [{"kind": "gallery", "items": items}] if items else \
        [{"kind": "text", "text": tr("img_no_errors", lang)}]
    return {"id": "img_gallery", "title": tr("img_gallery", lang), "blocks": blocks}


def _explained(block: dict, lang: str) -> dict:
    blocks = []
    families = block.get("feature_families") or []
    if families:
        blocks.append({"kind": "text", "text": tr("img_families_note", lang)})
        blocks.append({"kind": "table", "columns": [tr("img_family", lang), tr("img_features", lang),
                                                    tr("img_importance", lang)],
                       "rows": [[f["label"][lang] if lang in f["label"] else f["label"]["en"], f["features"],
                                 num(f["importance"], 3)] for f in families]})
    regions = block.get("regions") or []
    if regions:
        blocks.append({"kind": "text", "text": tr("img_regions_note", lang)})
        blocks.append({"kind": "gallery", "items": [
            {"src": r["thumbnail"], "caption": f"{r['label']} → {r['class']} (p {num(r['probability'], 2)})",
             "boxes": [b["box"] for b in r["boxes"]]} for r in regions]})
    return {"id": "img_explained", "title": tr("img_explained", lang), "blocks": blocks}
