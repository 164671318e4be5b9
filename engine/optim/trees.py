"""LightGBM boosters read as plain trees, pruned to what the search domain can reach.

A split `x <= t` on a feature held at a fixed value (context, pinned) is resolved at read time; on a decision
feature it is resolved when the remaining interval of that feature on the path lies on one side of `t`. What is
left are trees whose every split is a real choice: smaller MILPs, and no leaf the domain cannot reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from engine.core.errors import StudioError
from engine.core.i18n import Msg


class UnsupportedModel(StudioError):
    """The booster uses something the exact encoding does not handle (the caller may fall back to sampling)."""


@dataclass(frozen=True)
class Domain:
    """Where one decision feature may go: [low, high], integers only when `integer`."""

    low: float
    high: float
    integer: bool = False

    def start(self) -> tuple[float, float]:
        """The interval a path starts with (integer domains snap inwards)."""
        if self.integer:
            return float(math.ceil(self.low)), float(math.floor(self.high))
        return float(self.low), float(self.high)


@dataclass(frozen=True)
class Leaf:
    index: int  # LightGBM's leaf_index, as `predict(pred_leaf=True)` reports it
    value: float


@dataclass(frozen=True)
class Split:
    """`x[feature] <= threshold` goes left. For integer features the threshold is already floor(t)."""

    feature: str
    threshold: float
    left: "Split | Leaf"
    right: "Split | Leaf"


@dataclass
class Ensemble:
    """One booster: its feature names (input order), pruned trees and the link from raw score to output."""

    booster: lgb.Booster
    features: list[str]
    trees: list  # Split | Leaf
    link: str  # identity | sigmoid | exp
    sigmoid: float = 1.0

    def to_raw(self, value: float) -> float:
        if self.link == "sigmoid":
            p = min(max(value, 1e-15), 1 - 1e-15)
            return math.log(p / (1 - p)) / self.sigmoid
        return math.log(value) if self.link == "exp" else value

    def from_raw(self, raw: float) -> float:
        if self.link == "sigmoid":
            return 1.0 / (1.0 + math.exp(-self.sigmoid * raw))
        return math.exp(raw) if self.link == "exp" else raw

    def raw_predict(self, point: dict[str, float]) -> float:
        """The booster's own raw score at `point` (model-encoded values; categories as codes)."""
        row = np.array([[point[f] for f in self.features]], dtype=np.float64)
        return float(self.booster.predict(row, raw_score=True)[0])

    def leaves_at(self, point: dict[str, float]) -> np.ndarray:
        row = np.array([[point[f] for f in self.features]], dtype=np.float64)
        return np.asarray(self.booster.predict(row, pred_leaf=True)[0]).reshape(-1)


def read_ensemble(booster: lgb.Booster, decision: dict[str, Domain], fixed: dict[str, float],
                  names: list[str] | None = None) -> Ensemble:
    """Parse `booster.dump_model()` and prune every tree to the reachable part of `decision` × `fixed`."""
    dump = booster.dump_model()
    # the booster may have been fitted under LightGBM-safe names; position i is the caller's column names[i]
    features = list(names) if names else list(dump["feature_names"])
    missing = [f for f in features if f not in decision and f not in fixed]
    if missing:
        raise StudioError(Msg(f"the model needs values for {missing}: make them decision variables or fix them",
                              f"模型需要 {missing} 的值：请把它们设为决策变量或固定值"))
    if dump.get("num_tree_per_iteration", 1) != 1:
        raise UnsupportedModel(Msg("multi-class models are not encoded; optimise one class's model instead",
                                   "不支持多分类模型；请改为优化其中一个类别的模型"))
    link, sigmoid = _link(dump.get("objective", "regression"))
    intervals = {f: decision[f].start() for f in decision}
    trees = []
    for info in dump["tree_info"]:
        if info.get("is_linear"):
            raise UnsupportedModel(Msg("linear trees (linear_tree=true) are not encoded", "不支持线性树（linear_tree=true）"))
        trees.append(_prune(info["tree_structure"], features, decision, fixed, intervals))
    return Ensemble(booster, features, trees, link, sigmoid)


def _link(objective: str) -> tuple[str, float]:
    name = objective.split()[0]
    if name in ("binary", "cross_entropy", "xentropy"):
        sigmoid = [float(p.split(":")[1]) for p in objective.split()[1:] if p.startswith("sigmoid:")]
        return "sigmoid", sigmoid[0] if sigmoid else 1.0
    if name in ("poisson", "gamma", "tweedie"):
        return "exp", 1.0
    if name.startswith(("multiclass", "softmax", "multiclassova", "lambdarank", "rank_xendcg")):
        raise UnsupportedModel(Msg(f"objective '{name}' is not encoded; a regression or binary model is needed",
                                   f"不支持目标函数 '{name}'；需要回归或二分类模型"))
    return "identity", 1.0


