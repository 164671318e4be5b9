"""A folder (or zip) of images into the data factory: one row per image, the files stored content-addressed.

Two layouts are recognised:
- one sub-folder per class: `ok/a.png`, `crack/b.png` … (images directly in the top folder are unlabelled);
- images plus one labels file at the top, `file,label` (CSV; `file` relative to the folder; an empty label is an
  unlabelled image, to be scored).
Every image is decoded completely before anything is stored: a corrupt file, an unreadable labels file or a label
naming a missing file stops the ingest with every problem named (exit 2) and the data factory unchanged. Images are
copied to `<studio>.images/<sha[:2]>/<sha>.<ext>` (the same image twice is stored once); the table holds
file, label, width, height, channels, bit_depth, format, sha256 and `path` (the stored copy).
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import pandas as pd

from engine.store.catalog import Catalog, TableInfo, create_from_frame, quote
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.ml.image_io import IMAGE_EXT, UnreadableImage, is_image_name, meta_of, read_image

COLUMNS = ["file", "label", "width", "height", "channels", "bit_depth", "format", "sha256", "path"]
_FORMATS = Msg("PNG, JPEG, BMP or TIFF", "PNG、JPEG、BMP 或 TIFF")


def is_image_source(path: str | Path) -> bool:
    """A folder, or a .zip file: what `ingest_images` takes."""
    path = Path(path)
    return path.is_dir() or path.suffix.lower() == ".zip"


def images_dir(catalog: Catalog) -> Path:
    return catalog.path.parent / f"{catalog.path.stem}.images"


def ingest_images(catalog: Catalog, source: str | Path, table: str, *, replace: bool = False,
                  on_progress=None) -> TableInfo:
    """Ingest a folder or zip of images as `table` (all or nothing)."""
    source = Path(source)
    progress = on_progress or (lambda fraction, message: None)
    if not source.exists():
        raise InvalidInput(Issue(Msg(f"not found: {source}", f"找不到：{source}"),
                                 hint=Msg("check the path and the working folder", "请检查路径和工作目录")))
    catalog.check_new_name(table, replace=replace)
    with tempfile.TemporaryDirectory() as tmp:
        root = _unzip(source, Path(tmp)) if source.is_file() else source
        entries, warnings = scan(root)
        rows = _decode_all(root, entries, progress)
        created = _store(catalog, rows, progress)
        try:
            info = _write_table(catalog, table, replace, rows, source, warnings)
        except BaseException:
            for path in created:   # nothing ingested: the copies made for this ingest go too
                path.unlink(missing_ok=True)
            raise
    progress(1.0, Msg("done", "完成"))
    return info


# -- layout ------------------------------------------------------------------------------------------------
def scan(root: Path) -> tuple[list[tuple[str, str | None]], list[Msg]]:
    """(relative file, label or None) for every image under `root`, from class folders or a labels file."""
    label_files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt", ".tsv"))
    if len(label_files) > 1:
        named = [p for p in label_files if p.name.lower() == "labels.csv"]
        if not named:
            raise InvalidInput(Issue(Msg(f"several label files at the top of the folder: "
                                         f"{', '.join(p.name for p in label_files)}",
                                         f"文件夹顶层有多个标签文件：{', '.join(p.name for p in label_files)}"),
                                     str(root), hint=Msg("keep one, named labels.csv", "只保留一个，命名为 labels.csv")))
        label_files = named
    images = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                    if p.is_file() and is_image_name(p.name) and not _hidden(p.relative_to(root)))
    if not images:  # a folder of tables (or nothing): not an image set, say what each kind of ingest takes
        raise InvalidInput(Issue(Msg(f"{root.name} is a folder with no images ({_FORMATS}) in it",
                                     f"{root.name} 是一个文件夹，其中没有图片（{_FORMATS.zh}）"),
                                 str(root), hint=Msg("to load a table, give its file (CSV, Excel, Parquet), not the folder; "
                                                     "for images, put one sub-folder per class (ok/, crack/ …) or the "
                                                     "images and a labels.csv (file,label)",
                                                     "导入数据表请给出文件本身（CSV、Excel、Parquet），而不是文件夹；导入图片请每个类别"
                                                     "一个子文件夹（ok/、crack/ …），或放入图片和 labels.csv（file,label）")))
    if label_files:
        return _from_labels_file(root, label_files[0], images)
    return [(f, f.split("/")[0] if "/" in f else None) for f in images], []


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.parts)


def _from_labels_file(root: Path, labels: Path, images: list[str]) -> tuple[list, list[Msg]]:
    try:
        text = labels.read_bytes().decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text), delimiter="\t" if labels.suffix.lower() == ".tsv" else ",")
        header = [h.strip().lower() for h in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(Issue(Msg(f"the labels file cannot be read: {exc}", f"标签文件无法读取：{exc}"), str(labels),
                                 hint=Msg("save it as UTF-8 CSV with the columns file,label",
                                          "请另存为 UTF-8 CSV，列为 file,label"))) from None
    if "file" not in header or "label" not in header:
        raise InvalidInput(Issue(Msg(f"the labels file needs the columns file and label (found: {', '.join(header) or 'none'})",
                                     f"标签文件需要 file 和 label 两列（现有：{', '.join(header) or '无'}）"), str(labels), line=1,
                                 hint=Msg("first line: file,label", "第一行写：file,label")))
    at_file, at_label = header.index("file"), header.index("label")
    entries, problems, seen = [], [], {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= at_file or not row[at_file].strip():
            problems.append(Issue(Msg("no file name on this line", "该行没有文件名"), labels.name, line=line))
            continue
        name = PurePosixPath(row[at_file].strip().replace("\\", "/")).as_posix()
        label = row[at_label].strip() if len(row) > at_label else ""
        if name in seen:
            problems.append(Issue(Msg(f"'{name}' is listed twice (first on line {seen[name]})",
                                      f"'{name}' 列出了两次（第一次在第 {seen[name]} 行）"), labels.name, line=line))
            continue
        seen[name] = line
        if ".." in PurePosixPath(name).parts or name.startswith("/") or not (root / name).is_file():
            problems.append(Issue(Msg(f"the label names a file that is not in the folder: '{name}'",
                                      f"标签指向的文件不在文件夹中：'{name}'"), labels.name, line=line))
            continue
        if not is_image_name(name):
            problems.append(Issue(Msg(f"'{name}' is not an image file ({_FORMATS})", f"'{name}' 不是图片文件（{_FORMATS.zh}）"),
                                  labels.name, line=line))
            continue
        entries.append((name, label or None))
    if problems:
        raise InvalidInput(problems)
    if not entries:
        raise InvalidInput(Issue(Msg("the labels file lists no images", "标签文件没有列出任何图片"), str(labels)))
    unlisted = sorted(set(images) - set(seen))
    warnings = [Msg(f"{len(unlisted)} image(s) not in {labels.name} were left out (e.g. {unlisted[0]})",
                    f"{len(unlisted)} 张不在 {labels.name} 中的图片未导入（如 {unlisted[0]}）")] if unlisted else []
    return entries, warnings


def _unzip(source: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(source) as archive:
            for member in archive.infolist():
                target = (into / member.filename).resolve()
                if not str(target).startswith(str(into.resolve())):
                    raise InvalidInput(Issue(Msg(f"the zip holds a path outside its folder: {member.filename}",
                                                 f"压缩包含有指向外部的路径：{member.filename}"), str(source)))
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise InvalidInput(Issue(Msg(f"not a readable zip file: {exc}", f"不是可读的 zip 文件：{exc}"), str(source))) from None
    tops = [p for p in into.iterdir() if not _hidden(p.relative_to(into))]
    if len(tops) == 1 and tops[0].is_dir():   # a zip of the folder itself
        return tops[0]
    return into


# -- decode, store, table ----------------------------------------------------------------------------------
def _decode_all(root: Path, entries: list[tuple[str, str | None]], progress) -> list[dict]:
    """Decode every image completely (a corrupt one is named); the rows of the table, without `path` yet."""
    rows, problems = [], []
    for i, (name, label) in enumerate(entries):
        path = root / name
        try:
            meta = meta_of(read_image(path), path)
        except UnreadableImage as exc:
            problems.append(Issue(Msg(f"cannot read the image: {exc}", f"无法读取图片：{exc}"), name,
                                  hint=Msg(f"replace or remove the file ({_FORMATS})", f"请替换或删除该文件（{_FORMATS.zh}）")))
            continue
        rows.append({"file": name, "label": label, **meta.__dict__, "sha256": _sha256(path), "_source": path})
        if i % 25 == 0:
            progress(0.8 * i / len(entries), Msg(f"reading images ({i}/{len(entries)})", f"读取图片（{i}/{len(entries)}）"))
    if problems:
        raise InvalidInput(problems)
    return rows


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _store(catalog: Catalog, rows: list[dict], progress) -> list[Path]:
    """Copy each image to its content address (once per content); the files created now (to undo on failure)."""
    base, created = images_dir(catalog), []
    for row in rows:
        ext = row["_source"].suffix.lower()
        target = base / row["sha256"][:2] / f"{row['sha256']}{ext}"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(ext + ".part")
            shutil.copyfile(row.pop("_source"), partial)
            partial.replace(target)
            created.append(target)
        else:
            row.pop("_source")
        row["path"] = str(target)
    progress(0.9, Msg("stored", "已保存"))
    return created


def _write_table(catalog: Catalog, table: str, replace: bool, rows: list[dict], source: Path,
                 warnings: list[Msg]) -> TableInfo:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("width", "height", "channels", "bit_depth"):
        frame[column] = frame[column].astype("int64")
    frame["label"] = frame["label"].astype("string")
    digest = hashlib.sha256("\n".join(f"{f}\t{lab}\t{s}" for f, lab, s in
                                      zip(frame["file"], frame["label"].fillna(""), frame["sha256"])).encode()).hexdigest()
    unlabelled = int(frame["label"].isna().sum())
    if unlabelled:
        warnings = [*warnings, Msg(f"{unlabelled} image(s) without a label (they can be scored, not learned from)",
                                   f"{unlabelled} 张图片没有标签（可用于评分，不参与训练）")]
    with catalog.transaction() as con:
        catalog.check_new_name(table, replace=replace, con=con)
        for old in [t for t in catalog.table_names(con=con) if t.lower() == table.lower()]:
            con.execute(f"DROP TABLE {quote(old)}")
        columns = create_from_frame(con, table, frame)
        info = TableInfo(table, source.name, digest, hashlib.sha256(f"images|{digest}".encode()).hexdigest(),
                         len(frame), columns, warnings, datetime.now(timezone.utc).replace(tzinfo=None)
                         .isoformat(timespec="seconds"))
        catalog.register_table(con, info)
    return info


__all__ = ["COLUMNS", "IMAGE_EXT", "images_dir", "ingest_images", "is_image_source", "scan"]
