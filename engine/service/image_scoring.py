"""Scoring new images with an image-inspection run's model: one row per image (file, prediction, probability).

`score_images(run_dir, source)` takes the run's folder (`<studio>.runs/<run_id>`) and a folder of images, a .zip
of one, or the name of an image table in the data factory. Folders are read as the ingest reads them (class
sub-folders give a `label` column to compare against; a labels.csv too); every image is decoded first and a
corrupt one stops the scoring with its name (nothing is written).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml.image_io import UnreadableImage, read_image
from engine.ml.image_model import ImageClassifier

MODEL_KIND = "image_classifier"


def db_of_run_dir(run_dir: Path) -> Path:
    """`<folder>/<stem>.runs/<run_id>` → `<folder>/<stem>.duckdb` (config.runs_dir's inverse)."""
    runs = Path(run_dir).parent
    stem = runs.name[: -len(".runs")] if runs.name.endswith(".runs") else runs.name
    return runs.parent / f"{stem}.duckdb"


def load_image_model(run_dir: str | Path) -> ImageClassifier:
    from engine.service.background import run_model

    run_dir = Path(run_dir)
    model = run_model(run_dir.name, db_of_run_dir(run_dir))
    if getattr(model, "kind", None) != MODEL_KIND:
        raise InvalidInput(Issue(Msg(f"run {run_dir.name} did not train an image model", f"运行 {run_dir.name} 没有训练图片模型"),
                                 hint=Msg("score images with a run of the image_inspection template",
                                          "请用 image_inspection 模板的运行为图片评分")))
    return model


def score_images(run_dir: str | Path, image_dir_or_table: str | Path, *, model: ImageClassifier | None = None,
                 on_progress=None) -> pd.DataFrame:
    """One row per image: file, [label,] prediction, probability, [p_defect, verdict,] p_<class>…"""
    model = model or load_image_model(run_dir)
    progress = on_progress or (lambda fraction, message: None)
    source = Path(image_dir_or_table)
    with tempfile.TemporaryDirectory() as tmp:
        if source.exists():
            files, labels, paths = _from_folder(source, Path(tmp))
        else:
            files, labels, paths = _from_table(Path(run_dir), str(image_dir_or_table))
        images, problems = [], []
        for name, path in zip(files, paths):
            try:
                images.append(read_image(path))
            except (UnreadableImage, FileNotFoundError) as exc:
                problems.append(Issue(Msg(f"cannot read the image: {exc}", f"无法读取图片：{exc}"), name))
        if problems:
            raise InvalidInput(problems)
        proba = np.zeros((0, len(model.classes)))
        for start in range(0, len(images), 64):
            proba = np.vstack([proba, model.proba(images[start: start + 64])])
            progress(min(1.0, (start + 64) / max(len(images), 1)), Msg("scoring", "评分中"))
    out = pd.DataFrame({"file": files})
    if any(label is not None for label in labels):
        out["label"] = pd.Series(labels, dtype="string")
    decided = model.decide(proba)
    out["prediction"] = decided["prediction"].astype(str)
    out["probability"] = np.round(decided["probability"], 6)
    if "verdict" in decided:
        out["p_defect"] = np.round(decided["p_defect"], 6)
        out["verdict"] = decided["verdict"]
    for j, name in enumerate(model.classes):
        out[f"p_{name}"] = np.round(proba[:, j], 6)
    return out


def _from_folder(source: Path, tmp: Path) -> tuple[list[str], list, list[Path]]:
    from engine.store.ingest.images import _unzip, scan

    root = _unzip(source, tmp) if source.is_file() else source
    entries, _ = scan(root)
    return [f for f, _ in entries], [lab for _, lab in entries], [root / f for f, _ in entries]


def _from_table(run_dir: Path, table: str) -> tuple[list[str], list, list[Path]]:
    from engine.store.catalog import Catalog

    catalog = Catalog(db_of_run_dir(run_dir))
    if table not in catalog.table_names():
        raise InvalidInput(Issue(Msg(f"'{table}' is neither a folder, a zip nor a table", f"'{table}' 既不是文件夹、zip，也不是表"),
                                 hint=Msg("give a folder of images, a .zip of one, or an image table's name",
                                          "请给出图片文件夹、其 .zip 压缩包或图片表的名称")))
    frame = catalog.read_table(table)
    if not {"file", "path"} <= set(frame.columns):
        raise InvalidInput(Issue(Msg(f"table '{table}' is not an image table (no file/path columns)",
                                     f"表 '{table}' 不是图片表（没有 file/path 列）")))
    labels = frame["label"].astype(object).where(frame["label"].notna(), None).tolist() if "label" in frame else \
        [None] * len(frame)
    return frame["file"].astype(str).tolist(), labels, [Path(p) for p in frame["path"]]
