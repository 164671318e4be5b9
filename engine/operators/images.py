"""Image inspection: learn classes (OK, crack, …) from labelled images and judge new ones."""

from __future__ import annotations

import os
import time
from typing import Literal

import numpy as np
import pandas as pd

from engine.pipeline.context import StepContext
from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.ml import image_model as im
from engine.ml.image_explain import group_importance, region_boxes
from engine.ml.image_features import FEATURE_VERSION, SIDE, feature_names, image_features
from engine.ml.image_io import UnreadableImage, read_image, thumbnail_data_uri
from engine.pipeline.registry import OpParams, operator
from engine.schema.base import ui_field


class ImageInspectParams(OpParams):
    image: str = ui_field(en="Image column", zh="图片列", help_en="the column holding each image's stored file",
                          help_zh="存放每张图片文件的列")
    target: str = ui_field(en="Label column", zh="标签列")
    folds: int = ui_field(5, en="Cross-validation folds", zh="交叉验证折数", ge=2, le=10)
    time_budget_s: float = ui_field(150.0, en="Time budget for choosing the classifier (s)", zh="选择分类器的时间预算（秒）",
                                    gt=0, le=36000,
                                    help_en="candidates whose projected cost does not fit are left out (never a fold cut short)",
                                    help_zh="预计耗时超出预算的候选模型被跳过（不会截断交叉验证折）")
    classifier: Literal["auto", "svm_linear", "svm_rbf", "lightgbm"] = ui_field(
        "auto", en="Classifier", zh="分类器", help_en="auto: chosen among all by nested cross-validation",
        help_zh="auto：通过嵌套交叉验证在全部候选中选择")
    ok_label: str = ui_field("", en="Label meaning OK", zh="表示合格的标签",
                             help_en="empty: ok/good/pass/合格/良品 are recognised", help_zh="留空：自动识别 ok/good/pass/合格/良品")
    max_escape_rate: float = ui_field(0.02, en="Max escape rate", zh="最大漏检率", ge=0.0, le=0.5,
                                      help_en="share of defective images the OK-vs-defect cut may pass as OK",
                                      help_zh="判为合格的缺陷图片占全部缺陷图片的最大比例")
    gallery: int = ui_field(24, en="Misclassified images shown", zh="展示的误判图片数", ge=0, le=200)
    explain: bool = ui_field(True, en="Explain (feature families, image regions)", zh="解释（特征族、图像区域）")
    jobs: int = ui_field(0, en="Parallel feature workers (0: all cores)", zh="并行特征计算进程数（0：全部核）", ge=0, le=64)


def _example() -> tuple[dict, dict]:
    import tempfile
    from pathlib import Path

    from PIL import Image

    from engine.sim.solar_cells import CellConfig, make_cells

    cells = make_cells(18, ("ok", "dark_region"), seed=0, config=CellConfig(size=64, grains=8))
    folder = Path(tempfile.gettempdir()) / "studio_image_example_v2"
    folder.mkdir(exist_ok=True)
    paths = []
    for i, a in enumerate(cells.images):
        paths.append(str(folder / f"{i}.png"))
        if not Path(paths[-1]).exists():   # written once, atomically (other processes may read it meanwhile)
            partial = folder / f"{i}.{os.getpid()}.part.png"
            Image.fromarray(a).save(partial)
            os.replace(partial, paths[-1])
    frame = pd.DataFrame({"path": paths, "label": cells.labels})
    return ({"image": "path", "target": "label", "folds": 3, "classifier": "svm_linear", "gallery": 2,
             "explain": False, "jobs": 1}, {"frame": frame})


