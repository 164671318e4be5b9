"""What a model search shows: the leaderboard rows (outer-fold scores, settings, selection score), the settings worth
showing, and the skipped families said once each."""

from __future__ import annotations

import numpy as np

from engine.ml import candidates as cand


def visible(params: dict) -> dict:
    """The settings worth showing on the leaderboard."""
    keys = ("n_estimators", "learning_rate", "num_leaves", "min_child_samples", "colsample_bytree", "subsample",
            "reg_lambda", "max_bin", "is_unbalance", "degree", "penalty", "trees", "min_leaf", "averaged",
            "linear_tree", "linear_lambda", "linear_leaves")
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in params.items() if k in keys}


def leaderboard(task: str, families: list[str], final_picks: dict, family_scores: dict, chosen: str) -> list[dict]:
    """One row per family: its outer-fold scores (what the product reports), its pick's settings and selection score."""
    metric = "r2" if task == "regression" else "auc"
    rows = []
    for family in families:
        outer = [s for s in family_scores[family] if s is not None]
        pick = final_picks.get(family)
        if pick is None and not outer:
            continue
        en, zh = cand.LABELS[family]
        settings = {k: v for k, v in (pick.settings if pick else {}).items() if k not in ("params", "blend")}
        rows.append({"model": family, "label": en, "label_zh": zh, "settings": settings, "metric": metric,
                     "mean": float(np.mean(outer)) if outer else None,
                     "std": float(np.std(outer)) if len(outer) > 1 else 0.0 if outer else None,
                     "folds": [round(float(s), 6) for s in outer], "outer_folds_scored": len(outer),
                     "selection_score": pick.score if pick else None, "fit_seconds": round(pick.fit_seconds, 4)
                     if pick else None, "trials": pick.trials if pick else 0, "chosen": family == chosen})
    rows.sort(key=lambda r: -(r["mean"] if r["mean"] is not None else -np.inf))
    return rows


def dedupe(skipped: list[dict]) -> list[dict]:
    """Each (family, reason) once, with how many times it happened."""
    seen, out = set(), []
    for s in skipped:
        key = (s["family"], s["reason"])
        if key not in seen:
            seen.add(key)
            out.append({**s, "times": sum(1 for t in skipped if (t["family"], t["reason"]) == key)})
    return out
