"""Turn a table into a model matrix the same way at fit and at predict time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.i18n import Msg


@dataclass
class FeatureCoder:
    """Numeric columns stay numeric, bool becomes 0/1, text becomes a pandas category with fixed levels."""

    features: list[str]
    levels: dict[str, list[str]] = field(default_factory=dict)
    integer: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: list[str]) -> "FeatureCoder":
        levels, integer = {}, []
        for col in features:
            s = frame[col]
            if pd.api.types.is_bool_dtype(s):
                continue
            if pd.api.types.is_numeric_dtype(s):
                if pd.api.types.is_integer_dtype(s):
                    integer.append(col)
                continue
            levels[col] = sorted(str(v) for v in s.dropna().unique())
        return cls(list(features), levels, integer)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.levels and all(frame[c].dtype == "float64" for c in self.features):
            return frame[self.features]   # already the model matrix: shared, not copied (copy-on-write keeps it safe)
        out = {}
        for col in self.features:
            s = frame[col]
            if col in self.levels:
                out[col] = pd.Categorical(s.astype("string").astype(object).where(s.notna(), None),
                                          categories=self.levels[col])
            elif pd.api.types.is_bool_dtype(s):
                out[col] = s.astype("float64")
            else:
                out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        return pd.DataFrame(out, index=frame.index)

    @property
    def categorical(self) -> list[str]:
        return [c for c in self.features if c in self.levels]


def feature_schema(frame: pd.DataFrame, features: list[str]) -> dict[str, dict]:
    """Each feature's kind (numeric, bool, category) and, for numbers, the training range: what new data is checked
    against before a saved model scores it (a missing column, a wrong type, a value outside what was seen)."""
    schema = {}
    for col in features:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s):
            schema[col] = {"kind": "bool"}
        elif pd.api.types.is_numeric_dtype(s):
            v = pd.to_numeric(s, errors="coerce").astype("float64")
            lo, hi = (float(v.min()), float(v.max())) if v.notna().any() else (None, None)
            schema[col] = {"kind": "numeric", "min": lo, "max": hi}
        else:
            schema[col] = {"kind": "category"}
    return schema


def usable_features(frame: pd.DataFrame, features: list[str]) -> tuple[list[str], list[dict]]:
    """Features a tree model can use; datetime columns are set aside with a reason."""
    keep, skipped = [], []
    for col in features:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            skipped.append({"name": col, "reason": "datetime column: give it the time role instead",
                            "reason_zh": "日期时间列：请把它设为时间角色"})
        else:
            keep.append(col)
    return keep, skipped


def as_target(series: pd.Series, task: str) -> tuple[np.ndarray, str, list]:
    """(y, task, classes): 'auto' picks classification for two distinct values, regression for numbers."""
    values = series.dropna().unique()
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if task == "auto":
        task = "regression" if numeric and len(values) > 2 else "classification"
    if task == "regression":
        if not numeric:
            raise ValueError(Msg(f"target '{series.name}' is not numeric; choose task 'classification'",
                                 f"目标 '{series.name}' 不是数值；请选择任务类型 'classification'（分类）"))
        return series.to_numpy(dtype="float64"), task, []
    classes = sorted(values, key=str)
    if len(classes) != 2:
        raise ValueError(Msg(f"target '{series.name}' has {len(classes)} classes; classification here needs exactly two "
                             f"(e.g. pass/fail)", f"目标 '{series.name}' 有 {len(classes)} 个类别；这里的分类需要恰好两个（例如合格/不合格）"))
    return (series == classes[1]).to_numpy(dtype="float64"), task, [_plain(c) for c in classes]


def _plain(value):
    return value.item() if hasattr(value, "item") else value
