"""Big tables (issue 21): what a run reads of its bound table, and what it says about it in result.json.

`plan_source` is called once a recipe is compiled: the run reads only the columns its roles and step parameters
name (a wide export whose roles use 100 of 2,000 columns loads those 100), and — when they are larger in memory than
the memory budget (engine.core.memory) — a sample stratified by time (or the target); the data's fingerprint then
names the sample. `scale_section` gathers what the run did about size for result.json's `scale` key: rows bound and
used, the budget, the stratum, float32 columns, the rows SHAP and curves were computed on, and the learning curve.
"""

from __future__ import annotations

import json
from typing import Any

from engine.core.memory import MEMORY_BUDGET, table_mb
from engine.pipeline.graph import Pipeline


IGNORED_SHARE = 0.25  # ignored columns are read too while the whole table stays under this share of the budget


def used_columns(pipeline: Pipeline, with_ignored: bool = False) -> list[str]:
    """Columns of the source a run may touch: every role but `ignore` (with it when `with_ignored`), and any column a
    step's parameters name (conservative: a column whose name occurs anywhere in the parameters' text, e.g. inside a
    filter expression)."""
    source = pipeline.source
    ignored = set() if with_ignored else set(pipeline.roles.get("ignore", []))
    named = {c for role, cols in pipeline.roles.items() if role != "ignore" or with_ignored for c in cols}
    text = json.dumps([s.params.model_dump(mode="json") for s in pipeline.steps], ensure_ascii=False, default=str)
    text += json.dumps(pipeline.recipe.get("expert") or {}, ensure_ascii=False, default=str)
    return [c for c in source.columns if c in named or (c not in ignored and c in text)]


def plan_source(pipeline: Pipeline, budget_mb: float | None = None) -> dict | None:
    """Plan the read of the bound table (columns, sample); returns the plan's description (None: read as before)."""
    source = pipeline.source
    if source is None or not hasattr(source, "plan_read") or source.relation is None:
        return None
    time = (pipeline.roles.get("time") or [None])[0]
    target = (pipeline.roles.get("target") or [None])[0]
    budget = MEMORY_BUDGET.mb() if budget_mb is None else float(budget_mb)
    rows = source.rows if source.rows is not None else source._count()
    # a small table keeps the columns the expert set aside: the run's checks look at them (meters computed from the
    # target, issue 16); a big one reads only what the model uses
    small = table_mb(rows or 0, len(source.columns)) <= IGNORED_SHARE * budget
    planned = source.plan_read(used_columns(pipeline, with_ignored=small), time=time, target=target, budget_mb=budget)
    return planned.describe() if planned is not None else None


def scale_section(pipeline: Pipeline, outputs: dict[str, Any]) -> dict | None:
    """result.json's `scale`: how much of the table the run used and what was computed on samples."""
    planned = getattr(pipeline.source, "read_plan", None)
    report = next((v for v in outputs.values() if isinstance(v, dict) and "sizing" in v), None)
    if planned is None and report is None:
        return None
    out: dict[str, Any] = {}
    if planned is not None:
        d = planned.describe()
        out.update({"rows_total": d["rows_total"], "rows_used": d["rows_used"], "sampled": d["sampled"],
                    "budget_mb": d["budget_mb"], "budget_from": d["budget_from"], "table_mb": d["table_mb"],
                    "stratified_by": d["stratum"], "stratum_role": d["stratum_role"],
                    "columns_read": d["columns"], "columns_bound": len(pipeline.source.columns),
                    "float32_columns": d["float32"]})
    if report is not None:
        out.update(report["sizing"])
    return out
