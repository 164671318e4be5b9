"""The Run page's cluster field in a real browser (Chromium): typed, checked, refused with its reason, in en and zh.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from tests.ui.test_browser import pytestmark, browser_page, login, server, settle, shot  # noqa: F401  (fixtures)


def test_run_page_cluster_field_in_the_browser(studio_home, server, browser_page):  # noqa: F811
    page = browser_page
    page.goto(server + "/run")
    login(page)
    page.get_by_text("Dask cluster for new runs").first.click()   # the expander
    field = page.get_by_role("textbox", name="Dask cluster for new runs")
    field.fill("tcp//plant-dask:8786")
    field.press("Enter")
    settle(page)
    page.get_by_text("is not a cluster").first.wait_for()
    shot(page, "run_cluster_refused_en")
    field.fill("tcp://plant-dask:8786")
    field.press("Enter")
    settle(page)
    page.get_by_text("New runs compute on tcp://plant-dask:8786.").wait_for()
    shot(page, "run_cluster_en")
    page.goto(server + "/run?lang=zh")
    login(page, lang="zh")
    page.get_by_text("新运行使用的 Dask 集群").first.click()
    field = page.get_by_role("textbox", name="新运行使用的 Dask 集群")
    field.fill("local:2")
    field.press("Enter")
    settle(page)
    page.get_by_text("新运行将在 local:2 上计算。").wait_for()
    shot(page, "run_cluster_zh")
