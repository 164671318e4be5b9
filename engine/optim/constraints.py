"""What a recommendation must honour besides the envelope: linear constraints, model specs, a trust region.

All of them act on the tied values `m.v[f]` (decision features) of an `Encoding`; fixed features enter as
constants. Each kind also knows how to check itself at a decoded point, so the answer is verified against the
constraints as written, not against the solver's word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh

Sense = Literal["<=", "==", ">="]
TOLERANCE = 1e-6  # relative: a constraint holds when violated by at most 1e-6 · max(1, |rhs|, Σ|a·x|)


@dataclass(frozen=True)
class LinearConstraint:
    """Σ coefs[f] · x_f (sense) rhs: fractions summing to 1, a budget Σ cost·x <= B, a ratio x1 - 2 x2 <= 0."""

    coefs: dict[str, float]
    sense: Sense
    rhs: float
    name: str = ""

    def label(self) -> str:
        terms = " + ".join(f"{a:g}·{f}" for f, a in self.coefs.items())
        return self.name or f"{terms} {self.sense} {self.rhs:g}"

    def expression(self, m, fixed: dict[str, float]):
        return sum(a * (m.v[f] if f in m.v else fixed[f]) for f, a in self.coefs.items())

    def check(self, point: dict[str, float]) -> dict:
        lhs = float(sum(a * point[f] for f, a in self.coefs.items()))
        scale = max(1.0, abs(self.rhs), float(sum(abs(a * point[f]) for f, a in self.coefs.items())))
        slack = {"<=": self.rhs - lhs, ">=": lhs - self.rhs, "==": -abs(lhs - self.rhs)}[self.sense]
        return {"name": self.label(), "lhs": lhs, "sense": self.sense, "rhs": self.rhs,
                "ok": bool(slack >= -TOLERANCE * scale)}


@dataclass
class ModelSpec:
    """A second model's prediction (its output scale: a probability for a binary model) must be <= or >= bound."""

    booster: lgb.Booster
    sense: Literal["<=", ">="]
    bound: float
    name: str = ""
    feature_names: list[str] | None = None  # column names by booster position (fitted under safe names)

    def label(self) -> str:
        return self.name or f"model prediction {self.sense} {self.bound:g}"


