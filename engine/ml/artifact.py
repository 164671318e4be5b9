"""A trained LightGBM model bundle on disk, and applying it to new rows.

Files in the folder: `booster.txt` (LightGBM's own text format, which keeps the category levels it was trained with)
and the fields of `manifest()` (the caller writes them into the run's model.json): features, their kinds and training
ranges, category levels, classes, the decision threshold, the residual interval, how derived features are rebuilt.
Nothing is pickled, so a model saved by one version of the studio loads in the next (or is refused by its format
number with a clear message, see engine/service/scoring.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from engine.ml.frame import FeatureCoder
from engine.ml.lgbm import ModelBundle
from engine.ml.smooth import SmoothModel

BOOSTER_FILE = "booster.txt"
SMOOTH_FILE = "smooth.json"  # the model search's smooth polynomial (engine/ml/smooth.py), as plain numbers


def can_save(bundle: ModelBundle) -> bool:
    """A LightGBM booster or the smooth polynomial; other final models (ExtraTrees) are not kept for scoring."""
    return hasattr(bundle.final, "model_to_string") or getattr(bundle.final, "kind", None) == "smooth"


def save_bundle(bundle: ModelBundle, folder: Path) -> dict:
    """Write the final model into `folder` (and each companion model into a sub-folder of its name); return the
    manifest fields that describe how to apply it."""
    folder.mkdir(parents=True, exist_ok=True)
    companions = {}
    for name, other in (getattr(bundle, "companions", None) or {}).items():
        if other is not None and can_save(other):
            companions[name] = {"folder": f"companion_{name}", **save_bundle(other, folder / f"companion_{name}")}
    if hasattr(bundle.final, "model_to_string"):
        (folder / BOOSTER_FILE).write_text(bundle.final.model_to_string(), encoding="utf-8")
        final = "lightgbm"
    else:
        (folder / SMOOTH_FILE).write_text(json.dumps(bundle.final.to_dict()), encoding="utf-8")
        final = "smooth"
    return {"final": final, "target": bundle.target, "task": bundle.task, "features": list(bundle.coder.features),
            "levels": bundle.coder.levels, "integer": list(bundle.coder.integer), "classes": list(bundle.classes),
            "threshold": float(bundle.threshold), "residual_q": [float(v) for v in bundle.residual_q],
            "schema": bundle.schema or {}, "prep": list(getattr(bundle, "prep", []) or []),
            "lightgbm_version": lgb.__version__, "companions": companions}


@dataclass
class SavedModel:
    """A saved bundle loaded back: enough to check new rows and predict them."""

    target: str
    task: str
    coder: FeatureCoder
    booster: lgb.Booster | SmoothModel
    classes: list
    threshold: float
    residual_q: tuple[float, float]
    schema: dict = field(default_factory=dict)
    prep: list = field(default_factory=list)
    companions: dict = field(default_factory=dict)  # name -> SavedModel applied beside this one

    @classmethod
    def load(cls, folder: Path, manifest: dict) -> "SavedModel":
        if manifest.get("final") == "smooth":  # predicts an encoded frame like a booster does
            booster = SmoothModel.from_dict(json.loads((folder / SMOOTH_FILE).read_text(encoding="utf-8")))
        else:
            booster = lgb.Booster(model_str=(folder / BOOSTER_FILE).read_text(encoding="utf-8"))
        coder = FeatureCoder(list(manifest["features"]), dict(manifest.get("levels") or {}),
                             list(manifest.get("integer") or []))
        companions = {name: cls.load(folder / spec["folder"], spec)
                      for name, spec in (manifest.get("companions") or {}).items()}
        return cls(manifest["target"], manifest["task"], coder, booster, list(manifest.get("classes") or []),
                   float(manifest.get("threshold", 0.5)), tuple(manifest.get("residual_q") or (0.0, 0.0)),
                   dict(manifest.get("schema") or {}), list(manifest.get("prep") or []), companions)

    @property
    def derived(self) -> list[str]:
        """Features built from raw columns at scoring time (rolling windows), not read from the input."""
        return [c for step in self.prep for c in step.get("created", [])]

    def kinds(self) -> dict[str, str]:
        """Raw input column -> the kind it must have (numeric, bool, category), the companions' inputs included."""
        out = {}
        for model in [self, *self.companions.values()]:
            out.update({c: (model.schema.get(c) or {}).get("kind", "category" if c in model.coder.levels else "numeric")
                        for c in model.coder.features if c not in self.derived and c not in out})
        return out

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """prediction (+ prediction_low/high for a regression, probability for a classification) and out_of_range."""
        raw = self.booster.predict(self.coder.transform(frame))
        out = {}
        if self.task == "regression":
            out["prediction"] = raw
            out["prediction_low"] = raw + self.residual_q[0]
            out["prediction_high"] = raw + self.residual_q[1]
        else:
            negative, positive = (self.classes + [0, 1])[:2] if len(self.classes) == 2 else (0, 1)
            out["probability"] = raw
            out["prediction"] = np.where(raw >= self.threshold, positive, negative)
        flag = self.outside(frame)
        for name, other in self.companions.items():  # e.g. the output model: '<its target>_prediction' ...
            extra = other.predict(frame)
            flag = flag | extra.pop("out_of_range").to_numpy()
            out.update({f"{other.target}_{col}": extra[col].to_numpy() for col in extra.columns})
        out["out_of_range"] = flag
        return pd.DataFrame(out, index=frame.index)

    def outside(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows with a numeric feature beyond the training range (missing values are not counted)."""
        flag = np.zeros(len(frame), dtype=bool)
        for col, spec in self.schema.items():
            if spec.get("kind") != "numeric" or spec.get("min") is None or col not in frame.columns:
                continue
            v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                flag |= (v < spec["min"]) | (v > spec["max"])
        return flag

    def outside_columns(self, frame: pd.DataFrame) -> dict[str, int]:
        """Per column, how many rows lie beyond the training range (for the summary)."""
        counts = {}
        for col, spec in self.schema.items():
            if spec.get("kind") != "numeric" or spec.get("min") is None or col not in frame.columns:
                continue
            v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                n = int(((v < spec["min"]) | (v > spec["max"])).sum())
            if n:
                counts[col] = n
        return counts
