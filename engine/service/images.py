"""Images in the data factory as a service: ingest a folder or zip, tell an image table, sample thumbnails per class,
and judge new images with an image-inspection run (engine.service.image_scoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine.service.tables import catalog
from engine.store.catalog import TableInfo


def ingest_images(source: str | Path, table: str, *, db=None, replace: bool = False,
                  on_progress: Callable[[float, str], None] | None = None) -> TableInfo:
    """A folder or .zip of images (class sub-folders, or images + labels.csv) as a table, one row per image."""
    from engine.store.ingest.images import ingest_images as ingest_folder

    return ingest_folder(catalog(db), source, table, replace=replace, on_progress=on_progress)


def is_image_table(table: str, db=None) -> bool:
    """Whether a table was ingested from an image folder (one row per image with its stored file)."""
    from engine.store.ingest.images import COLUMNS

    return set(COLUMNS) <= set(catalog(db).table_info(table).columns)


def image_samples(table: str, *, per_class: int = 6, side: int = 128, db=None) -> dict[str, list[dict]]:
    """A few images of each label of an image table (unlabelled under ''): file and a PNG thumbnail (bytes)."""
    from engine.ml.image_io import read_image, thumbnail_png

    frame = catalog(db).read_table(table, ["file", "label", "path"])
    out: dict[str, list[dict]] = {}
    for label, group in frame.groupby(frame["label"].fillna(""), sort=True):
        out[str(label)] = [{"file": row.file, "png": thumbnail_png(read_image(row.path), side)}
                           for row in group.head(per_class).itertuples()]
    return out


def score_images(run_id: str, data: str | Path, *, db=None, out: str | Path | None = None, on_progress=None):
    """Judge new images (a folder, a .zip or an image table) with an image-inspection run's model: a frame with
    one row per image (file, prediction, probability …); written as CSV to `out` when given."""
    from engine.service.image_scoring import score_images as score
    from engine.service.runner import get_run

    run = get_run(run_id, db)
    frame = score(run["run_dir"], data, on_progress=on_progress)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
    return frame