@dataclass
class TrustRegion:
    """Stay near historical operation: inside an L∞ box of half-width radius·spread around one anchor.

    anchors: historical settings of the decision features (one row each), spread: the data's 1-99% range per
    feature. The radius is set so the boxes cover `quantile` of the historical points when each point is measured
    against the *other* anchors (the same idea as engine.ml.search.TrustRegion, in L∞ so it stays linear).
    Encoded with one binary per anchor, Σ z = 1, lo·z <= v <= hi·z summed over anchors: the convex hull of the
    union of boxes, i.e. the tightest linear relaxation of "in one of the boxes".
    """

    columns: list[str]
    anchors: np.ndarray
    spread: np.ndarray
    radius: float
    quantile: float = 0.95
    history_rows: int = 0
    notes: list[str] = field(default_factory=list)
    _tree: object = field(default=None, repr=False, compare=False)

    def distance(self, point: dict[str, float]) -> float:
        """L∞ distance, in spreads, from `point` to the nearest anchor."""
        x = np.array([[point[c] for c in self.columns]], dtype=float)
        return float(self.distances(x)[0])

    def distances(self, points: np.ndarray) -> np.ndarray:
        """Per row of `points` (columns in self.columns order): L∞ distance in spreads to the nearest anchor."""
        return self.nearest(points)[0]

    def nearest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(L∞ distance in spreads, index) of the nearest anchor, per row of `points`."""
        if not len(points):
            return np.zeros(0), np.zeros(0, dtype=int)
        if self._tree is None:
            from sklearn.neighbors import KDTree

            self._tree = KDTree(self.anchors / self.spread, metric="chebyshev")
        dist, index = self._tree.query(points / self.spread, k=1)
        return dist[:, 0], index[:, 0]

    def box(self, anchor: int) -> tuple[np.ndarray, np.ndarray]:
        half = self.radius * self.spread
        return self.anchors[anchor] - half, self.anchors[anchor] + half

    def describe(self) -> dict:
        return {"kind": "L-infinity box around a historical setting", "radius": self.radius,
                "unit": "share of each feature's 1-99% data range", "anchors": int(len(self.anchors)),
                "history_rows": self.history_rows, "quantile": self.quantile, "notes": [str(n) for n in self.notes],
                "notes_zh": [zh(n) for n in self.notes]}


def trust_region(history: pd.DataFrame, columns: list[str], low: dict[str, float], high: dict[str, float],
                 quantile: float = 0.95, max_anchors: int = 1000, seed: int = 0) -> TrustRegion | None:
    """The trust region over the numeric decision `columns`, from historical rows; None when quantile >= 1."""
    if quantile >= 1.0 or not columns:
        return None
    data = history[columns].apply(pd.to_numeric, errors="coerce").dropna().drop_duplicates()
    if len(data) < 3:
        return None
    spread_q = data.quantile([0.01, 0.99])
    spread = np.maximum((spread_q.loc[0.99] - spread_q.loc[0.01]).to_numpy(float), 1e-12)
    points = data.to_numpy(float)
    anchors, notes = points, []
    if len(points) > max_anchors:  # a seeded subsample; the radius below grows to keep the same coverage
        pick = np.random.default_rng(seed).choice(len(points), max_anchors, replace=False)
        anchors = points[np.sort(pick)]
        notes.append(Msg(f"{max_anchors} of {len(points)} distinct historical settings used as anchors (seeded sample)",
                         f"从 {len(points)} 个不同的历史设定中取 {max_anchors} 个作为锚点（固定种子抽样）"))
    radius = float(np.quantile(_nearest_other(points, anchors, spread), quantile))
    lo = np.array([low[c] for c in columns])
    hi = np.array([high[c] for c in columns])
    reach = ((anchors + radius * spread >= lo) & (anchors - radius * spread <= hi)).all(axis=1)
    if not reach.any():
        envelope = _envelope_text(columns, low, high)
        raise StudioError(Msg(f"no historical setting lies within the trust radius of the operating envelope "
                              f"{envelope}; widen the bounds or set trust to 1.0",
                              f"没有历史设定落在运行包络 {envelope} 的信任半径内；请放宽范围，或把 trust 设为 1.0"))
    return TrustRegion(list(columns), anchors[reach], spread, radius, quantile, len(points), notes)


def _nearest_other(points: np.ndarray, anchors: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Per point, the L∞ distance (in spreads) to the nearest anchor other than itself."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=min(2, len(anchors)), metric="chebyshev").fit(anchors / spread)
    dist = nn.kneighbors(points / spread)[0]
    # distinct rows: a zero distance is the point itself (an anchor); then its second neighbour counts
    return np.where(dist[:, 0] > 0, dist[:, 0], dist[:, -1])


def add_linear(m, constraints: list[LinearConstraint], fixed: dict[str, float]) -> None:
    m.linear = pyo.ConstraintList()
    for c in constraints:
        lhs = c.expression(m, fixed)
        m.linear.add({"<=": lhs <= c.rhs, ">=": lhs >= c.rhs, "==": lhs == c.rhs}[c.sense])


def add_trust(m, region: TrustRegion) -> None:
    anchors = range(len(region.anchors))
    m.z = pyo.Var(anchors, within=pyo.Binary)
    m.one_anchor = pyo.Constraint(expr=sum(m.z[k] for k in anchors) == 1)
    lows, highs = region.anchors - region.radius * region.spread, region.anchors + region.radius * region.spread
    m.near_low = pyo.Constraint(range(len(region.columns)), rule=lambda m, i: m.v[region.columns[i]] >= sum(
        float(lows[k, i]) * m.z[k] for k in anchors))
    m.near_high = pyo.Constraint(range(len(region.columns)), rule=lambda m, i: m.v[region.columns[i]] <= sum(
        float(highs[k, i]) * m.z[k] for k in anchors))


def check_linear(constraints: list[LinearConstraint], point: dict[str, float]) -> list[dict]:
    return [c.check(point) for c in constraints]


def _envelope_text(columns, low, high) -> str:
    return ", ".join(f"{c} ∈ [{low[c]:.6g}, {high[c]:.6g}]" for c in columns)


def envelope_text(decision: dict) -> str:
    """The envelope as text for error messages: 'temp ∈ [820, 880], speed ∈ [1, 3]'."""
    return _envelope_text(list(decision), {f: d.low for f, d in decision.items()},
                          {f: d.high for f, d in decision.items()})
