"""Data readiness score: is this table ready to learn recommended process settings from?

Three principles, each a sub-score from 0 to 100 (higher is better, each monotone in what it measures):

  data density        D = 100 · clip(log10(rows_per_feature) / log10(GOOD_ROWS_PER_FEATURE), 0, 1)
                      rows_per_feature = (rows − duplicate rows) / useful feature columns
                      → 1 row per feature scores 0, 10 score 50, 100 or more score 100.
  collection density  C = 100 · completeness · time_coverage
                      completeness  = non-missing cells / cells, over the useful columns
                      time_coverage = 1 − (time lost in gaps) / (time span); a gap is an interval over 3× the
                                      typical (median) one and loses its length minus one typical interval.
                                      1 when the table has no time column (then only completeness counts).
  closed loop         L = 100 · together · moving        (only when the target and controllables are given)
                      together = share of rows where the target and every controllable are all recorded
                      moving   = share of {target} ∪ controllables that vary (not near-constant): a setting
                                 that never moves cannot be learned from, a target that never moves has
                                 nothing to learn

  score = geometric mean of the sub-scores assessed (D and C, plus L when assessed).
  The geometric mean keeps every principle necessary: a strong one cannot hide a weak one.

Useful columns: numeric, bool or text columns that are not the time column, not near-constant and not
identifier-like (text that is ≥ 90 % distinct); the target is useful but not counted as a feature.
"""

from __future__ import annotations

import math

GOOD_ROWS_PER_FEATURE = 100  # rule of thumb for tree models: ~10 rows per feature is a bare minimum, ~100 comfortable
WORST_LISTED = 3  # reasons name at most this many columns


def useful_columns(columns: list[dict], time_column: str | None) -> list[dict]:
    return [c for c in columns if c["class"] in ("numeric", "bool", "text") and c["name"] != time_column
            and not c["near_constant"] and not c["identifier_like"]]


def readiness(profile: dict, target: str | None, controllable: list[str] | None) -> dict:
    columns, rows = profile["columns"], profile["rows"]
    time_axis = profile.get("time")
    useful = useful_columns(columns, time_axis and time_axis["column"])
    features = [c for c in useful if c["name"] != target]
    density, d_reasons = _data_density(rows - profile["duplicate_rows"], features, profile["duplicate_rows"])
    collection, c_reasons = _collection_density(useful, rows, time_axis)
    loop, l_reasons = _closed_loop(profile, target, controllable)
    subs = [s for s in (density, collection, loop) if s is not None]
    score = math.prod(subs) ** (1 / len(subs)) if subs else 0.0
    info = _info_reasons(columns, time_axis)
    return {"score": round(score, 1), "data_density": round(density, 1), "collection_density": round(collection, 1),
            "closed_loop": None if loop is None else round(loop, 1),
            "useful_columns": [c["name"] for c in useful],
            "reasons": d_reasons + c_reasons + l_reasons + info}


def _reason(code: str, principle: str, lowers: bool, en: str, zh: str) -> dict:
    return {"code": code, "principle": principle, "lowers_score": lowers, "en": en, "zh": zh}


def _names(columns: list[str]) -> str:
    more = f" (+{len(columns) - WORST_LISTED})" if len(columns) > WORST_LISTED else ""
    return ", ".join(f"'{c}'" for c in columns[:WORST_LISTED]) + more


# -- data density --------------------------------------------------------------------------------------------
def _data_density(distinct_rows: int, features: list[dict], duplicates: int) -> tuple[float, list[dict]]:
    per_feature = distinct_rows / len(features) if features else 0.0
    ratio = math.log10(max(per_feature, 1.0)) / math.log10(GOOD_ROWS_PER_FEATURE)
    score = 100 * min(1.0, ratio)
    reasons = []
    if duplicates:
        reasons.append(_reason("duplicate_rows", "data_density", score < 100,
                               f"{duplicates} rows are exact copies of others and count once; remove them at the "
                               "source (data exported twice?)",
                               f"{duplicates} 行与其他行完全相同，只计一次；请在源头去除（是否重复导出？）"))
    if not features:
        reasons.append(_reason("no_useful_columns", "data_density", True,
                               "no useful feature column: every column is constant, an identifier or time",
                               "没有可用的特征列：所有列都是常量、标识列或时间列"))
    elif score < 100:
        reasons.append(_reason(
            "few_rows_per_feature", "data_density", True,
            f"only {per_feature:.1f} rows per useful feature column ({distinct_rows} rows, {len(features)} columns); "
            f"aim for ≥ {GOOD_ROWS_PER_FEATURE}: collect more rows or leave out columns that do not matter",
            f"每个有效列仅 {per_feature:.1f} 行（{distinct_rows} 行，{len(features)} 列）；建议 ≥ "
            f"{GOOD_ROWS_PER_FEATURE} 行/列：多采集数据，或去掉无关的列"))
    return score, reasons


