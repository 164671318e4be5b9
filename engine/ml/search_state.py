"""What one model search carries between its parts (engine/ml/model_search.py runs the nested search,
engine/ml/search_tune.py the tuned LightGBM's study): the input and its progress, a family's pick, the deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from engine.core.i18n import Msg
from engine.ml import candidates as cand

SEARCH_SHARE = 0.6  # of the budget for the searches; the rest for refitting the picks on the outer folds


@dataclass
class SearchInput:
    x: pd.DataFrame
    y: np.ndarray
    task: str
    outer: list[tuple[np.ndarray, np.ndarray]]
    order: np.ndarray | None
    groups: np.ndarray | None
    families: list[str]
    budget: float
    setup: cand.Setup
    progress: Callable[[float, str], None] = field(default=lambda f, m: None)
    winners: list[dict] = field(default_factory=list)   # tuned settings that won the outer folds (warm start of the
    #   final pick only: an outer fold's search must not start from settings chosen on rows that include its test rows)
    stage: tuple[int, int] = (0, 1)                      # (outer fold being searched, outer folds + 1): progress
    binned: object = None                                # big tables: the table binned once (lgb.Dataset)
    refined: bool = True    # model.search@2: 5 inner folds for small tables, the tuned family a blend (@1: neither)
    share: float = SEARCH_SHARE   # of the budget for the searches (search_share)


def tell(inp: SearchInput, part: float, en: str, zh: str) -> None:
    """Progress inside the current outer fold (`part` 0..1 of it), with the fold named: the CLI line and the Run
    page move during a long fold instead of freezing on its first message."""
    i, stages = inp.stage
    head_en = f"outer fold {i + 1}/{stages - 1}" if i < stages - 1 else "final pick"
    head_zh = f"外层第 {i + 1}/{stages - 1} 折" if i < stages - 1 else "最终选择"
    inp.progress((i + min(max(part, 0.0), 0.99)) / stages, Msg(f"model search, {head_en}: {en}",
                                                                f"模型搜索，{head_zh}：{zh}"))


@dataclass
class Pick:
    """One family's best settings in one search: inner-CV score and what to refit."""

    family: str
    settings: dict
    score: float
    std: float
    fit_seconds: float
    trials: int = 1


class Deadline:
    def __init__(self, seconds: float):
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0


def warm_starts(inp: SearchInput) -> list[dict]:
    """Settings to try first: the outer folds' winners, in the final pick only. Every other outer fold's training rows
    include this fold's test rows, so starting an outer fold from them would leak into the nested figure."""
    i, stages = inp.stage
    return inp.winners if i == stages - 1 else []
