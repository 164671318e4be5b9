"""Hand-made image features that run on a CPU with nothing downloaded (scikit-image + SciPy).

Every image is turned into grey levels in [0, 1] (colour → luminance, 16-bit → scaled, the gain taken out by the
median), resized to a fixed square and described by:
- `hog_*`   histograms of oriented gradients on a coarse 4 × 4 grid (where edges run which way);
- `lbp*_*`  uniform local-binary-pattern histograms at two radii (micro texture; computed on uint8, as
  scikit-image advises: on floats, flat regions give noisy codes);
- `int_*`   intensity statistics and a histogram of the whole image;
- `res{σ}_*` statistics of the image minus a blurred copy at three scales (σ = 1, 3, 8 px), after the printed
  grid (busbars, fingers: whatever repeats along whole rows/columns) is taken out: thin dark lines, spots and
  dark areas stand out at their own scale; `blk{σ}_*` the residual's block means over a 4 × 4 grid, SORTED so
  that the feature says "how dark is the darkest region" wherever that region is;
- `spot{σ}k{k}_*` the darkest connected regions of a residual below -k·MAD: area, depth, elongation, how
  horizontal, how much of its box it fills (a crack is long and thin, a dark region large and round, an
  interrupted finger a short horizontal bar);
- `grad_*`  gradient-magnitude statistics at two scales;
- `glcm_*`  grey-level co-occurrence texture (contrast, homogeneity, energy, correlation).
The names are stable: the model and the explanations refer to them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.feature import graycomatrix, graycoprops, hog, local_binary_pattern
from skimage.transform import resize

SIDE = 128                 # pixels per side the features are computed on
RES_SIGMAS = (1.0, 3.0, 8.0)
GRID = 4
_PCTS = (0.1, 1, 5, 25, 50, 75, 95, 99, 99.9)
FEATURE_VERSION = 2        # bump when a feature's meaning changes (models remember the version they used)


def to_grey(image: np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1] as float32, whatever the dtype (uint8/uint16/float) and channels (grey/RGB/RGBA)."""
    a = np.asarray(image)
    if a.ndim == 3:
        if a.shape[2] == 4:
            a = a[..., :3]
        a = a[..., 0] if a.shape[2] == 1 else a[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    if np.issubdtype(np.asarray(image).dtype, np.integer):
        top = float(np.iinfo(np.asarray(image).dtype).max)
        a = a / top
    return np.clip(np.asarray(a, dtype=np.float32), 0.0, 1.0)


def prepare(image: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Grey, square `side` × `side`, gain-normalised (median of the bright half → 0.5)."""
    grey = to_grey(image)
    if grey.shape != (side, side):
        grey = resize(grey, (side, side), anti_aliasing=True, preserve_range=True).astype(np.float32)
    bright = grey[grey > np.percentile(grey, 50)]
    level = float(np.median(bright)) if bright.size else 0.0
    return np.clip(grey * (0.5 / level), 0.0, 1.0) if level > 1e-6 else grey


def feature_names(side: int = SIDE) -> list[str]:
    return list(_describe(np.full((side, side), 0.5, dtype=np.float32)).keys())


def image_features(image: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The feature vector of one image (float32, in the order of `feature_names`)."""
    return np.fromiter(_describe(prepare(image, side)).values(), dtype=np.float32)


def _describe(g: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    h = hog(g, orientations=9, pixels_per_cell=(32, 32), cells_per_block=(1, 1), feature_vector=True)
    out.update({f"hog_{i}": v for i, v in enumerate(h)})
    g8 = np.round(g * 255).astype(np.uint8)
    for p, r in ((8, 1), (16, 2)):
        codes = local_binary_pattern(g8, p, r, method="uniform")
        hist = np.bincount(codes.astype(np.int64).ravel(), minlength=p + 2)[: p + 2] / codes.size
        out.update({f"lbp{p}r{r}_{i}": v for i, v in enumerate(hist)})
    out.update(_stats("int", g))
    hist = np.histogram(g, bins=16, range=(0.0, 1.0))[0] / g.size
    out.update({f"int_hist_{i}": v for i, v in enumerate(hist)})
    flat = _flatten_grid(g)
    residuals = {sigma: flat - _blur(flat, sigma * 2.5) for sigma in RES_SIGMAS}
    for sigma, threshold in ((1.0, 4.0), (3.0, 4.0), (3.0, 8.0), (8.0, 4.0)):
        out.update(_dark_spots(f"spot{sigma:g}k{threshold:g}", residuals[sigma], threshold))
    for sigma, residual in residuals.items():
        tag = f"res{sigma:g}"
        out.update(_stats(tag, residual))
        blocks = _block_means(np.minimum(residual, 0.0), GRID)
        out.update({f"blk{sigma:g}_{i}": v for i, v in enumerate(np.sort(blocks))})
    for sigma in (1.0, 3.0):
        magnitude = ndimage.gaussian_gradient_magnitude(g, sigma)
        out.update(_stats(f"grad{sigma:g}", magnitude, short=True))
    q = np.minimum((g * 32).astype(np.uint8), 31)
    glcm = graycomatrix(q, distances=[1, 4], angles=[0, np.pi / 2], levels=32, symmetric=True, normed=True)
    for prop in ("contrast", "homogeneity", "energy", "correlation"):
        values = graycoprops(glcm, prop).ravel()
        out.update({f"glcm_{prop}_{i}": v for i, v in enumerate(values)})
    return {k: float(v) for k, v in out.items()}


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones computed on a block-averaged copy and zoomed back (same look, a fraction of the
    cost)."""
    factor = 1 if sigma < 6 else (2 if sigma < 12 else 4)
    if factor == 1 or a.shape[0] % factor or a.shape[1] % factor:
        return ndimage.gaussian_filter(a, sigma)
    h, w = a.shape
    small = a.reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))
    return ndimage.zoom(ndimage.gaussian_filter(small, sigma / factor), factor, order=1, grid_mode=True,
                        mode="nearest")[:h, :w]


def _flatten_grid(g: np.ndarray) -> np.ndarray:
    """The image without what repeats along whole rows and columns (busbars, fingers, vignette): each row's and
    column's median profile is taken out, so a local defect stands out from the printed grid. Printed structure
    (columns much darker than the rest, e.g. busbars) and black borders/corners are set to 0 (neutral)."""
    columns = np.median(g, axis=0)
    structure = np.zeros(g.shape, dtype=bool)
    structure[:, columns < 0.5 * np.median(columns)] = True
    structure |= g < 0.06
    structure = ndimage.binary_dilation(structure, iterations=2)
    flat = g - np.median(g, axis=1, keepdims=True)
    flat = flat - np.median(flat, axis=0, keepdims=True)
    flat[structure] = 0.0
    return flat


_SPOT_KEYS = ("count", "area_total", "area", "depth", "depth_max", "elongation", "horizontal", "extent",
              "area2", "depth2", "elongation2")


def dark_region_boxes(image: np.ndarray, side: int = SIDE) -> list[dict]:
    """Where the `spot*` features look: the darkest connected region at each residual scale, as a box in
    fractions of the image (top, left, bottom, right) with its depth and area (pixels at `side`)."""
    flat = _flatten_grid(prepare(image, side))
    boxes = []
    for sigma, k in ((1.0, 4.0), (3.0, 4.0), (8.0, 4.0)):
        box = {}
        _dark_spots("", flat - _blur(flat, sigma * 2.5), k, box)
        if box:
            boxes.append({"scale": sigma, **box})
    return boxes


def _dark_spots(tag: str, residual: np.ndarray, k: float, where: dict | None = None) -> dict[str, float]:
    """Shape of the darkest connected regions where the residual is below -k·MAD: a defect candidate's area,
    depth, elongation (major/minor axis), how horizontal it runs and how much of its box it fills."""
    mad = float(np.median(np.abs(residual - np.median(residual)))) + 1e-4
    labels, n = ndimage.label(residual < -k * 1.4826 * mad)
    values = dict.fromkeys(_SPOT_KEYS, 0.0)
    if n:
        index = np.arange(1, n + 1)
        areas = ndimage.sum_labels(np.ones_like(residual), labels, index)
        depths = -ndimage.mean(residual, labels, index)
        order = np.argsort(-(areas * depths))
        values["count"] = float(np.sum(areas >= 3))
        values["area_total"] = float(areas.sum()) / residual.size
        for rank, suffix in ((0, ""), (1, "2")):
            if rank >= n:
                break
            j = int(order[rank])
            ys, xs = np.nonzero(labels == j + 1)
            values[f"area{suffix}"] = float(areas[j])
            values[f"depth{suffix}"] = float(depths[j])
            values[f"elongation{suffix}"] = _elongation(ys, xs)
            if rank == 0:
                values["depth_max"] = float(-residual[ys, xs].min())
                height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
                values["horizontal"] = float(width / (width + height))
                values["extent"] = float(len(ys) / (height * width))
                if where is not None:
                    h, w = residual.shape
                    where.update({"box": [ys.min() / h, xs.min() / w, (ys.max() + 1) / h, (xs.max() + 1) / w],
                                  "depth": float(depths[j]), "area": float(areas[j])})
    return {f"{tag}_{key}": v for key, v in values.items()}


def _elongation(ys: np.ndarray, xs: np.ndarray) -> float:
    if len(ys) < 3:
        return 1.0
    eig = np.linalg.eigvalsh(np.cov(np.vstack([ys, xs]).astype(float)) + 1e-3 * np.eye(2))
    return float(np.sqrt(eig[1] / eig[0]))


def _stats(tag: str, a: np.ndarray, short: bool = False) -> dict[str, float]:
    """Mean, sd, percentiles (nearest rank: one partition for all of them) and, unless short, skewness and
    kurtosis."""
    flat = a.ravel()
    pcts = (1, 50, 99, 99.9) if short else _PCTS
    ranks = np.clip(np.round(np.asarray(pcts) / 100 * (flat.size - 1)).astype(np.int64), 0, flat.size - 1)
    values = np.partition(flat, ranks)[ranks]
    mean = float(flat.mean(dtype=np.float64))
    centred = flat - np.float32(mean)
    square = centred * centred
    var = float(square.mean(dtype=np.float64))
    out = {f"{tag}_mean": mean, f"{tag}_std": var ** 0.5}
    out.update({f"{tag}_p{p:g}": v for p, v in zip(pcts, values)})
    if not short:
        sd = var ** 0.5 + 1e-9
        out[f"{tag}_skew"] = float((square * centred).mean(dtype=np.float64) / sd ** 3)
        out[f"{tag}_kurt"] = float((square * square).mean(dtype=np.float64) / sd ** 4)
    return out


def _block_means(a: np.ndarray, grid: int) -> np.ndarray:
    n = a.shape[0] // grid
    trimmed = a[: n * grid, : n * grid]
    return trimmed.reshape(grid, n, grid, n).mean(axis=(1, 3)).ravel()


def feature_matrix(images, side: int = SIDE, progress=None) -> np.ndarray:
    """Features of many images (an iterable of arrays, or of callables returning one) as an n × k matrix."""
    rows = []
    items = list(images)
    for i, item in enumerate(items):
        rows.append(image_features(item() if callable(item) else item, side))
        if progress is not None and i % 50 == 0:
            progress(i / max(len(items), 1))
    return np.vstack(rows) if rows else np.zeros((0, len(feature_names(side))), dtype=np.float32)


def baseline_pixels(image: np.ndarray, side: int = 24) -> np.ndarray:
    """The plain baseline's features: the grey image downsampled to `side` × `side`, flattened."""
    return prepare(image, side).ravel()
