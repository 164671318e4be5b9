"""Checks on the data itself that belong before a run starts: enough rows with a target value, and a target that
varies. Without them a 1-row table or a constant target passes validation and fails minutes later at run time."""

from __future__ import annotations

from engine.store.binding import DataSource
from engine.core.errors import Issue
from engine.core.i18n import Msg, zh
from engine.schema.recipe import Recipe
from engine.schema.template import Template
from engine.core.yaml_io import SourceMap

MIN_ROWS = 10  # below this no cross-validated model says anything; a template's folds can ask for more


def min_rows(params: dict) -> int:
    folds = params.get("folds")
    return max(MIN_ROWS, folds) if isinstance(folds, int) and not isinstance(folds, bool) else MIN_ROWS  # a row per fold


def check_target(t: Template, recipe: Recipe, rsmap: SourceMap, source: DataSource, params: dict) -> list[Issue]:
    """Refuse, with the numbers, a target that is empty, constant, or has too few rows with a value."""
    if getattr(t.roles, "target", None) is None:
        return []
    issues, need = [], min_rows(params)
    targets = list(recipe.roles.target)
    for j, col in enumerate(targets):
        stats = source.stats(col)
        if stats is None:
            continue
        rows, filled, distinct = stats
        loc = ("roles", "target", j) if len(targets) > 1 else ("roles", "target")
        if filled == 0:
            issues.append(rsmap.issue(loc, Msg(f"target '{col}' is empty in every row of {source.label} ({rows} rows)",
                                               f"目标 '{col}' 在{zh(source.label)}的每一行（共 {rows} 行）都是空的"),
                                      Msg("choose the column that holds the measured outcome, or fill it in the data",
                                          "请选择记录了实测结果的列，或在数据中补上它")))
        elif filled < need:
            issues.append(rsmap.issue(loc, Msg(f"only {filled} row(s) of {source.label} have a value of target '{col}'; "
                                               f"a model needs at least {need}",
                                               f"只有 {filled} 行有目标 '{col}' 的值；建模至少需要 {need} 行"),
                                      Msg("bind more data (a longer period, more batches), or lower folds",
                                          "请绑定更多数据（更长的时间段、更多批次），或调低 folds")))
        elif distinct < 2:
            issues.append(rsmap.issue(loc, Msg(f"target '{col}' has the same value in all {filled} rows: there is nothing "
                                               f"to learn or improve",
                                               f"目标 '{col}' 在全部 {filled} 行中都是同一个值：没有可学习或可改进的内容"),
                                      Msg("choose a target that varies, or data from a period when it did",
                                          "请选择有变化的目标列，或选取它有变化的时间段的数据")))
    return issues
