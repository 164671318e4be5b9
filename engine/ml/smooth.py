"""A smooth model: a low-order polynomial of the standardised inputs with a ridge penalty (regression) or a
logistic link (classification), written in plain numpy so an optimiser can ask for values and exact gradients.

Why it is a candidate: a response that is a smooth function of a few settings (a compound's strength over its
fractions) is learnt by trees as a staircase, and an optimiser over a staircase lands on its chance steps. The
polynomial degree (1-3) and the penalty are chosen by inner cross-validation on the training rows only.

Inputs are the FeatureCoder's encoded frame (numbers; categories as pandas categoricals) or, for the optimiser,
a float matrix in the same column order (a category as its code). Missing numbers become the training median;
a category becomes one-hot columns (linear terms only).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEGREES = (1, 2, 3)
ALPHAS = tuple(float(a) for a in np.logspace(-4, 3, 8))
CLASSIFICATION_ALPHAS = tuple(float(a) for a in np.logspace(-2, 3, 6))


@dataclass
class SmoothModel:
    """Fitted polynomial: y = intercept + Σ coef_k · Π_j z_j^powers[k, j] (+ one-hot terms); z standardised."""

    task: str
    numeric: list[int]                     # positions of numeric columns in the input
    categorical: dict[int, int]            # position -> number of levels
    median: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    powers: np.ndarray                     # terms × numeric columns
    coef: np.ndarray                       # polynomial terms, then one-hot columns
    intercept: float
    degree: int
    alpha: float
    n_inputs: int = 0
    settings: dict = field(default_factory=dict)

    kind = "smooth"

    def to_dict(self) -> dict:
        """Plain JSON-ready fields (a saved run's model: nothing pickled)."""
        return {"task": self.task, "numeric": list(self.numeric),
                "categorical": {str(k): int(v) for k, v in self.categorical.items()},
                "median": self.median.tolist(), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "powers": self.powers.tolist(), "coef": self.coef.tolist(), "intercept": float(self.intercept),
                "degree": int(self.degree), "alpha": float(self.alpha), "n_inputs": int(self.n_inputs),
                "settings": dict(self.settings)}

    @classmethod
    def from_dict(cls, data: dict) -> "SmoothModel":
        arrays = {k: np.asarray(data[k], dtype=float) for k in ("median", "mean", "scale", "coef")}
        powers = np.asarray(data["powers"], dtype=int).reshape(-1, len(data["numeric"]))
        return cls(data["task"], list(data["numeric"]), {int(k): int(v) for k, v in data["categorical"].items()},
                   arrays["median"], arrays["mean"], arrays["scale"], powers, arrays["coef"], float(data["intercept"]),
                   int(data["degree"]), float(data["alpha"]), int(data.get("n_inputs", 0)), dict(data.get("settings") or {}))

    def predict(self, x) -> np.ndarray:
        """Prediction (a probability for classification) for an encoded frame or a float matrix."""
        raw = self._raw(self._matrix(x))
        return raw if self.task == "regression" else 1.0 / (1.0 + np.exp(-raw))

    def gradient(self, row: np.ndarray) -> np.ndarray:
        """d prediction / d input at one float row (numeric columns; zero for categorical)."""
        m = np.asarray(row, dtype=float).reshape(1, -1)
        z = self._z(m)[0]
        grad_z = np.zeros(len(self.numeric))
        for k, p in enumerate(self.powers):
            c = self.coef[k]
            if c == 0.0:
                continue
            for j in np.flatnonzero(p):
                rest = np.prod([z[i] ** p[i] for i in range(len(p)) if i != j]) if len(p) > 1 else 1.0
                grad_z[j] += c * p[j] * z[j] ** (p[j] - 1) * rest
        out = np.zeros(m.shape[1])
        out[self.numeric] = grad_z / self.scale
        if self.task == "classification":
            prob = float(self.predict(m)[0])
            out *= prob * (1 - prob)
        return out

    # -- internals ------------------------------------------------------------------------------------------
    def _matrix(self, x) -> np.ndarray:
        if isinstance(x, pd.DataFrame):
            cols = []
            for j in range(x.shape[1]):
                s = x.iloc[:, j]
                cols.append(s.cat.codes.to_numpy(float) if isinstance(s.dtype, pd.CategoricalDtype)
                            else pd.to_numeric(s, errors="coerce").to_numpy(float))
            return np.column_stack(cols) if cols else np.zeros((len(x), 0))
        return np.asarray(x, dtype=float).reshape(-1, self.n_inputs)

    def _z(self, m: np.ndarray) -> np.ndarray:
        v = m[:, self.numeric]
        v = np.where(np.isnan(v), self.median, v)
        return (v - self.mean) / self.scale

    def _design(self, m: np.ndarray) -> np.ndarray:
        z = self._z(m)
        terms = [np.prod(z ** p, axis=1) for p in self.powers]
        onehot = []
        for j, levels in self.categorical.items():
            code = m[:, j]
            onehot += [(code == level).astype(float) for level in range(levels)]
        cols = terms + onehot
        return np.column_stack(cols) if cols else np.zeros((len(m), 0))

    def _raw(self, m: np.ndarray) -> np.ndarray:
        return self._design(m) @ self.coef + self.intercept


def powers_of(n: int, degree: int) -> np.ndarray:
    """Exponent vectors of every monomial of total degree 1..degree in n variables."""
    out = []
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), d):
            p = np.zeros(n, dtype=int)
            for j in combo:
                p[j] += 1
            out.append(p)
    return np.array(out, dtype=int).reshape(-1, n)


