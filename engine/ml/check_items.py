"""Test results as matrices: the verdict (bad or good), item values, and which item failed its limits.

A measured item fails outside its limits: the limits the plant gives, or, where it gives none, limits inferred from
the data: the range of the good products, on each side where bad products lie beyond it (a side no bad product
crosses is left open, so a quiet item does not flag good products that merely stretch its range on new data).
A PASS/FAIL item is coded 1 = fail, 0 = pass.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.errors import StudioError
from engine.core.i18n import Msg

BAD_WORDS = {"bad", "fail", "failed", "ng", "nok", "reject", "rejected", "defect", "defective", "scrap", "no",
             "不良", "不合格", "失败", "废品", "false"}
GOOD_WORDS = {"good", "pass", "passed", "ok", "accept", "accepted", "yes", "良品", "合格", "通过", "true"}


@dataclass
class ItemData:
    """The items of a table: values (rows × items, NaN = not measured) and which are PASS/FAIL items."""

    names: list[str]
    values: np.ndarray
    passfail: np.ndarray            # bool per item
    fail_value: dict[str, object]   # PASS/FAIL items: the raw value that means fail


def verdict(series: pd.Series, bad_label: str | None) -> tuple[np.ndarray, object]:
    """(bad per row, the raw value meaning bad). Words like FAIL/NG/不合格 are recognised; otherwise the rarer
    value is taken as bad, since bad products are the minority (set `bad_label` to say otherwise)."""
    values = series.dropna().unique()
    if len(values) != 2:
        shown = ", ".join(map(str, values[:6]))
        raise StudioError(Msg(f"the verdict column '{series.name}' must hold two values (good/bad), it holds "
                              f"{len(values)}: {shown}; choose a pass/fail column as the target",
                              f"判定列 '{series.name}' 应只有两个取值（良/不良），实际有 {len(values)} 个：{shown}；"
                              f"请选一个合格/不合格列作为目标"))
    if bad_label not in (None, ""):
        match = [v for v in values if str(v).strip().lower() == str(bad_label).strip().lower()]
        if not match:
            raise StudioError(Msg(f"bad label '{bad_label}' is not a value of '{series.name}' "
                                  f"(its values: {values[0]}, {values[1]})",
                                  f"不良标签 '{bad_label}' 不是 '{series.name}' 的取值"
                                  f"（其取值：{values[0]}, {values[1]}）"))
        bad = match[0]
    else:
        bad = _word_side(values, BAD_WORDS, GOOD_WORDS)
        if bad is None:
            counts = series.value_counts()
            bad = counts.index[-1]
    return (series == bad).to_numpy(bool), bad


def _word_side(values, bad_words: set, good_words: set):
    words = [str(v).strip().lower() for v in values]
    for i, w in enumerate(words):
        if w in bad_words and words[1 - i] in good_words:
            return values[i]
    return None


def items(frame: pd.DataFrame, names: list[str], bad: np.ndarray) -> ItemData:
    """Values of each item; a two-valued item (PASS/FAIL, 0/1, a bool) is coded 1 = fail."""
    n = len(frame)
    values = np.empty((n, len(names)))
    passfail = np.zeros(len(names), bool)
    fail_value = {}
    for j, name in enumerate(names):
        s = frame[name]
        distinct = s.dropna().unique()
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if numeric and len(distinct) > 2:
            values[:, j] = s.to_numpy(float, na_value=np.nan)
            continue
        if not numeric and len(distinct) > 2:
            raise StudioError(Msg(f"test item '{name}' is text with {len(distinct)} values; an item must be a "
                                  f"measurement (numbers) or a pass/fail result (two values): move it to ignore, "
                                  f"or fix its type in the data factory",
                                  f"测试项 '{name}' 是文本，有 {len(distinct)} 个取值；测试项须为测量值（数字）"
                                  f"或合格/不合格结果（两个取值）：请将其移到“忽略”，或在数据工厂中修正其类型"))
        fail = _fail_value(s, distinct, bad)
        passfail[j] = True
        fail_value[name] = fail
        coded = np.where(s.isna().to_numpy(), np.nan, (s == fail).to_numpy(float) if fail is not None else 0.0)
        values[:, j] = coded
    return ItemData(list(names), values, passfail, fail_value)


def _fail_value(s: pd.Series, distinct, bad: np.ndarray):
    """FAIL/NG/... when the words say so; else the value under which products are more often bad."""
    if len(distinct) < 2:
        return None if len(distinct) == 0 or str(distinct[0]).strip().lower() not in BAD_WORDS else distinct[0]
    side = _word_side(distinct, BAD_WORDS, GOOD_WORDS)
    if side is not None:
        return side
    rates = [bad[(s == v).to_numpy()].mean() for v in distinct]
    return distinct[int(np.argmax(rates))]


def limits(data: ItemData, bad: np.ndarray, given: dict[str, tuple[float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, given?) per item, from the rows passed in (training rows inside cross-validation)."""
    p = len(data.names)
    low, high = np.full(p, -np.inf), np.full(p, np.inf)
    is_given = np.zeros(p, bool)
    good_values = data.values[~bad]
    bad_values = data.values[bad]
    with warnings.catch_warnings():      # an item never measured on good products has no range: stays open
        warnings.simplefilter("ignore", RuntimeWarning)
        gmin, gmax = np.nanmin(good_values, axis=0), np.nanmax(good_values, axis=0)
    for j, name in enumerate(data.names):
        if data.passfail[j]:
            high[j] = 0.5
        elif name in given:
            low[j], high[j] = given[name]
            is_given[j] = True
        elif np.isfinite(gmin[j]):
            col = bad_values[:, j]
            if np.any(col > gmax[j]):
                high[j] = gmax[j]
            if np.any(col < gmin[j]):
                low[j] = gmin[j]
    return low, high, is_given


def fails(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Which item failed, per row (not measured = not failed)."""
    with np.errstate(invalid="ignore"):
        return (values < low) | (values > high)
