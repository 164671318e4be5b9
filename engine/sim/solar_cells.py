"""Solar-cell electroluminescence (EL) images with a known truth, for the image-inspection template.

An EL image shows a cell glowing where it works and dark where it does not. Each generated cell has:
- crystal texture: multicrystalline grains (a Voronoi tiling, each grain a little brighter or darker, darker grain
  boundaries), a soft vignette and sensor noise; the gain varies from cell to cell;
- busbars (dark vertical bands) and fingers (faint dark horizontal lines at a fixed pitch);
- at most one defect kind, drawn at a contrast picked from a range (faint defects are hard on purpose):
  `crack` — a dark jagged line (sometimes branched); `dark_region` — an inactive area with a soft edge;
  `finger_interruption` — dark bars along the fingers next to a busbar, where the current cannot flow;
  `spot` — a few small round dark spots (contamination).
- harmless nuisances on every cell: a few very faint specks and grain-boundary lines, so "any dark thing" is not
  a defect.

`make_cells` RETURNS the images (uint8 or uint16 arrays) with their truth; writing them to a folder is the job of a
service (engine.service.demo / bench), never of this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage

from engine.core.i18n import Msg

KINDS = ("ok", "crack", "dark_region", "finger_interruption", "spot")
BENCH_CLASSES = ("ok", "crack", "dark_region", "finger_interruption")


@dataclass(frozen=True)
class CellConfig:
    size: int = 300                      # pixels per side (square cells)
    busbars: int = 3
    finger_pitch: int = 8                # pixels between fingers
    grains: int = 40                     # multicrystalline grains
    contrast: tuple[float, float] = (0.25, 0.6)    # defect darkening, share of the local brightness
    noise: tuple[float, float] = (0.015, 0.035)    # sensor noise sd range (of full scale)
    bit_depth: int = 8                   # 8 → uint8, 16 → uint16


@dataclass
class CellSet:
    images: list[np.ndarray]
    labels: list[str]
    truth: pd.DataFrame = field(default_factory=pd.DataFrame)   # label, contrast, defect_pixels, bbox


def make_cells(n: int, classes: tuple[str, ...] = BENCH_CLASSES, *, seed: int = 0,
               config: CellConfig | None = None) -> CellSet:
    """`n` cells, classes in equal shares (shuffled), each with its truth row."""
    unknown = [c for c in classes if c not in KINDS]
    if unknown:
        raise ValueError(Msg(f"unknown defect kind(s) {unknown}; known: {list(KINDS)}",
                             f"未知的缺陷类型 {unknown}；可选：{list(KINDS)}"))
    config = config or CellConfig()
    rng = np.random.default_rng(seed)
    labels = [classes[i % len(classes)] for i in range(n)]
    rng.shuffle(labels)
    images, rows = [], []
    for label in labels:
        image, truth = make_cell(rng, label, config)
        images.append(image)
        rows.append(truth)
    return CellSet(images, list(labels), pd.DataFrame(rows))


def make_cell(rng: np.random.Generator, label: str, config: CellConfig | None = None) -> tuple[np.ndarray, dict]:
    """One cell image of kind `label` and its truth (contrast, defect pixel count, bounding box)."""
    config = config or CellConfig()
    s = config.size
    base = _crystal(rng, s, config.grains)
    base *= _vignette(s)
    base *= _metallisation(rng, s, config)
    contrast = float(rng.uniform(*config.contrast)) if label != "ok" else 0.0
    mask = _DEFECTS[label](rng, s, config) if label != "ok" else np.zeros((s, s), dtype=float)
    image = base * (1.0 - contrast * mask)
    image *= _nuisance(rng, s)
    image *= rng.uniform(0.8, 1.15)                       # camera gain / cell efficiency
    image += rng.normal(0.0, rng.uniform(*config.noise), size=image.shape)
    image = np.clip(image, 0.0, 1.0)
    top = 65535 if config.bit_depth == 16 else 255
    out = np.round(image * top).astype(np.uint16 if config.bit_depth == 16 else np.uint8)
    rows, cols = np.nonzero(mask > 0.25)
    bbox = [int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())] if len(rows) else None
    return out, {"label": label, "contrast": round(contrast, 4), "defect_pixels": int(len(rows)), "bbox": bbox}


# -- the healthy cell ---------------------------------------------------------------------------------------
def _crystal(rng, s: int, grains: int) -> np.ndarray:
    """Grains of slightly different brightness with darker boundaries (computed at 1/4 size, then zoomed)."""
    small = max(s // 4, 8)
    seeds = rng.uniform(0, small, size=(grains, 2))
    yy, xx = np.mgrid[0:small, 0:small]
    d = (yy[..., None] - seeds[:, 0]) ** 2 + (xx[..., None] - seeds[:, 1]) ** 2
    nearest = np.argsort(d, axis=-1)[..., :2]
    first = np.take_along_axis(d, nearest[..., :1], -1)[..., 0]
    second = np.take_along_axis(d, nearest[..., 1:], -1)[..., 0]
    level = 0.72 + rng.normal(0.0, 0.04, size=grains)[nearest[..., 0]]
    boundary = np.exp(-(np.sqrt(second) - np.sqrt(first)) ** 2 / 0.08)
    small_img = level * (1.0 - 0.12 * boundary)
    return ndimage.zoom(small_img, s / small, order=1)[:s, :s]


def _vignette(s: int) -> np.ndarray:
    r = np.linspace(-1, 1, s)
    rr = r[:, None] ** 2 + r[None, :] ** 2
    v = 1.0 - 0.12 * rr
    corner = 0.12 * s                                       # pseudo-square cells: chamfered corners are dark
    yy, xx = np.mgrid[0:s, 0:s]
    cut = np.minimum.reduce([yy + xx, yy + (s - 1 - xx), (s - 1 - yy) + xx, (s - 1 - yy) + (s - 1 - xx)]) < corner
    v[cut] = 0.05
    return v


def _busbar_columns(s: int, config: CellConfig) -> list[int]:
    return [int(round((i + 0.5) * s / config.busbars)) for i in range(config.busbars)]


def _metallisation(rng, s: int, config: CellConfig) -> np.ndarray:
    m = np.ones((s, s))
    half = max(1, s // 100)
    for x in _busbar_columns(s, config):
        m[:, max(0, x - half): x + half + 1] = 0.25
    m[:: config.finger_pitch, :] *= 0.9
    return m


def _nuisance(rng, s: int) -> np.ndarray:
    """A few very faint specks anywhere: harmless, and present on every class."""
    n = np.zeros((s, s))
    for _ in range(int(rng.integers(0, 4))):
        y, x = rng.integers(0, s, size=2)
        n[y, x] = 1.0
    n = ndimage.gaussian_filter(n, 1.5) * 20.0
    return 1.0 - 0.04 * np.clip(n, 0, 1)


# -- defects: each returns a soft mask in [0, 1] -------------------------------------------------------------
def _crack(rng, s: int, config: CellConfig) -> np.ndarray:
    mask = np.zeros((s, s))
    branches = 1 + int(rng.random() < 0.4)
    start = rng.uniform(0.2 * s, 0.8 * s, size=2)
    for _ in range(branches):
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(0.25, 0.6) * s
        _walk(mask, start, angle, length, rng)
    width = rng.uniform(0.6, 1.2)
    return np.clip(ndimage.gaussian_filter(mask, width) * 2.5 * width, 0, 1)


def _walk(mask: np.ndarray, start: np.ndarray, angle: float, length: float, rng) -> None:
    s = mask.shape[0]
    point = start.copy()
    for _ in range(int(length)):
        angle += rng.normal(0.0, 0.12)
        point += (np.sin(angle), np.cos(angle))
        y, x = int(point[0]), int(point[1])
        if not (0 <= y < s and 0 <= x < s):
            break
        mask[y, x] = 1.0


def _dark_region(rng, s: int, config: CellConfig) -> np.ndarray:
    yy, xx = np.mgrid[0:s, 0:s]
    cy, cx = rng.uniform(0.15 * s, 0.85 * s, size=2)
    ry, rx = rng.uniform(0.06, 0.16, size=2) * s
    theta = rng.uniform(0, np.pi)
    dy, dx = yy - cy, xx - cx
    u = (dy * np.cos(theta) + dx * np.sin(theta)) / ry
    v = (-dy * np.sin(theta) + dx * np.cos(theta)) / rx
    return np.clip(1.0 - (u ** 2 + v ** 2) ** 2, 0, 1) ** 0.5


def _finger_interruption(rng, s: int, config: CellConfig) -> np.ndarray:
    mask = np.zeros((s, s))
    buses = _busbar_columns(s, config)
    for _ in range(int(rng.integers(1, 4))):
        x0 = buses[int(rng.integers(0, len(buses)))]
        length = int(rng.uniform(0.08, 0.16) * s)
        side = 1 if rng.random() < 0.5 else -1
        y = int(rng.integers(int(0.15 * s), int(0.85 * s)))
        y = y - y % config.finger_pitch
        rows = slice(max(0, y - config.finger_pitch // 2), y + config.finger_pitch // 2 + 1)
        lo, hi = sorted((x0, x0 + side * length))
        mask[rows, max(0, lo): min(s, hi)] = 1.0
    return ndimage.gaussian_filter(mask, 1.0)


def _spot(rng, s: int, config: CellConfig) -> np.ndarray:
    mask = np.zeros((s, s))
    yy, xx = np.mgrid[0:s, 0:s]
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = rng.uniform(0.1 * s, 0.9 * s, size=2)
        r = rng.uniform(0.012, 0.03) * s
        mask = np.maximum(mask, np.clip(1.5 - np.hypot(yy - cy, xx - cx) / r, 0, 1))
    return mask


_DEFECTS = {"crack": _crack, "dark_region": _dark_region, "finger_interruption": _finger_interruption,
            "spot": _spot}
