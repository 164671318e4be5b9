"""Judging new images with an image-inspection run's saved model: one row per image (file, prediction, probability).

`score_images(run_dir, source)` takes the run's folder (`<studio>.runs/<run_id>`, holding `model/`) and a folder of
images, a .zip of one, or the name of an image table in the data factory. Folders are read as the ingest reads them
(class sub-folders give a `label` column to compare against; a labels.csv too); every image is decoded first and a
corrupt one stops the scoring with its name (nothing is written). The same model is what
`python -m engine score RUN_ID --data FOLDER` applies (engine.service.image_scorer in the scoring registry).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml.image_io import UnreadableImage, read_image
from engine.ml.image_model import ImageClassifier


def db_of_run_dir(run_dir: Path) -> Path:
    """`<folder>/<stem>.runs/<run_id>` → `<folder>/<stem>.duckdb` (config.runs_dir's inverse)."""
    runs = Path(run_dir).parent
    stem = runs.name[: -len(".runs")] if runs.name.endswith(".runs") else runs.name
    return runs.parent / f"{stem}.duckdb"


def load_image_model(run_dir: str | Path) -> ImageClassifier:
    """The image classifier a run saved in its `model/` folder (a clear message for any other kind of run)."""
    from engine.service.image_scorer import LoadedImages
    from engine.service.scoring import load_run_model

    run_dir = Path(run_dir)
    _, loaded = load_run_model(run_dir.name, run_dir)
    if not isinstance(loaded, LoadedImages):
        raise InvalidInput(Issue(Msg(f"run {run_dir.name} did not train an image model", f"运行 {run_dir.name} 没有训练图片模型"),
                                 hint=Msg("score images with a run of the image_inspection template",
                                          "请用 image_inspection 模板的运行为图片评分")))
    return loaded.model


def score_images(run_dir: str | Path, image_dir_or_table: str | Path, *, model: ImageClassifier | None = None,
                 on_progress=None) -> pd.DataFrame:
    """One row per image: file, [label,] prediction, probability, [p_defect, verdict,] p_<class>…"""
    from engine.service.image_scorer import image_rows, predictions

    model = model or load_image_model(run_dir)
    progress = on_progress or (lambda fraction, message: None)
    source = Path(image_dir_or_table)
    with tempfile.TemporaryDirectory() as tmp:
        rows = image_rows(source, Path(tmp) / "images") if source.exists() else \
            _from_table(Path(run_dir), str(image_dir_or_table))
        images, problems = [], []
        for name, path in zip(rows["file"], rows["path"]):
            try:
                images.append(read_image(path))
            except (UnreadableImage, FileNotFoundError) as exc:
                problems.append(Issue(Msg(f"cannot read the image: {exc}", f"无法读取图片：{exc}"), name))
        if problems:
            raise InvalidInput(problems)
        parts = []
        for start in range(0, len(images), 64):
            parts.append(predictions(model, images[start: start + 64], rows["file"].iloc[start: start + 64].tolist()))
            progress(min(1.0, (start + 64) / max(len(images), 1)), Msg("scoring", "评分中"))
    out = pd.concat(parts, ignore_index=True).drop(columns=["out_of_range"])
    if rows["label"].notna().any():
        out.insert(1, "label", rows["label"].reset_index(drop=True))
    return out


def _from_table(run_dir: Path, table: str) -> pd.DataFrame:
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
    label = frame["label"].astype("string") if "label" in frame else pd.Series([pd.NA] * len(frame), dtype="string")
    return pd.DataFrame({"file": frame["file"].astype(str), "label": label, "path": frame["path"].astype(str)})