@operator("image.inspect", version=1, inputs=("frame",), outputs=("model", "metrics", "inspection"), example=_example)
def inspect_images(params: ImageInspectParams, ctx: StepContext, frame: pd.DataFrame) -> dict:
    """Image classifier (HOG/LBP/texture features; linear SVM, kernel SVM or LightGBM chosen by nested CV)."""
    candidates = im.CANDIDATES if params.classifier == "auto" else (params.classifier,)
    labelled = frame[frame[params.target].notna() & (frame[params.target].astype(str).str.strip() != "")]
    classes, y = _classes(labelled[params.target].astype(str).to_numpy(), params.folds)
    paths = labelled[params.image].astype(str).tolist()
    ctx.progress(0.0, Msg(f"features of {len(paths)} images", f"计算 {len(paths)} 张图片的特征"))
    started = time.perf_counter()
    x = _features(paths, params.jobs)
    feature_seconds = time.perf_counter() - started
    ctx.progress(0.35, Msg("choosing the classifier", "选择分类器"))
    threads = _jobs(params.jobs)
    sel = im.select_and_fit(x, y, folds=params.folds, seed=ctx.seed, budget_s=params.time_budget_s,
                            candidates=candidates, threads=threads,
                            progress=lambda f, m: ctx.progress(0.35 + 0.5 * f, m))
    metrics = {"task": "image_classification", "images": len(y), "unlabelled": int(len(frame) - len(labelled)),
               "folds": params.folds, "cv": "stratified, nested (classifier chosen inside each training part)",
               **im.class_metrics(y, sel.oof, classes, sel.folds),
               "classifier": sel.final_name, "chosen_per_fold": sel.chosen}
    ok = im.ok_class(classes, params.ok_label)
    if params.ok_label and ok is None:
        raise StudioError(Msg(f"ok_label '{params.ok_label}' is not a label; labels: {classes}",
                              f"ok_label '{params.ok_label}' 不是已有标签；标签：{classes}"))
    model = im.ImageClassifier(classes, sel.final, sel.final_name, SIDE, FEATURE_VERSION, ok)
    inspection = {"classes": classes, "counts": {c: int((y == i).sum()) for i, c in enumerate(classes)},
                  "confusion": metrics["confusion"], "per_class": metrics["per_class"],
                  "selection": {"chosen_per_fold": sel.chosen, "inner_scores": sel.inner_scores,
                                "fit_seconds": {k: round(v, 3) for k, v in sel.fit_seconds.items()},
                                "left_out_for_budget": sel.left_out, "budget_s": params.time_budget_s,
                                "final": sel.final_name},
                  "timings": {"features_seconds": round(feature_seconds, 2), "selection_seconds": round(sel.seconds, 2)}}
    if ok is not None and len(classes) > 1:
        decision = im.ok_vs_defect(sel.oof, y, classes.index(ok), sel.folds, params.max_escape_rate)
        model.threshold = decision["threshold"]
        inspection["ok_vs_defect"] = {"ok_label": ok, **decision}
        metrics.update({"escape_rate": decision["escape_rate"], "reinspection_rate": decision["reinspection_rate"],
                        "threshold": decision["threshold"]})
    ctx.progress(0.9, Msg("gallery and explanations", "误判图库与解释"))
    inspection["gallery"] = _gallery(labelled, params, sel.oof, y, classes)
    latency = _latency(model, paths[: min(10, len(paths))])
    inspection["timings"]["judge_one_image_seconds"] = latency     # (keys ending in "seconds" hold wall times)
    metrics["judge_image_seconds"] = round(latency["median_ms"] / 1000, 4)
    if params.explain:
        inspection["feature_families"] = _families(sel, x, y, classes, params, ctx.seed, threads)
        inspection["regions"] = _regions(model, paths, y, sel.oof, classes, ok)
    return {"model": model, "metrics": metrics, "inspection": inspection}


