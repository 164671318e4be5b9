"""The image demo: generated solar-cell EL images written as class folders, then ingested as a table.

engine.sim.solar_cells only RETURNS images; writing them to a folder in the studio home is this service's job.
"""

from __future__ import annotations

import shutil
from pathlib import Path

IMAGE_TABLE = "solar_cells_sim"   # recipes/image_inspection_sim.yaml runs on it
DEMO_CELLS = 400                  # 100 per class, 300 × 300, seed 0


def write_cells(cells, folder: Path) -> Path:
    """Write a CellSet as `folder/<label>/cell_00000.png` (class folders, as an inspection station would)."""
    from PIL import Image

    for i, (image, label) in enumerate(zip(cells.images, cells.labels)):
        (folder / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / label / f"cell_{i:05d}.png")
    return folder


def ingest_demo_cells(catalog, n: int = DEMO_CELLS, seed: int = 0, table: str = IMAGE_TABLE):
    """Generate `n` cells (4 classes), write them under the studio home and ingest them as `table`."""
    from engine.store.ingest.images import ingest_images
    from engine.sim.solar_cells import BENCH_CLASSES, make_cells

    folder = catalog.path.parent / "demo_images" / table
    shutil.rmtree(folder, ignore_errors=True)
    write_cells(make_cells(n, BENCH_CLASSES, seed=seed), folder)
    return ingest_images(catalog, folder, table)
