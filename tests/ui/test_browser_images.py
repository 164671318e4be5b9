"""Real browser: a zip of class folders uploaded on the Data page shows its sample grid; an image-inspection run's
Results page (zh) shows the figures and the gallery and judges an uploaded zip. Screenshots go to test-artifacts/."""

from __future__ import annotations

import zipfile

import pytest

from engine import api
from engine.service.image_demo import write_cells
from engine.sim.solar_cells import CellConfig, make_cells
from tests.ui.test_browser import CHROMIUM, browser_page, login, server, settle, shot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")]
SMALL = CellConfig(size=96, grains=10, contrast=(0.45, 0.6))


def _zip(folder, target):
    with zipfile.ZipFile(target, "w") as z:
        for path in sorted(folder.rglob("*.png")):
            z.write(path, path.relative_to(folder).as_posix())
    return target


def test_images_in_the_browser(server, browser_page, tmp_path):  # noqa: F811
    page = browser_page
    try:
        write_cells(make_cells(24, ("ok", "crack", "dark_region"), seed=0, config=SMALL), tmp_path / "cells")
        page.goto(server + "/data")
        login(page)  # every page load is a new session
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            str(_zip(tmp_path / "cells", tmp_path / "cells.zip")))
        settle(page)
        page.get_by_role("button", name="Load into the data factory").click()
        page.get_by_text("Table cells loaded").wait_for()
        page.get_by_text("Sample images per class").wait_for()
        page.locator('[data-testid="stImage"] img').nth(5).wait_for()
        settle(page)
        shot(page, "images_01_data_samples")
        run = api.run_recipe({"template": "image_inspection", "name": "cells", "data": {"table": "cells"},
                              "roles": {"image": "path", "target": "label"},
                              "params": {"folds": 3, "classifier": "svm_linear", "gallery": 8}})
        page.goto(f"{server}/results?result={run['run_id']}&lang=zh")
        login(page, lang="zh")  # every page load is a new session
        page.get_by_text("图像质检").first.wait_for()
        page.get_by_text("误判图片").first.wait_for()
        shot(page, "images_02_results_zh")
        write_cells(make_cells(6, ("ok", "crack"), seed=7, config=SMALL), tmp_path / "new")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            str(_zip(tmp_path / "new", tmp_path / "new.zip")))
        page.get_by_text("已判定 6 张图片").wait_for(timeout=120_000)
        page.get_by_text("已判定 6 张图片").scroll_into_view_if_needed()
        shot(page, "images_03_scored_zh")
    except Exception:
        shot(page, "images_failure")
        raise