def _classes(labels: np.ndarray, folds: int) -> tuple[list[str], np.ndarray]:
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise StudioError(Msg(f"the labels hold {len(classes)} class(es) {classes}; at least 2 are needed",
                              f"标签只有 {len(classes)} 个类别 {classes}；至少需要 2 个"))
    counts = {c: int((labels == c).sum()) for c in classes}
    few = {c: n for c, n in counts.items() if n < max(folds, 3)}
    if few:
        raise StudioError(Msg(f"too few images of class(es) {few} for {folds}-fold cross-validation (need ≥ {max(folds, 3)} each)",
                              f"类别 {few} 的图片太少，无法做 {folds} 折交叉验证（每类至少 {max(folds, 3)} 张）"))
    index = {c: i for i, c in enumerate(classes)}
    return classes, np.array([index[v] for v in labels])


def _jobs(jobs: int) -> int:
    return jobs or max(1, min(os.cpu_count() or 1, 8))


def _one(path: str) -> np.ndarray:
    return image_features(read_image(path))


def _features(paths: list[str], jobs: int) -> np.ndarray:
    try:
        if _jobs(jobs) == 1 or len(paths) < 64:
            return np.vstack([_one(p) for p in paths])
        from joblib import Parallel, delayed

        return np.vstack(Parallel(n_jobs=_jobs(jobs), batch_size=32)(delayed(_one)(p) for p in paths))
    except (UnreadableImage, FileNotFoundError) as exc:
        raise StudioError(Msg(f"an image could not be read: {exc}; ingest the folder again",
                              f"有图片无法读取：{exc}；请重新导入该文件夹")) from None


def _gallery(labelled: pd.DataFrame, params, oof: np.ndarray, y: np.ndarray, classes: list[str]) -> list[dict]:
    """The misclassified images, most confidently wrong first, with every class's out-of-fold probability."""
    pred = oof.argmax(axis=1)
    wrong = np.nonzero(pred != y)[0]
    wrong = wrong[np.argsort(-oof[wrong, pred[wrong]])][: params.gallery]
    files = labelled["file"].astype(str).tolist() if "file" in labelled.columns else labelled[params.image].tolist()
    paths = labelled[params.image].astype(str).tolist()
    out = []
    for i in wrong:
        try:
            thumb = thumbnail_data_uri(read_image(paths[i]), 128)
        except (UnreadableImage, FileNotFoundError):
            thumb = None
        out.append({"file": files[i], "label": classes[y[i]], "predicted": classes[pred[i]],
                    "probabilities": {c: round(float(oof[i, j]), 4) for j, c in enumerate(classes)},
                    "thumbnail": thumb})
    return out


def _latency(model: im.ImageClassifier, paths: list[str]) -> dict:
    """Judging one image end to end (read, features, classifier), one at a time, as on a line."""
    times = []
    for path in paths:
        t0 = time.perf_counter()
        model.decide(model.proba([read_image(path)]))
        times.append(1000 * (time.perf_counter() - t0))
    return {"median_ms": round(float(np.median(times)), 2), "p95_ms": round(float(np.percentile(times, 95)), 2),
            "images": len(times), "includes": "read + features + classifier, one image at a time"}


def _families(sel, x, y, classes, params, seed: int, threads: int) -> list[dict]:
    """Permutation importance of feature families on the last outer fold, with the model its training chose."""
    last = sel.folds == sel.folds.max()
    model = im.make_candidate(sel.chosen[-1], seed, threads).fit(x[~last], y[~last])
    return group_importance(model, x[last], y[last], feature_names(), len(classes), seed)


def _regions(model, paths, y, oof, classes, ok: str | None, per_class: int = 2) -> list[dict]:
    """The darkest candidate regions of a few correctly classified images of each non-OK class."""
    out = []
    pred = oof.argmax(axis=1)
    for c, name in enumerate(classes):
        if name == ok:
            continue
        picks = np.nonzero((y == c) & (pred == c))[0][:per_class]
        for i in picks:
            image = read_image(paths[i])
            out.append({"label": name, "thumbnail": thumbnail_data_uri(image, 160), **region_boxes(model, image)})
    return out
