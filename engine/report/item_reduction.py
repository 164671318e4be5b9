"""Report sections of a test-item reduction run (result.json's `test_reduction` block), as pure data."""

from __future__ import annotations

import plotly.graph_objects as go

from engine.report.text import num, tr


def _pct(value) -> str:
    return "—" if value is None else f"{num(100 * value, 3)} %"


def _rate(rate: dict, lang: str) -> str:
    return tr("trr_rate", lang, count=rate["count"], of=rate["of"], low=_pct(rate["low"]), high=_pct(rate["high"]))


def sections(result: dict, lang: str, fig) -> list[dict]:
    """Summary (reduction and risk), the curve items kept → miss rate, the items kept and dropped."""
    block = result["test_reduction"]
    decision = block["decision"]
    kpis = [{"label": tr("trr_items", lang), "value": f"{block['items_total']} → {block['items_kept']}",
             "note": f"-{num(block['reduction_pct'], 3)} %"},
            {"label": tr("trr_miss", lang), "value": _pct(block["miss_rate"]["value"]),
             "note": _rate(block["miss_rate"], lang)},
            {"label": tr("trr_miss_kept_only", lang), "value": _pct(block["miss_rate_kept_only"]["value"]),
             "note": _rate(block["miss_rate_kept_only"], lang)},
            {"label": tr("trr_false_alarms", lang), "value": _pct(block["false_alarm_rate"]["value"]),
             "note": tr("trr_cost", lang, saved=num(block["cost"]["saved"]), pct=num(block["cost"]["saved_pct"], 3))}]
    notes = [tr(f"trr_decision_{decision['criterion']}", lang, folds=decision["folds"],
                limit=_pct(decision["max_miss_rate"]), needed=decision["bad_needed"])]
    notes += [w.get(lang, w["en"]) for w in block.get("warnings", [])]
    summary = {"id": "summary", "title": tr("summary", lang), "blocks": [
        {"kind": "kpis", "items": kpis}, {"kind": "list", "title": tr("caveats", lang), "items": notes}]}
    pts = block["curve"]
    kept = [p["kept"] for p in pts]
    figure = go.Figure([go.Scatter(x=kept, y=[100 * p[k] for p in pts], mode="lines", name=tr(label, lang))
                        for k, label in (("miss_rate", "trr_miss"), ("miss_high", "trr_bound"),
                                         ("miss_rate_kept_only", "trr_miss_kept_only"),
                                         ("false_alarm_rate", "trr_false_alarms"))])
    figure.add_hline(y=100 * decision["max_miss_rate"], line_dash="dash", line_color="#e76f51")
    figure.add_vline(x=block["items_kept"], line_color="#2a9d8f")
    figure.update_layout(xaxis_title=tr("trr_items", lang), yaxis_title="%", xaxis={"autorange": "reversed"})
    curve = {"id": "trr_curve", "title": tr("trr_curve", lang), "blocks": [fig(figure, 340)]}
    kept_rows = [[k["name"], k["fails"], k["unique"], num(k["stability"], 2), "✓" if k["mandatory"] else ""]
                 for k in block["kept"]]
    dropped_rows = [[d["name"], tr(f"trr_reason_{d['reason']}", lang), d["fails"],
                     ", ".join(c["name"] for c in d.get("covered_by", [])) or
                     ", ".join(p["name"] for p in (d.get("predicted_from") or {}).get("items", [])) or "—",
                     num(d["stability"], 2)] for d in block["dropped"]]
    items = {"id": "trr_items_section", "title": tr("trr_items_section", lang), "blocks": [
        {"kind": "table", "title": tr("trr_kept", lang),
         "columns": [tr("parameter", lang), tr("trr_fails", lang), tr("trr_unique", lang), tr("stability", lang),
                     tr("trr_mandatory", lang)], "rows": kept_rows},
        {"kind": "table", "title": tr("trr_dropped", lang),
         "columns": [tr("parameter", lang), tr("trr_reason", lang), tr("trr_fails", lang), tr("trr_by", lang),
                     tr("stability", lang)], "rows": dropped_rows}]}
    return [summary, curve, items]
