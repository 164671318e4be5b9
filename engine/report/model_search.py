"""Report sections of the model search: the leaderboard and the parameters judged copies of others."""

from __future__ import annotations

from engine.report.text import num, tr, word


def sections(result: dict, lang: str, section) -> list[dict]:
    """[leaderboard section, copies section] (empty blocks when the run has neither)."""
    return [_leaderboard(result, lang, section), _copies(result, lang, section)]


def settings_text(settings: dict) -> str:
    return ", ".join(f"{k}={num(v) if isinstance(v, float) else v}" for k, v in settings.items())


def _leaderboard(result: dict, lang: str, section) -> dict:
    board = (result.get("outputs") or {}).get("leaderboard")
    if not board or not board.get("rows"):
        return section("leaderboard", lang, [])
    metric = board["metric"].upper().replace("R2", "R²")
    label = "label_zh" if lang == "zh" else "label"
    chosen = next((r[label] for r in board["rows"] if r["chosen"]), board["chosen"])
    rows = [[r[label] + (f" ({tr('lb_chosen', lang)})" if r["chosen"] else ""), settings_text(r["settings"]),
             f"{num(r['mean'])} ± {num(r['std'], 2)}" if r["mean"] is not None else "—", num(r["fit_seconds"], 3)]
            for r in board["rows"]]
    blocks = [{"kind": "text", "text": tr("leaderboard_text", lang, folds=board["folds"], cv=word("cv", board["cv"], lang),
                                          chosen=chosen, budget=num(board["budget_seconds"], 3),
                                          seconds=num(board["seconds"], 3))},
              {"kind": "table", "columns": [tr("lb_model", lang), tr("lb_settings", lang),
                                            tr("lb_metric", lang, metric=metric), tr("lb_fit", lang)], "rows": rows}]
    skipped = sorted({s["family"] for s in board.get("skipped") or []} - {r["model"] for r in board["rows"]})
    if skipped:
        blocks.append({"kind": "text", "text": tr("lb_skipped", lang, names=", ".join(skipped))})
    return section("leaderboard", lang, blocks)


def _copies(result: dict, lang: str, section) -> dict:
    copies = (result.get("outputs") or {}).get("copies")
    if not copies:
        return section("copies", lang, [])
    rows = [[c["copy"], c["of"], num(c["corr"], 3), f"{num(c['p_copy_adds'], 3)} / "
             f"{num(c['p_driver_adds'], 3)}",
             tr("cp_judged" if c["judged_copy"] else "cp_forced" if c.get("overruled_by_force") else "cp_kept", lang)]
            for c in copies]
    return section("copies", lang, [{"kind": "text", "text": tr("copies_text", lang)},
                                    {"kind": "table", "columns": [tr("cp_copy", lang), tr("cp_of", lang),
                                                                  tr("cp_corr", lang), tr("cp_cost", lang),
                                                                  tr("cp_verdict", lang)], "rows": rows}])
