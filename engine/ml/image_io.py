"""Reading image files into arrays: PNG, JPEG, BMP, TIFF; grey or colour; 8 or 16 bit.

TIFFs go through tifffile (installed with scikit-image: it keeps 16-bit colour, which Pillow turns into 8 bit), the
rest (and TIFFs tifffile cannot read) through Pillow. Every decode is complete (`load()`), so a truncated file fails
here, not later.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class UnreadableImage(ValueError):
    """The file is not an image this studio reads (the message says why)."""


@dataclass(frozen=True)
class ImageMeta:
    width: int
    height: int
    channels: int
    bit_depth: int
    format: str


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXT


def read_image(path: str | Path) -> np.ndarray:
    """The image as an array: (h, w) grey or (h, w, c) colour; uint8 or uint16 (16-bit kept). TIFFs are read with
    tifffile first (Pillow turns 16-bit colour TIFFs into 8 bit), then Pillow (e.g. JPEG-compressed TIFFs)."""
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        try:
            import tifffile

            logging.getLogger("tifffile").setLevel(logging.ERROR)   # a broken file is reported below, once
            array = np.asarray(tifffile.imread(path))
            if array.size:
                return _checked(array)
        except UnreadableImage:
            raise
        except Exception:  # noqa: BLE001 — not every TIFF is tifffile's: Pillow may still read it
            pass
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.load()
            return _array_of(img)
    except UnreadableImage:
        raise
    except Exception as exc:  # noqa: BLE001 — Pillow raises many kinds: the message says why
        raise UnreadableImage(_reason(exc)) from None


def _array_of(img) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return _checked(np.asarray(img, dtype=np.uint16))
    if mode == "I":
        a = np.asarray(img)
        return _checked(a.astype(np.uint16) if a.max(initial=0) <= 65535 and a.min(initial=0) >= 0 else a)
    if mode in ("1", "L", "P", "LA", "PA", "CMYK", "YCbCr", "HSV", "RGBA"):
        img = img.convert("L" if mode in ("1", "L", "LA") else ("RGBA" if mode in ("RGBA", "PA") else "RGB"))
    return _checked(np.asarray(img))


def _checked(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or min(a.shape[:2]) < 8:
        raise UnreadableImage(f"unexpected image shape {a.shape} (need at least 8 × 8 pixels, grey or colour)")
    if a.dtype not in (np.uint8, np.uint16):
        if np.issubdtype(a.dtype, np.floating):
            top = float(np.nanmax(a)) if a.size else 1.0
            a = np.round(np.clip(np.nan_to_num(a) / (top if top > 1.0 else 1.0), 0, 1) * 65535).astype(np.uint16)
        else:
            a = np.clip(a, 0, 65535).astype(np.uint16)
    return a


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def meta_of(a: np.ndarray, path: str | Path) -> ImageMeta:
    ext = Path(path).suffix.lower().lstrip(".")
    return ImageMeta(width=int(a.shape[1]), height=int(a.shape[0]), channels=1 if a.ndim == 2 else int(a.shape[2]),
                     bit_depth=16 if a.dtype == np.uint16 else 8, format={"jpg": "jpeg", "tif": "tiff"}.get(ext, ext))


def thumbnail_png(a: np.ndarray, side: int = 96) -> bytes:
    """A small 8-bit PNG of an image (for grids and galleries); 16-bit images are stretched to their range."""
    from PIL import Image

    if a.dtype == np.uint16:
        lo, hi = np.percentile(a, (0.5, 99.5))
        a = np.clip((a.astype(np.float32) - lo) / max(hi - lo, 1.0) * 255, 0, 255).astype(np.uint8)
    img = Image.fromarray(a[..., :3] if a.ndim == 3 else a)
    img.thumbnail((side, side))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def thumbnail_data_uri(a: np.ndarray, side: int = 96) -> str:
    return "data:image/png;base64," + base64.b64encode(thumbnail_png(a, side)).decode("ascii")
