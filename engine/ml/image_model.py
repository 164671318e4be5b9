"""Image classifier chosen by cross-validation within a time budget, scored on data its choice never saw.

Candidates: a linear SVM (calibrated), a kernel (RBF) SVM and LightGBM, all on the hand-made features of
engine.ml.image_features. Nested: in every outer fold the candidates are fitted on 75 % of the fold's training
images and compared (balanced accuracy) on the other 25 %; the winner is refitted on the whole training part and
predicts the held-out fold. The out-of-fold probabilities give every metric. The final model is the candidate
chosen most often, refitted on all images. A candidate whose projected cost does not fit the budget is left out
(said in the result), never a fold cut short.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from engine.core.i18n import Msg

CANDIDATES = ("svm_linear", "svm_rbf", "lightgbm")
OK_WORDS = ("ok", "good", "pass", "normal", "functional", "合格", "良品", "正常")


def make_candidate(name: str, seed: int, threads: int = 1):
    if name == "svm_linear":
        return make_pipeline(StandardScaler(), CalibratedClassifierCV(
            LinearSVC(C=0.01, dual=False, random_state=seed), cv=3))
    if name == "svm_rbf":
        # SVC(probability=True) is deprecated in scikit-learn 1.9: calibrate with 3 folds, one SVC kept
        return make_pipeline(StandardScaler(), CalibratedClassifierCV(
            SVC(kernel="rbf", C=10.0, gamma="scale", random_state=seed), cv=3, ensemble=False))
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        # one thread: on a shared or busy machine OpenMP threads spin against each other (measured: 5× slower
        # under load); the features use the cores instead
        # 63 bins, 120 trees: half the CPU of 255 bins × 150 trees at the same held-out accuracy (measured)
        return LGBMClassifier(n_estimators=120, learning_rate=0.12, max_bin=63, num_leaves=15, min_child_samples=10,
                              colsample_bytree=0.3, subsample=0.8, subsample_freq=1, reg_lambda=1.0,
                              random_state=seed, n_jobs=1, verbose=-1)
    raise ValueError(Msg(f"unknown candidate '{name}'; known: {list(CANDIDATES)}",
                         f"未知的候选分类器 '{name}'；可选：{list(CANDIDATES)}"))


@dataclass
class Selection:
    oof: np.ndarray                           # n × classes out-of-fold probabilities
    folds: np.ndarray                         # fold index of each image
    chosen: list[str]                         # the candidate each outer fold chose
    inner_scores: list[dict[str, float]]      # per fold: candidate → inner balanced accuracy
    fit_seconds: dict[str, float]             # candidate → seconds of one fit (measured)
    left_out: list[str] = field(default_factory=list)   # candidates skipped for the budget
    final_name: str = ""
    final: object = None
    seconds: float = 0.0


def select_and_fit(x: np.ndarray, y: np.ndarray, *, folds: int = 5, seed: int = 0, budget_s: float = 150.0,
                   candidates: tuple[str, ...] = CANDIDATES, threads: int = 1,
                   progress: Callable[[float, str], None] | None = None) -> Selection:
    """Nested CV over `candidates` (y: integer class codes 0..k-1), then the final model on all rows."""
    progress = progress or (lambda f, m: None)
    started = time.perf_counter()
    k = int(y.max()) + 1
    outer = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_of = np.empty(len(y), dtype=int)
    splits = list(outer.split(x, y))
    for i, (_, test) in enumerate(splits):
        fold_of[test] = i
    oof = np.zeros((len(y), k))
    chosen, inner_scores, fit_seconds = [], [], {}
    active = list(candidates)
    left_out: list[str] = []
    for i, (train, test) in enumerate(splits):
        progress(i / (folds + 1), f"fold {i + 1}/{folds}")
        inner_train, inner_test = train_test_split(train, test_size=0.25, stratify=y[train], random_state=seed + i)
        scores = {}
        for name in active:
            t0 = time.perf_counter()
            model = make_candidate(name, seed, threads).fit(x[inner_train], y[inner_train])
            fit_seconds[name] = time.perf_counter() - t0
            scores[name] = float(balanced_accuracy_score(y[inner_test], model.predict(x[inner_test])))
        inner_scores.append(scores)
        best = max(scores, key=lambda n: (scores[n], -fit_seconds[n]))
        chosen.append(best)
        oof[test] = _aligned_proba(make_candidate(best, seed, threads).fit(x[train], y[train]), x[test], k)
        if i == 0:
            active, left_out = _fit_budget(active, fit_seconds, folds, budget_s, time.perf_counter() - started)
    votes = Counter(chosen)
    mean_inner = {n: float(np.mean([s[n] for s in inner_scores if n in s])) for n in votes}
    final_name = max(votes, key=lambda n: (votes[n], mean_inner[n]))
    progress(folds / (folds + 1), "final model")
    final = make_candidate(final_name, seed, threads).fit(x, y)
    return Selection(oof, fold_of, chosen, inner_scores, fit_seconds, left_out, final_name, final,
                     time.perf_counter() - started)


def _fit_budget(active: list[str], fit_seconds: dict[str, float], folds: int, budget_s: float,
                spent: float) -> tuple[list[str], list[str]]:
    """After the first fold: drop the slowest candidates until the projected remaining folds fit the budget."""
    keep = sorted(active, key=lambda n: fit_seconds[n])
    left_out = []
    while len(keep) > 1:
        per_fold = sum(fit_seconds[n] for n in keep) + 1.4 * max(fit_seconds[n] for n in keep)
        if spent + per_fold * folds <= budget_s:      # remaining folds + the final refit, roughly
            break
        left_out.append(keep.pop())
    return keep, left_out


def _aligned_proba(model, x: np.ndarray, k: int) -> np.ndarray:
    """predict_proba with a column per class code, even when a fold's training part missed a class."""
    proba = model.predict_proba(x)
    out = np.zeros((len(x), k))
    out[:, np.asarray(model.classes_, dtype=int)] = proba
    return out


