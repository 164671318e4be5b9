"""Image folders into the data factory: layouts, formats, content addressing, and all-or-nothing errors."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from engine import api
from engine.core.errors import InvalidInput
from engine.store.ingest.images import images_dir
from tests.conftest import run_cli


def _img(seed=0, shape=(20, 24), dtype=np.uint8):
    top = 65535 if dtype == np.uint16 else 255
    return np.random.default_rng(seed).integers(0, top, size=shape, dtype=np.int64).astype(dtype)


def _save(path, array, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)
    return path


def _class_folder(root):
    _save(root / "ok" / "a.png", _img(0))
    _save(root / "ok" / "b.jpg", np.dstack([_img(1)] * 3), quality=95)
    _save(root / "crack" / "c.bmp", _img(2))
    _save(root / "crack" / "d.tif", _img(3, dtype=np.uint16))
    _save(root / "crack" / "same_as_a.png", _img(0))
    _save(root / "unlabelled.png", _img(5))
    return root


def test_class_folders_every_format_and_content_addressing(tmp_path, db):
    info = api.ingest(_class_folder(tmp_path / "cells"), "cells", db=db)
    frame = api.catalog(db).read_table("cells").set_index("file")
    assert info.rows == 6 and list(info.columns)[:6] == ["file", "label", "width", "height", "channels", "bit_depth"]
    assert frame.loc["ok/b.jpg", "channels"] == 3 and frame.loc["ok/b.jpg", "format"] == "jpeg"
    assert frame.loc["crack/d.tif", "bit_depth"] == 16 and frame.loc["crack/c.bmp", "label"] == "crack"
    assert (frame.loc["ok/a.png", ["width", "height"]] == [24, 20]).all()
    assert pd.isna(frame.loc["unlabelled.png", "label"])
    assert frame.loc["ok/a.png", "sha256"] == frame.loc["crack/same_as_a.png", "sha256"]
    stored = sorted(p for p in images_dir(api.catalog(db)).rglob("*") if p.is_file())
    assert len(stored) == 5                                # the same image twice is stored once
    assert all(str(p).startswith(str(db.parent)) for p in map(str, frame["path"]))
    assert any("without a label" in w for w in info.warnings)


def test_sixteen_bit_colour_tiff_keeps_its_depth(tmp_path, db):
    import tifffile

    (tmp_path / "t" / "ok").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "t" / "ok" / "rgb16.tiff", np.full((12, 10, 3), 40000, np.uint16))
    api.ingest(tmp_path / "t", "t16", db=db)
    row = api.catalog(db).read_table("t16").iloc[0]
    assert (row["bit_depth"], row["channels"], row["width"], row["format"]) == (16, 3, 10, "tiff")


def test_labels_file_with_empty_labels_and_zip(tmp_path, db):
    root = tmp_path / "flat"
    for i in range(3):
        _save(root / f"img{i}.png", _img(i))
    (root / "labels.csv").write_text("file,label\nimg0.png,ok\nimg1.png,crack\nimg2.png,\n", encoding="utf-8")
    archive = tmp_path / "flat.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in root.iterdir():
            z.write(p, f"flat/{p.name}")
    info = api.ingest(archive, "flat", db=db)
    frame = api.catalog(db).read_table("flat").set_index("file")
    assert info.rows == 3 and frame.loc["img0.png", "label"] == "ok" and frame["label"].isna().sum() == 1


def _nothing_ingested(db, name):
    assert name not in api.catalog(db).table_names()
    base = images_dir(api.catalog(db))
    assert not base.exists() or not any(p.is_file() for p in base.rglob("*"))


def test_corrupt_image_is_named_and_nothing_is_ingested(tmp_path, db):
    root = _class_folder(tmp_path / "bad")
    (root / "crack" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(InvalidInput) as err:
        api.ingest(root, "bad", db=db)
    assert "crack/broken.png" in str(err.value) and "cannot read the image" in str(err.value)
    assert "无法读取图片" in err.value.issues[0].text("zh")
    _nothing_ingested(db, "bad")


def test_label_naming_a_missing_file_and_unreadable_labels(tmp_path, db):
    root = tmp_path / "l"
    _save(root / "a.png", _img(0))
    (root / "labels.csv").write_text("file,label\na.png,ok\nghost.png,crack\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        api.ingest(root, "l", db=db)
    assert err.value.issues[0].line == 3 and "ghost.png" in str(err.value)
    (root / "labels.csv").write_bytes("file,label\na.png,合格\n".encode("gbk"))
    with pytest.raises(InvalidInput, match="labels file cannot be read"):
        api.ingest(root, "l", db=db)
    (root / "labels.csv").write_text("name,class\na.png,ok\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="needs the columns file and label"):
        api.ingest(root, "l", db=db)
    _nothing_ingested(db, "l")


def test_cli_exit_2_names_the_file(tmp_path, studio_home):
    root = _class_folder(tmp_path / "cli")
    (root / "ok" / "zero.jpg").write_bytes(b"")
    proc = run_cli("ingest", str(root), "--table", "cli_cells", "--quiet")
    assert proc.returncode == 2, proc.stderr
    assert "ok/zero.jpg" in proc.stdout + proc.stderr
    proc = run_cli("ingest", str(root / "crack"), "--table", "cli_cells", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "ingested 3 rows" in proc.stdout
