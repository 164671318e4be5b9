"""The image model in the scoring registry (engine.service.scoring): how an image-inspection run's model is saved in
its run folder, loaded, and applied to new images by `python -m engine score RUN_ID --data FOLDER|ZIP` or
`--table IMAGE_TABLE`.

Saved: `model/image_model.joblib` (an engine.ml.image_model.ImageClassifier: feature version, classes, estimator, the
OK-vs-defect cut). A folder or zip given as `--data` is read as the ingest reads one (class sub-folders give a `label`
column to compare against); every image is decoded before anything is scored, and a corrupt one is named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml.image_features import FEATURE_VERSION
from engine.ml.image_io import UnreadableImage, read_image
from engine.ml.image_model import ImageClassifier
from engine.service.scoring import Loaded, Scorer, register_scorer

MODEL_FILE = "image_model.joblib"


class ImageScorer(Scorer):
    kind = "image_classifier"
    version = 1

    def accepts(self, model: Any) -> bool:
        return isinstance(model, ImageClassifier)

    def save(self, model: ImageClassifier, folder: Path) -> dict:
        joblib.dump(model, folder / MODEL_FILE)
        return {"file": MODEL_FILE, "classes": list(model.classes), "classifier": model.candidate,
                "feature_version": model.feature_version, "ok_label": model.ok_label, "threshold": model.threshold}

    def load(self, folder: Path, manifest: dict) -> "LoadedImages":
        if manifest.get("feature_version") != FEATURE_VERSION:
            raise InvalidInput(Issue(Msg(f"the saved image model uses features version {manifest.get('feature_version')}; "
                                         f"this studio computes version {FEATURE_VERSION}",
                                         f"保存的图片模型使用第 {manifest.get('feature_version')} 版特征；本工作室计算第 {FEATURE_VERSION} 版"),
                                     hint=Msg("run the recipe again, then score with the new run", "请重新运行配方，再用新的运行评分")))
        return LoadedImages(joblib.load(folder / manifest.get("file", MODEL_FILE)))


class LoadedImages(Loaded):
    """Rows are images: `file` (shown) and `path` (read). A folder or zip becomes such rows first."""

    def __init__(self, model: ImageClassifier):
        self.model = model

    def kinds(self) -> dict[str, str]:
        return {"file": "any", "path": "any"}

    def source_data(self, data, tmp: Path):
        """A folder or .zip of images → a frame (file, label, path) of decodable images; anything else unchanged."""
        if isinstance(data, (str, Path)) and (Path(data).is_dir() or str(data).lower().endswith(".zip")):
            return image_rows(Path(data), tmp / "images")
        return data

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        images, problems = [], []
        for name, path in zip(frame["file"].astype(str), frame["path"].astype(str)):
            try:
                images.append(read_image(path))
            except (UnreadableImage, FileNotFoundError) as exc:
                problems.append(Issue(Msg(f"cannot read the image: {exc}", f"无法读取图片：{exc}"), name))
        if problems:
            raise InvalidInput(problems)
        return predictions(self.model, images, frame["file"].astype(str).tolist(), frame.index)

    def describe(self) -> dict:
        m = self.model
        return {"task": "image_classification", "classes": list(m.classes), "classifier": m.candidate,
                "ok_label": m.ok_label, "threshold": m.threshold}


def predictions(model: ImageClassifier, images: list[np.ndarray], files: list[str], index=None) -> pd.DataFrame:
    """file, prediction, probability, [p_defect, verdict,] p_<class>…, out_of_range (always False: images have no
    training envelope the studio checks)."""
    proba = model.proba(images) if images else np.zeros((0, len(model.classes)))
    decided = model.decide(proba)
    out = pd.DataFrame({"file": files, "prediction": decided["prediction"].astype(str),
                        "probability": np.round(decided["probability"], 6)}, index=index)
    if "verdict" in decided:
        out["p_defect"] = np.round(decided["p_defect"], 6)
        out["verdict"] = decided["verdict"]
    for j, name in enumerate(model.classes):
        out[f"p_{name}"] = np.round(proba[:, j], 6)
    out["out_of_range"] = False
    return out


def image_rows(source: Path, tmp: Path) -> pd.DataFrame:
    """The images of a folder or zip (class sub-folders or labels.csv) as rows; every image decoded first."""
    from engine.store.ingest.images import _unzip, scan

    if source.is_file():
        tmp.mkdir(parents=True, exist_ok=True)
    root = _unzip(source, tmp) if source.is_file() else source
    entries, _ = scan(root)
    problems = []
    for name, _ in entries:
        try:
            read_image(root / name)
        except UnreadableImage as exc:
            problems.append(Issue(Msg(f"cannot read the image: {exc}", f"无法读取图片：{exc}"), name))
    if problems:
        raise InvalidInput(problems)
    return pd.DataFrame({"file": [f for f, _ in entries],
                         "label": pd.Series([lab for _, lab in entries], dtype="string"),
                         "path": [str(root / f) for f, _ in entries]})


register_scorer(ImageScorer())