# -- metrics -------------------------------------------------------------------------------------------------
def class_metrics(y: np.ndarray, proba: np.ndarray, classes: list[str], folds: np.ndarray) -> dict:
    """Accuracy, balanced accuracy (overall and per fold), per-class precision/recall, the confusion matrix."""
    pred = proba.argmax(axis=1)
    k = len(classes)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    per_class = []
    for c, name in enumerate(classes):
        tp = confusion[c, c]
        predicted, actual = confusion[:, c].sum(), confusion[c, :].sum()
        per_class.append({"class": name, "support": int(actual),
                          "precision": round(float(tp / predicted), 4) if predicted else None,
                          "recall": round(float(tp / actual), 4) if actual else None})
    per_fold = [float(balanced_accuracy_score(y[folds == f], pred[folds == f])) for f in np.unique(folds)]
    return {"accuracy": round(float(np.mean(pred == y)), 4),
            "balanced_accuracy": round(float(balanced_accuracy_score(y, pred)), 4),
            "balanced_accuracy_folds": [round(v, 4) for v in per_fold],
            "balanced_accuracy_std": round(float(np.std(per_fold)), 4),
            "per_class": per_class, "confusion": {"classes": classes, "matrix": confusion.tolist()}}


def ok_class(classes: list[str], given: str = "") -> str | None:
    """The class meaning OK: the one given, else a name like ok/good/pass/合格, else None (no OK-vs-defect view)."""
    if given:
        return given if given in classes else None
    for name in classes:
        if name.strip().lower() in OK_WORDS:
            return name
    return None


def allowed_escapes(n_defects: int, max_escape: float, confidence: float = 0.9) -> int:
    """The most escapes among `n_defects` for which the escape rate's one-sided Clopper-Pearson upper bound at
    `confidence` stays ≤ max_escape (-1: not even zero escapes prove it)."""
    from scipy.stats import beta

    k = -1
    while k + 1 < n_defects and beta.ppf(confidence, k + 2, n_defects - k - 1) <= max_escape:
        k += 1
    return k


def defects_needed(max_escape: float, confidence: float = 0.9) -> int:
    """How many defective images it takes before zero escapes show an escape rate ≤ max_escape at `confidence`."""
    if max_escape <= 0:
        return 0
    return int(np.ceil(np.log(1 - confidence) / np.log(1 - max_escape)))


def escape_threshold(p_defect: np.ndarray, is_defect: np.ndarray, max_escape: float,
                     confidence: float = 0.9) -> float:
    """The highest cut on P(defect) (flag when ≥ cut) that passes at most `allowed_escapes` defects as OK: the
    escape rate stays ≤ max_escape with the given confidence, not just on these images."""
    defects = np.sort(p_defect[is_defect])
    if not len(defects):
        return 0.5
    allowed = max(allowed_escapes(len(defects), max_escape, confidence), 0)   # defects that may fall below
    return float(defects[allowed]) if allowed < len(defects) else 1.0


