"""The report as pure data: sections of blocks (text, kpis, table, figure, list, code), built once from a run.

Renderers (HTML, PDF) only lay the blocks out; nothing here knows about HTML.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import plotly.graph_objects as go

from engine import __version__
from engine.report.text import num, signed, tr, word
from engine.report.trial import batches_per_arm
from engine.core.yaml_io import dump


def _fig(fig: go.Figure, height: int = 320) -> dict:
    fig.update_layout(height=height, margin=dict(l=50, r=20, t=30, b=40), template="plotly_white",
                      font=dict(family="Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"))
    return {"kind": "figure", "figure": json.loads(fig.to_json())}


def build_report(result: dict, lang: str = "en", *, profile: dict | None = None,
                 economics: dict | None = None) -> dict[str, Any]:
    """Everything a plant manager needs from one run, in `lang` ('en' or 'zh')."""
    pred = result.get("predicted") or {}
    title = tr("title", lang)
    if result.get("test_reduction"):          # test-item reduction: its own summary, curve and item lists
        from engine.report.item_reduction import sections as reduction_sections

        title = tr("trr_title", lang)
        sections = [*reduction_sections(result, lang, _fig), _data(result, lang, profile), _model(result, lang),
                    _appendix(result, lang)]
    elif (result.get("outputs") or {}).get("inspection"):   # image inspection: figures, gallery, explanations
        from engine.report.inspection import sections as inspection_sections

        title = tr("img_title", lang)
        sections = [*inspection_sections(result, lang, _fig), _data(result, lang, None), _appendix(result, lang)]
    elif _is_pdm(result):                    # predictive maintenance: health, units at risk, sensors, alarms
        from engine.report import pdm as pdm_report

        title = pdm_report.t("title", lang)
        sections = [*pdm_report.sections(result, lang, _fig), _data(result, lang, profile), _model(result, lang),
                    _appendix(result, lang)]
    else:
        from engine.report.firsthour import verdict_section
        from engine.report.model_search import sections as search_sections
        from engine.report.scale import sections as scale_sections

        sections = [verdict_section(result, lang), _summary(result, pred, lang, economics), _data(result, lang, profile),
                    _model(result, lang), *search_sections(result, lang, _section),
                    *scale_sections(result, lang, _section, _fig), _keys(result, lang),
                    _recommendations(result, pred, lang), _trial(result, pred, lang), _appendix(result, lang)]
    return {"lang": lang, "title": title, "subtitle": result["recipe"].get("name"),
            "run_id": result["run_id"], "status": result["status"],
            "generated": tr("generated", lang, time=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
            + (f" · {tr('run_by', lang)} {result['user']}" if result.get("user") else ""),
            "sections": [s for s in sections if s["blocks"]]}


def _is_pdm(result: dict) -> bool:
    from engine.report.pdm import is_pdm

    return is_pdm(result)


def _section(sid: str, lang: str, blocks: list[dict]) -> dict:
    return {"id": sid, "title": tr(sid, lang), "blocks": blocks}


def _controls(result: dict) -> list[str]:
    return [r["name"] for r in result.get("recommendations", [])]


def _summary(result: dict, pred: dict, lang: str, economics: dict | None) -> dict:
    if not pred:
        return _section("summary", lang, [{"kind": "text", "text": result.get("error", {}).get("message", "")}])
    target, up = pred["target"], pred.get("uplift", {})
    goal = tr(f"goal_{pred.get('goal', 'maximize')}", lang)
    kpis = [{"label": tr("baseline", lang), "value": num(pred["baseline"]["value"]),
             "note": tr("interval", lang, low=num(pred["baseline"]["low"]), high=num(pred["baseline"]["high"]))},
            {"label": tr("expected", lang, target=target), "value": num(pred["recommended"]["value"]),
             "note": tr("interval", lang, low=num(pred["recommended"]["low"]), high=num(pred["recommended"]["high"]))},
            {"label": tr("uplift", lang), "value": signed(up.get("value")) + (
                f" ({signed(up['pct'])} %)" if up.get("pct") is not None else ""),
             "note": tr("interval", lang, low=signed(up.get("low")), high=signed(up.get("high")))}]
    from engine.report.firsthour import actionable, summary_items

    possible = actionable(result)   # an impossible result states no saving and no money
    kpis += _savings_kpis(result.get("savings"), lang) if possible else []
    if economics and up.get("value") is not None and possible:
        value = up["value"] * economics["price"] * economics["volume"]
        kpis.append({"label": tr("money", lang), "value": f"{num(value)} {economics.get('currency', '')}".strip(),
                     "note": tr("interval", lang, low=num(up["low"] * economics["price"] * economics["volume"]),
                                high=num(up["high"] * economics["price"] * economics["volume"]))})
    answer = ", ".join(f"{r['name']} = {num(r['value'])}" for r in result["recommendations"])
    caveats = [w.get(lang, w.get("en")) for w in pred.get("warnings", []) + result["metrics"].get("warnings", [])]
    return _section("summary", lang, [
        {"kind": "kv", "items": [[tr("question", lang), tr("question_text", lang, controls=", ".join(
            _controls(result)), goal=goal, target=target)], [tr("answer", lang), answer],
            [tr("confidence", lang), _confidence(result["metrics"], lang)], *summary_items(result, lang)]},
        {"kind": "kpis", "items": kpis},
        {"kind": "list", "title": tr("caveats", lang), "items": caveats or [tr("no_caveats", lang)]}])


def _savings_kpis(savings: dict | None, lang: str) -> list[dict]:
    """Energy templates: the saving in % of the energy used and, with a price and hours, money per year."""
    if not savings or savings["pct"]["value"] is None:
        return []
    pct, money = savings["pct"], savings.get("money_per_year")
    out = [{"label": tr("energy_saving", lang), "value": f"{num(pct['value'], 3)} %",
            "note": tr("interval", lang, low=num(pct["low"], 3), high=num(pct["high"], 3))}]
    if money and money["value"] is not None:
        out.append({"label": tr("money_year", lang), "value": f"{money['value']:,.0f} {money['unit']}",
                    "note": tr("interval", lang, low=f"{money['low']:,.0f}", high=f"{money['high']:,.0f}")})
    return out


def _confidence(metrics: dict, lang: str) -> str:
    key = "r2" if "r2" in metrics else "auc"
    if key not in metrics:
        return "—"
    return tr("confidence_text", lang, metric=key.upper().replace("R2", "R²"), mean=num(metrics[key]["mean"], 3),
              std=num(metrics[key]["std"], 2), folds=metrics.get("folds"), cv=word("cv", metrics.get("cv"), lang))


def _data(result: dict, lang: str, profile: dict | None) -> dict:
    data = result["data"]
    items = [[tr("source", lang), _source(data, lang)], [tr("rows", lang), num(data["rows"], 9)],
             [tr("columns", lang), data["columns"]]]
    if profile:
        time = profile.get("time") or {}
        if time.get("start"):
            items.append([tr("period", lang), f"{time['start']} — {time['end']}"])
        items.append([tr("readiness", lang), f"{num(profile['readiness']['score'], 3)} / 100"])
    cleaning = result.get("outputs", {}).get("cleaning")
    if cleaning:
        items.append([tr("cleaning", lang), tr("cleaning_text", lang, rows_in=cleaning["rows_in"],
                                                 rows_out=cleaning["rows_out"],
                                                 dropped=len(cleaning["dropped_columns"]))])
    blocks = [{"kind": "kv", "items": items}]
    if profile:
        blocks.append({"kind": "list", "items": [r[lang] if lang in r else r["en"]
                                                 for r in profile["readiness"].get("reasons", [])]})
    return _section("data", lang, blocks)


def _source(data: dict, lang: str) -> str:
    """Where the data came from, in `lang` (result.json keeps the English label; the binding says the kind)."""
    binding = data.get("binding") or {}
    for kind in ("table", "file"):
        if binding.get(kind):
            return tr(f"source_{kind}", lang, name=binding[kind])
    return tr("source_sql", lang) if binding.get("sql") else str(data.get("source", "—"))


def _model(result: dict, lang: str) -> dict:
    metrics = result["metrics"]
    names = [k for k, v in metrics.items() if isinstance(v, dict) and "mean" in v]
    rows = [[k.upper().replace("R2", "R²"), num(metrics[k]["mean"]), num(metrics[k]["std"]),
             ", ".join(num(v, 3) for v in metrics[k]["folds"])] for k in names]
    blocks = [{"kind": "table", "columns": [tr("metric", lang), tr("mean", lang), tr("spread", lang),
                                            tr("per_fold", lang)], "rows": rows}] if rows else []
    pairs = result.get("outputs", {}).get("model_report", {}).get("predicted_vs_actual")
    if pairs and pairs["actual"]:
        lo, hi = min(pairs["actual"] + pairs["predicted"]), max(pairs["actual"] + pairs["predicted"])
        fig = go.Figure([go.Scatter(x=pairs["actual"], y=pairs["predicted"], mode="markers",
                                    marker=dict(size=5, opacity=0.5), name=tr("predicted", lang)),
                         go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dash", color="grey"),
                                    showlegend=False)])
        fig.update_layout(title=tr("pred_vs_actual", lang), xaxis_title=tr("actual", lang),
                          yaxis_title=tr("predicted", lang), showlegend=False)
        blocks.append(_fig(fig))
    return _section("model", lang, blocks)


def _keys(result: dict, lang: str) -> dict:
    keys = result.get("key_parameters", [])[:20]
    if not keys:
        return _section("key_parameters", lang, [])
    words = {1: tr("up", lang), -1: tr("down", lang), 0: tr("mixed", lang)}
    colours = {1: "#2a9d8f", -1: "#e76f51", 0: "#8d99ae"}
    fig = go.Figure(go.Bar(x=[k["importance"] for k in keys][::-1], y=[k["name"] for k in keys][::-1],
                           orientation="h", marker_color=[colours[k["direction"]] for k in keys][::-1],
                           error_x=dict(array=[k["importance_std"] for k in keys][::-1])))
    fig.update_layout(xaxis_title=tr("importance", lang))
    rows = [[k["name"], num(k["importance"], 3), words[k["direction"]], num(k["stability"], 2),
             word("role", k["role"], lang)]
            for k in keys]
    return _section("key_parameters", lang, [
        _fig(fig, 60 + 26 * len(keys)),
        {"kind": "table", "columns": [tr("parameter", lang), tr("importance", lang), tr("direction", lang),
                                      tr("stability", lang), tr("role", lang)], "rows": rows}])


def _recommendations(result: dict, pred: dict, lang: str) -> dict:
    rows = []
    for r in result.get("recommendations", []):
        window = f"{num(r['low'])} – {num(r['high'])}" if not r.get("pinned") else tr("pinned", lang)
        envelope = f"{num(r['envelope'][0])} – {num(r['envelope'][1])}" if r.get("envelope") else "—"
        rows.append([r["name"], num(r["value"]), window, num(r.get("baseline")), envelope,
                     num(r.get("data_percentile"), 3)])
    if not rows:
        return _section("recommendations", lang, [])
    blocks = [{"kind": "table", "columns": [tr("parameter", lang), tr("recommended", lang), tr("window", lang),
                                            tr("current", lang), tr("envelope", lang), tr("percentile", lang)],
               "rows": rows}]
    verified = tr("verified_yes" if pred.get("verified") else "verified_no", lang)
    notes = [tr("method_milp", lang, verified=verified) if pred.get("method") == "milp" else
             tr("method", lang, method=word("method", pred.get("method"), lang), evaluations=pred.get("evaluations"), verified=verified)]
    solver = pred.get("solver")
    if solver:
        notes.append(tr("solver", lang, name=solver.get("name"), status=word("solver_status", solver.get("status"), lang),
                        gap=num(100 * solver["gap"], 3) if solver.get("gap") is not None else "—",
                        seconds=num(solver.get("seconds"), 3)))
    for constraint in pred.get("constraints", []):
        notes.append(tr("constraint", lang, text=constraint.get("text", constraint.get("name", "")),
                        ok=tr("verified_yes" if constraint.get("ok") else "verified_no", lang)))
    if pred.get("distance_to_data"):
        d = pred["distance_to_data"]
        if d.get("trust_radius") is None and d.get("typical") is not None:
            notes.append(tr("distance_typical", lang, value=num(d["value"], 3), radius=num(d["typical"], 3)))
        else:
            notes.append(tr("distance", lang, value=num(d["value"], 3), radius=num(d["trust_radius"], 3)))
    if pred.get("cost"):  # recipe tuning
        c = pred["cost"]
        notes.append(tr("cost_note", lang, baseline=num(c["baseline"]), recommended=num(c["recommended"]),
                        budget=num(c.get("budget")) if c.get("budget") is not None else "—"))
    blocks.append({"kind": "list", "items": notes})
    front = (result.get("outputs") or {}).get("pareto") or []
    if front:
        blocks.append({"kind": "table", "columns": [tr("pareto_budget", lang), tr("pareto_cost", lang),
                                                    pred.get("target", ""), tr("pareto_status", lang)],
                       "rows": [[num(e["budget"]), num(e["cost"]), f"{num(e['quality']['value'])} "
                                 f"[{num(e['quality']['low'])}, {num(e['quality']['high'])}]",
                                 f"{e['status']}, {num(100 * e['gap'], 3) if e.get('gap') is not None else '—'} %"]
                                for e in front]})
    return _section("recommendations", lang, blocks)


def _trial(result: dict, pred: dict, lang: str) -> dict:
    up = pred.get("uplift") or {}
    sigma = result.get("outputs", {}).get("model_report", {}).get("residual_std")
    n = batches_per_arm(up.get("value") or 0, sigma or 0)
    if n is None:
        return _section("trial", lang, [{"kind": "text", "text": tr("trial_none", lang)}] if pred else [])
    items = [tr("trial_text", lang, delta=signed(up["value"]), sigma=num(sigma), n=n)]
    n_low = batches_per_arm(up.get("low") or 0, sigma)
    if n_low and (up.get("low") or 0) * (up.get("value") or 0) > 0 and n_low > n:
        items.append(tr("trial_conservative", lang, low=signed(up["low"]), n=n_low))
    context = [c for c in (result["recipe"]["content"].get("roles", {}).get("context") or [])]
    items.append(f"{tr('record', lang)}: " + tr("record_text", lang, controls=", ".join(_controls(result)),
                                                  context=", ".join(context) or "—", target=pred["target"]))
    return _section("trial", lang, [{"kind": "list", "items": items}])


def _appendix(result: dict, lang: str) -> dict:
    import duckdb
    import lightgbm
    import pandas

    items = [[tr("template", lang), f"{result['template']['id']}@{result['template']['version']}"],
             [tr("run", lang), result["run_id"]], [tr("run_by", lang), result.get("user") or "—"],
             [tr("fingerprint", lang), result["data"]["fingerprint"]],
             [tr("software", lang), f"AI Studio {__version__}, lightgbm {lightgbm.__version__}, "
                                    f"duckdb {duckdb.__version__}, pandas {pandas.__version__}"]]
    return _section("appendix", lang, [{"kind": "kv", "items": items},
                                       {"kind": "code", "title": tr("recipe", lang),
                                        "text": dump(result["recipe"]["content"])}])