def max_degree(n_numeric: int, rows: int) -> int:
    """The highest degree whose term count stays well below the rows (and small enough to fit fast)."""
    best = 1
    for d in DEGREES:
        if len(powers_of(n_numeric, d)) <= min(rows / 5, 400):
            best = d
    return best


def fit_smooth(x: pd.DataFrame, y: np.ndarray, task: str, degree: int, alpha: float,
               class_weight: bool = True) -> SmoothModel:
    """Fit one polynomial of `degree` with penalty `alpha` (ridge; for classification 1/alpha is C)."""
    cat = {j: len(x.iloc[:, j].cat.categories) for j in range(x.shape[1])
           if isinstance(x.iloc[:, j].dtype, pd.CategoricalDtype)}
    numeric = [j for j in range(x.shape[1]) if j not in cat]
    proto = SmoothModel(task, numeric, cat, np.zeros(len(numeric)), np.zeros(len(numeric)), np.ones(len(numeric)),
                        powers_of(len(numeric), degree), np.zeros(0), 0.0, degree, alpha, x.shape[1])
    m = proto._matrix(x)
    v = m[:, numeric]
    with np.errstate(all="ignore"):
        median = np.nanmedian(v, axis=0) if len(v) else np.zeros(len(numeric))
    median = np.where(np.isnan(median), 0.0, median)
    filled = np.where(np.isnan(v), median, v)
    proto.median, proto.mean = median, filled.mean(axis=0)
    proto.scale = np.where(filled.std(axis=0) > 1e-12, filled.std(axis=0), 1.0)
    design = proto._design(m)
    if task == "regression":
        from sklearn.linear_model import Ridge

        fitted = Ridge(alpha=alpha).fit(design, y)
        proto.coef, proto.intercept = fitted.coef_.astype(float), float(fitted.intercept_)
    else:
        from sklearn.linear_model import LogisticRegression

        fitted = LogisticRegression(C=1.0 / alpha, class_weight="balanced" if class_weight else None,
                                    max_iter=2000).fit(design, y.astype(int))
        proto.coef, proto.intercept = fitted.coef_[0].astype(float), float(fitted.intercept_[0])
    proto.settings = {"degree": degree, "penalty": round(alpha, 6),
                      "link": "identity" if task == "regression" else "logistic"}
    return proto


def ridge_path(x_train: pd.DataFrame, y_train: np.ndarray, x_test: pd.DataFrame, degree: int,
               alphas: tuple[float, ...]) -> list[np.ndarray]:
    """Test predictions of the ridge polynomial of `degree` for every penalty in `alphas` at the cost of one SVD
    (the same fit as fit_smooth(..., 'regression', degree, alpha) for each alpha)."""
    proto = fit_smooth(x_train, y_train, "regression", degree, alphas[0])
    design = proto._design(proto._matrix(x_train))
    test = proto._design(proto._matrix(x_test))
    mean_x, mean_y = design.mean(axis=0), float(np.mean(y_train))
    u, sing, vt = np.linalg.svd(design - mean_x, full_matrices=False)
    uty = u.T @ (y_train - mean_y)
    out = []
    for alpha in alphas:
        coef = vt.T @ (sing / (sing ** 2 + alpha) * uty)
        out.append((test - mean_x) @ coef + mean_y)
    return out
