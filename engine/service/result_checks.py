"""After a run, before it is shown: which columns are consequences of the target (named with evidence, and which
role each had in the recipe), and whether the recommendation is possible at all (engine.optim.sanity).

Both land in result.json (`consequences`, `sanity`); the Results page and the report read them from there.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from engine.core.i18n import Msg
from engine.ml.consequences import find_consequences
from engine.core.numbers import people
from engine.optim.sanity import check_result

NEAR = 0.05  # a numeric context value within this share of its range counts as the same condition


def role_of(roles: dict[str, list[str]]) -> dict[str, str]:
    return {c: role for role, cols in roles.items() if role != "features" for c in ([cols] if isinstance(cols, str)
                                                                                    else cols or [])}


def consequences_of(frame: pd.DataFrame, roles: dict[str, list[str]]) -> dict[str, Any] | None:
    """Consequences of the target among every other column of the table (not only the features): a meter set
    aside under Ignore is named too, with the role it had."""
    targets = roles.get("target") or []
    target = targets[0] if isinstance(targets, list) and targets else targets or None
    if not target or target not in frame:
        return None
    skip = {target, *(roles.get("time") or []), *(roles.get("group") or [])}
    found = find_consequences(frame, target, [c for c in frame.columns if c not in skip])
    where = role_of(roles)
    for f in found:
        f["role"] = where.get(f["name"], "unassigned")
    return {"target": target, "found": found,
            "in_features": [f["name"] for f in found if f["role"] in ("controllable", "context")]}


def add_checks(result: dict[str, Any], frame: pd.DataFrame | None, roles: dict[str, list[str]]) -> dict[str, Any]:
    """Add `consequences` and `sanity` to a run's result (in place; also returned)."""
    if frame is not None and result.get("predicted"):
        found = consequences_of(frame, roles)
        if found:
            result["consequences"] = found
    if result.get("predicted"):
        result["sanity"] = sanity = check_result(result)
        start = {**scenario_conditions(result["predicted"], roles),
                 **{r["name"]: r.get("baseline") for r in result.get("recommendations") or [] if not r.get("pinned")}}
        unseen = scenario_unseen(frame, start) if frame is not None else None
        if unseen:
            sanity["findings"].append(unseen)
            sanity["actionable"] = False
        sanity["checked"].append("scenario")
    return result


def _is_number(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def scenario_conditions(predicted: dict, roles: dict) -> dict[str, Any]:
    """The context values the recommendation holds (the scenario), as stored in predicted.settings."""
    settings = predicted.get("settings") or {}
    return {c: settings[c] for c in roles.get("context") or [] if c in settings}


def scenario_unseen(frame: pd.DataFrame, conditions: dict[str, Any]) -> dict | None:
    """A finding when the starting point (the scenario's conditions and today's settings) never occurs together in
    the data (e.g. a 'typical' weekday made of each column's most common value: light load at noon): the model only
    guesses there, and a saving measured from a guess is no saving."""
    if not conditions:
        return None
    present = {c: v for c, v in conditions.items() if c in frame}
    numeric = {c: v for c, v in present.items() if _is_number(frame[c]) and v is not None}
    categories = {c: v for c, v in present.items() if c not in numeric}
    if not categories:
        return None  # numbers only: the distance to the data (trust region) already speaks for them
    mask = pd.Series(True, index=frame.index)
    for col, value in categories.items():
        mask &= frame[col].astype(str) == str(value)
    rows = frame[mask]
    # each number near a value it took under these very conditions (light load happens at night, not at noon)
    seen = len(rows) > 0 and all(
        float((rows[c] - float(v)).abs().min()) <= NEAR * (float(frame[c].max() - frame[c].min()) or 1.0)
        for c, v in numeric.items())
    if seen:
        return None
    shown = ", ".join(f"{c} = {people(v)}" for c, v in conditions.items())
    return {"check": "scenario",
            "reason": Msg(f"the starting point ({shown}) never occurs in the data: the model only guesses there, "
                             "so the saving is measured from a guess",
                          f"起始点（{shown}）在数据中从未出现：模型在此只是猜测，节能量是相对猜测值算出的").to_dict(),
            "fix": Msg("choose the scenario 'latest row (current conditions)', or pin context values that occur "
                       "together (expert → pinned values)",
                       "请选择“最新一行（当前工况）”场景，或在专家设置中固定确实同时出现过的工况值").to_dict()}