# -- collection density --------------------------------------------------------------------------------------
def _collection_density(useful: list[dict], rows: int, time_axis: dict | None) -> tuple[float, list[dict]]:
    reasons = []
    cells = rows * len(useful)
    missing = sum(c["missing"] for c in useful)
    completeness = 1.0 - missing / cells if cells else 0.0
    if missing:
        worst = sorted((c for c in useful if c["missing"]), key=lambda c: -c["missing"])
        listed = ", ".join(f"'{c['name']}' {c['missing_pct']:.1f}%" for c in worst[:WORST_LISTED])
        reasons.append(_reason(
            "missing_cells", "collection_density", True,
            f"{100 * (1 - completeness):.1f}% of the cells in useful columns are empty (most: {listed}); "
            "fix the recording of these signals, or drop the columns that are mostly empty",
            f"有效列中 {100 * (1 - completeness):.1f}% 的单元格为空（最多：{listed}）；"
            "请修复这些信号的采集，或去掉大部分为空的列"))
    coverage = 1.0
    if time_axis and time_axis["coverage"] is not None:
        coverage = max(0.0, time_axis["coverage"])
        reasons += _gap_reasons(time_axis)
    return 100 * completeness * coverage, reasons


def _gap_reasons(axis: dict) -> list[dict]:
    gaps = axis["gaps"]
    if not gaps["count"]:
        return []
    big = gaps["largest"][0]
    lost = 100 * (1 - axis["coverage"])
    return [_reason(
        "time_gaps", "collection_density", True,
        f"{gaps['count']} gap{'s' if gaps['count'] != 1 else ''} in '{axis['column']}' longer than 3× the typical interval of {axis['interval']} "
        f"(largest {big['duration']}, {big['start']} → {big['end']}); {lost:.1f}% of the time span is not sampled: "
        "check the logger or the export for those periods",
        f"'{axis['column']}' 中有 {gaps['count']} 处断档超过典型采样间隔 {axis['interval']} 的 3 倍"
        f"（最长 {big['duration']}，{big['start']} → {big['end']}）；{lost:.1f}% 的时间段没有数据："
        "请检查这些时段的采集或导出")]


# -- closed loop ---------------------------------------------------------------------------------------------
def _closed_loop(profile: dict, target: str | None, controllable: list[str] | None) -> tuple[float | None, list]:
    if not target or not controllable:
        return None, [_reason("closed_loop_not_assessed", "closed_loop", False,
                              "closed loop not assessed: name the target and the controllable columns",
                              "未评估闭环：请指定目标列和可调参数列")]
    rows = profile["rows"]
    together = profile["closed_loop_rows"] / rows if rows else 0.0
    by_name = {c["name"]: c for c in profile["columns"]}
    still = [n for n in [target, *controllable] if by_name[n]["near_constant"]]
    moving = 1 - len(still) / (1 + len(controllable))
    reasons = []
    if together < 1:
        reasons.append(_reason(
            "not_recorded_together", "closed_loop", True,
            f"the target and all controllables are recorded together in only {100 * together:.1f}% of rows; "
            "record the settings on the same row (same batch or time) as the outcome",
            f"目标与全部可调参数同时有记录的行仅占 {100 * together:.1f}%；请把参数设定与结果记录在同一行（同一批次或时刻）"))
    if still:
        reasons.append(_reason(
            "does_not_move", "closed_loop", True,
            f"{_names(still)} hardly ever change(s): their effect cannot be learned; "
            "plan trials that vary them within safe limits",
            f"{_names(still)} 几乎从不变化：无法学习其影响；请在安全范围内安排试验改变它们"))
    return 100 * together * moving, reasons


# -- information that does not lower the score ---------------------------------------------------------------
def _info_reasons(columns: list[dict], time_axis: dict | None) -> list[dict]:
    reasons = []
    flat = [c["name"] for c in columns if c["near_constant"]]
    if flat:
        reasons.append(_reason("near_constant_columns", "data_density", False,
                               f"{len(flat)} column(s) never or hardly change ({_names(flat)}): they carry no "
                               "information and are not counted as useful",
                               f"{len(flat)} 列从不或几乎不变化（{_names(flat)}）：不含信息，不计为有效列"))
    ids = [c["name"] for c in columns if c["identifier_like"]]
    if ids:
        reasons.append(_reason("identifier_columns", "data_density", False,
                               f"{_names(ids)} look(s) like identifiers (almost every value distinct): not a feature",
                               f"{_names(ids)} 看起来是标识列（几乎每个值都不同）：不作为特征"))
    if time_axis is None:
        reasons.append(_reason("no_time_column", "collection_density", False,
                               "no date/time column found: sampling regularity and gaps were not checked; "
                               "name the time column if the table has one",
                               "未找到日期/时间列：未检查采样规律性和断档；如有时间列请指定"))
    elif time_axis["duplicate_timestamps"]:
        n = time_axis["duplicate_timestamps"]
        reasons.append(_reason("duplicate_timestamps", "collection_density", False,
                               f"{n} rows repeat an earlier timestamp in '{time_axis['column']}': fine for several "
                               "lines or batches per instant, otherwise a sign of double logging",
                               f"'{time_axis['column']}' 中有 {n} 行时间戳与之前重复：若同一时刻有多条产线/批次属正常，"
                               "否则可能是重复记录"))
    return reasons
