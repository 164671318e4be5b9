"""Image inspection on the screens: the Data page takes a zip of class folders and shows samples per class; the
Results page shows the inspection view in en and zh and judges an uploaded zip of new images."""

from __future__ import annotations

import io
import zipfile

import pytest

from engine import api
from engine.service.image_demo import write_cells
from engine.sim.solar_cells import CellConfig, make_cells
from tests.ui.test_pages import REPO, open_page, open_results

TINY = CellConfig(size=64, grains=8, contrast=(0.5, 0.6))


def _zip_of(folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(folder.rglob("*.png")):
            z.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def test_data_page_ingests_a_zip_and_shows_samples_per_class(studio_home, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    write_cells(make_cells(6, ("ok", "crack"), seed=0, config=TINY), tmp_path / "cells")
    at = open_page("pages/data.py", "zh")
    at.file_uploader[0].upload("cells.zip", _zip_of(tmp_path / "cells"), "application/zip").run()
    next(b for b in at.button if b.label == "导入数据工厂").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert api.is_image_table("cells")
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any("各类别样例图片" in x for x in texts) and "crack" in texts and "ok" in texts


@pytest.fixture
def image_run(studio_home, tmp_path):
    write_cells(make_cells(24, ("ok", "dark_region"), seed=0, config=TINY), tmp_path / "cells")
    api.ingest(tmp_path / "cells", "cells")
    result = api.run_recipe({"template": "image_inspection", "name": "tiny", "data": {"table": "cells"},
                             "roles": {"image": "path", "target": "label"},
                             "params": {"folds": 3, "classifier": "svm_linear", "gallery": 4}})
    return result["run_id"]


def test_results_page_shows_the_inspection_and_scores_a_zip(image_run, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    zh = open_results(image_run, "zh")
    assert any(s.value == "图像质检" for s in zh.subheader)
    assert any(m.label == "平衡准确率" for m in zh.metric)
    at = open_results(image_run, "en")
    assert any(m.label == "Balanced accuracy" for m in at.metric) and any(m.label == "Escape rate" for m in at.metric)
    write_cells(make_cells(4, ("ok", "dark_region"), seed=9, config=TINY), tmp_path / "new")
    at.file_uploader[0].upload("new.zip", _zip_of(tmp_path / "new"), "application/zip").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("4 images judged" in c.value for c in at.caption)