def ok_vs_defect(proba: np.ndarray, y: np.ndarray, ok_index: int, folds: np.ndarray, max_escape: float,
                 confidence: float = 0.9) -> dict:
    """Threshold for a maximum escape rate and what it costs in re-inspection.

    The cut keeps the escape rate under max_escape with `confidence` (Clopper-Pearson), so it holds beyond these
    images. The threshold reported is chosen on all out-of-fold probabilities; the escape and re-inspection rates are
    CROSS-FITTED: each fold is judged with the threshold chosen on the other folds, so no rate is measured on the
    images its threshold was chosen on."""
    p_defect = 1.0 - proba[:, ok_index]
    is_defect = y != ok_index
    flagged = np.zeros(len(y), dtype=bool)
    for f in np.unique(folds):
        others = folds != f
        cut = escape_threshold(p_defect[others], is_defect[others], max_escape, confidence)
        flagged[folds == f] = p_defect[folds == f] >= cut
    threshold = escape_threshold(p_defect, is_defect, max_escape, confidence)
    n_defect, n_ok = int(is_defect.sum()), int((~is_defect).sum())
    escapes = int((is_defect & ~flagged).sum())
    false_alarms = int((~is_defect & flagged).sum())
    argmax_flag = proba.argmax(axis=1) != ok_index
    proven = allowed_escapes(n_defect, max_escape, confidence) >= 0
    return {"threshold": round(threshold, 6), "max_escape_rate": max_escape, "confidence": confidence,
            "proven": proven, "defects_needed": defects_needed(max_escape, confidence),
            "checked_by": "cross-fitting: each fold judged with the cut chosen on the other folds",
            "escape_rate": round(escapes / n_defect, 4) if n_defect else None,
            "escapes": escapes, "defects": n_defect,
            "reinspection_rate": round(float(flagged.mean()), 4),
            "false_alarm_rate": round(false_alarms / n_ok, 4) if n_ok else None,
            "at_argmax": {"escape_rate": round(int((is_defect & ~argmax_flag).sum()) / n_defect, 4) if n_defect else None,
                          "reinspection_rate": round(float(argmax_flag.mean()), 4)},
            "curve": _escape_curve(p_defect, is_defect)}


def _escape_curve(p_defect: np.ndarray, is_defect: np.ndarray, points: int = 41) -> list[dict]:
    """Escape rate against re-inspection rate over thresholds (for the chart)."""
    out = []
    for cut in np.linspace(0.0, 1.0, points):
        flagged = p_defect >= cut
        out.append({"threshold": round(float(cut), 4),
                    "escape_rate": round(float((is_defect & ~flagged).sum() / max(is_defect.sum(), 1)), 4),
                    "reinspection_rate": round(float(flagged.mean()), 4)})
    return out


# -- the trained model, as a run keeps it and the scorer uses it -------------------------------------------------
@dataclass
class ImageClassifier:
    """A fitted image classifier: features (engine.ml.image_features) + estimator + the OK-vs-defect cut."""

    classes: list[str]
    estimator: object
    candidate: str
    side: int
    feature_version: int
    ok_label: str | None = None
    threshold: float | None = None           # flag as defect when P(defect) ≥ threshold
    kind: str = "image_classifier"

    def proba_of_features(self, x: np.ndarray) -> np.ndarray:
        return _aligned_proba(self.estimator, x, len(self.classes))

    def proba(self, images: list[np.ndarray]) -> np.ndarray:
        from engine.ml.image_features import image_features

        x = np.vstack([image_features(a, self.side) for a in images])
        return self.proba_of_features(x)

    def decide(self, proba: np.ndarray) -> dict[str, np.ndarray]:
        """prediction (the most likely class), its probability, and with an OK class: P(defect) and the verdict
        at the chosen threshold ('ok' / 'defect')."""
        best = proba.argmax(axis=1)
        out = {"prediction": np.asarray(self.classes, dtype=object)[best], "probability": proba.max(axis=1)}
        if self.ok_label is not None and self.threshold is not None:
            p_defect = 1.0 - proba[:, self.classes.index(self.ok_label)]
            out["p_defect"] = p_defect
            out["verdict"] = np.where(p_defect >= self.threshold, "defect", "ok")
        return out