def _prune(node: dict, features: list[str], decision: dict[str, Domain], fixed: dict[str, float],
           intervals: dict[str, tuple[float, float]]):
    """The subtree reachable with each decision feature inside `intervals` (and fixed features at their values)."""
    if "leaf_value" in node:
        return Leaf(int(node.get("leaf_index", 0)), float(node["leaf_value"]))
    name = features[node["split_feature"]]
    left, right = node["left_child"], node["right_child"]
    if name in fixed:
        goes_left = _fixed_goes_left(node, fixed[name])
        return _prune(left if goes_left else right, features, decision, fixed, intervals)
    if node["decision_type"] != "<=":
        raise UnsupportedModel(Msg(f"feature '{name}' is categorical in the model: the exact optimiser handles "
                                   f"numeric decision variables only (fix it to a value, or use sampling search)",
                                   f"特征 '{name}' 在模型中是类别型：精确优化只处理数值型决策变量（请把它固定为某个值，或使用采样搜索）"))
    domain, (lo, hi) = decision[name], intervals[name]
    t = float(node["threshold"])
    if domain.integer:
        t = float(math.floor(t))  # for an integer x, x <= t  <=>  x <= floor(t)
    if node.get("missing_type") == "Zero" and lo <= 0.0 <= hi:
        raise UnsupportedModel(Msg(f"feature '{name}' treats zero as missing in the model (zero_as_missing); "
                                   f"its range includes 0, which the exact encoding does not handle",
                                   f"特征 '{name}' 在模型中把 0 当作缺失（zero_as_missing）；它的范围包含 0，精确编码无法处理"))
    if hi <= t:
        return _prune(left, features, decision, fixed, intervals)
    if lo > t:
        return _prune(right, features, decision, fixed, intervals)
    # a real choice: narrow the interval on each side (x > t is x >= next float, or t + 1 for integers)
    above = t + 1.0 if domain.integer else float(np.nextafter(t, np.inf))
    return Split(name, t,
                 _prune(left, features, decision, fixed, {**intervals, name: (lo, t)}),
                 _prune(right, features, decision, fixed, {**intervals, name: (above, hi)}))


def _fixed_goes_left(node: dict, value: float) -> bool:
    """LightGBM's own decision for a known value, missing values included (tree.h NumericalDecision /
    CategoricalDecision)."""
    missing_type = node.get("missing_type", "None")
    value = float("nan") if value is None else float(value)
    if node["decision_type"] == "==":
        if math.isnan(value):
            if missing_type == "NaN":
                return False
            value = 0.0
        code = int(value)
        return code >= 0 and code in {int(c) for c in str(node["threshold"]).split("||")}
    if math.isnan(value) and missing_type != "NaN":
        value = 0.0
    if (missing_type == "Zero" and abs(value) <= 1e-35) or (missing_type == "NaN" and math.isnan(value)):
        return bool(node.get("default_left", True))
    return value <= float(node["threshold"])


def thresholds(ensembles: list[Ensemble]) -> dict[str, list[float]]:
    """Sorted distinct thresholds per decision feature over every (pruned) tree of every ensemble."""
    found: dict[str, set[float]] = {}

    def walk(node) -> None:
        if isinstance(node, Split):
            found.setdefault(node.feature, set()).add(node.threshold)
            walk(node.left)
            walk(node.right)

    for ensemble in ensembles:
        for tree in ensemble.trees:
            walk(tree)
    return {f: sorted(ts) for f, ts in found.items()}


def evaluate(tree, cells: dict[str, int], index: dict[str, dict[float, int]]) -> Leaf:
    """The leaf a pruned tree reaches when each feature lies in cell `cells[f]` (cell k = (T[k-1], T[k]])."""
    while isinstance(tree, Split):
        tree = tree.left if cells[tree.feature] <= index[tree.feature][tree.threshold] else tree.right
    return tree


def path_to(tree, leaf_index: int) -> list[tuple[str, float, bool]] | None:
    """The conditions (feature, threshold, goes_left) on the way to leaf `leaf_index`, or None if pruned away."""
    if isinstance(tree, Leaf):
        return [] if tree.index == leaf_index else None
    for child, left in ((tree.left, True), (tree.right, False)):
        rest = path_to(child, leaf_index)
        if rest is not None:
            return [(tree.feature, tree.threshold, left)] + rest
    return None
