"""What drives an image classifier's decisions, shown only as far as it can be shown honestly.

- `group_importance`: permutation importance of each feature family (HOG, LBP, residual spots …) measured on a
  held-out fold with the model that fold's training chose — the drop in balanced accuracy when that family's
  values are shuffled between images.
- `region_boxes`: for one image, the darkest candidate region at each scale — exactly the regions the `spot*`
  features measure (area, depth, elongation). Shown beside the family importance: when the dark-spot family
  carries the decisions, these boxes are where the evidence was read. (Occlusion maps were tried: a smoothed
  image is unlike any training image, so the probabilities they give mean little; they are not shown.)
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from engine.ml.image_features import dark_region_boxes

GROUP_LABELS = {
    "hog": ("edge directions (HOG)", "边缘方向（HOG）"),
    "lbp8r1": ("fine texture (LBP r=1)", "细纹理（LBP r=1）"),
    "lbp16r2": ("texture (LBP r=2)", "纹理（LBP r=2）"),
    "int": ("brightness statistics", "亮度统计"),
    "res": ("local darkening (band-pass residuals)", "局部变暗（带通残差）"),
    "blk": ("darkest regions (block means)", "最暗区域（分块均值）"),
    "spot": ("dark-spot shapes (area, depth, elongation)", "暗斑形状（面积、深度、长宽比）"),
    "grad": ("edge strength", "边缘强度"),
    "glcm": ("co-occurrence texture (GLCM)", "共生纹理（GLCM）"),
}


def family_of(name: str) -> str:
    head = name.split("_")[0]
    for family in ("lbp8r1", "lbp16r2"):
        if head == family:
            return family
    return next((f for f in ("spot", "res", "blk", "grad", "glcm", "hog", "int") if head.startswith(f)), head)


def group_importance(model, x: np.ndarray, y: np.ndarray, names: list[str], classes_count: int,
                     seed: int = 0) -> list[dict]:
    """Feature families ranked by the fall in balanced accuracy when shuffled (held-out rows only)."""
    rng = np.random.default_rng(seed)
    base = balanced_accuracy_score(y, _predict(model, x, classes_count))
    families = sorted({family_of(n) for n in names})
    out = []
    for family in families:
        cols = [j for j, n in enumerate(names) if family_of(n) == family]
        shuffled = x.copy()
        shuffled[:, cols] = shuffled[rng.permutation(len(x))][:, cols]
        drop = base - balanced_accuracy_score(y, _predict(model, shuffled, classes_count))
        en, zh = GROUP_LABELS.get(family, (family, family))
        out.append({"name": family, "label": {"en": en, "zh": zh}, "features": len(cols),
                    "importance": round(float(drop), 4)})
    return sorted(out, key=lambda d: -d["importance"])


def _predict(model, x, k):
    return np.asarray(model.predict(x), dtype=int)


def region_boxes(classifier, image: np.ndarray) -> dict:
    """The predicted class of one image and the darkest candidate regions its dark-spot features describe."""
    proba = classifier.proba([image])[0]
    return {"class": classifier.classes[int(proba.argmax())], "probability": round(float(proba.max()), 4),
            "boxes": [{**b, "box": [round(float(v), 4) for v in b["box"]]} for b in dark_region_boxes(image, classifier.side)]}
