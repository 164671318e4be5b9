"""The Monitor page in a real browser (Chromium): charts drawn with limits and flagged batches, the alert list,
Chinese, and the page refreshing itself when new batches arrive. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time

from engine import api
from tests.service import monitor_setup as setup
from tests.ui.test_browser import pytestmark, browser_page, login, server, settle, shot  # noqa: F401  (fixtures)


def test_monitor_page_in_the_browser_refreshes_itself(studio_home, tmp_path, server, browser_page):  # noqa: F811
    run_id, result = setup.train(tmp_path)
    frame = setup.faulty(result)
    first, more = tmp_path / "a.csv", tmp_path / "b.csv"
    frame.iloc[:110].to_csv(first, index=False)
    frame.iloc[110:].to_csv(more, index=False)
    api.ingest(first, "line_live")
    api.start_monitor(run_id, "line_live", baseline=setup.BASELINE)
    page = browser_page
    try:
        page.goto(server + "/monitor?lang=zh")
        login(page, lang="zh")
        page.get_by_text("生产监控", exact=True).first.wait_for()
        settle(page)
        page.locator(".js-plotly-plot").first.wait_for()
        page.get_by_role("combobox").nth(3).click()  # the refresh choice (language, run, table, refresh)
        page.get_by_role("option", name="每 10 秒").click()
        settle(page)
        before = len(api.alerts(run_id=run_id))
        shot(page, "monitor_zh")
        api.ingest(more, "line_live", options={"mode": "append"})  # new batches arrive
        deadline = time.monotonic() + 60
        while len(api.alerts(run_id=run_id)) == before and time.monotonic() < deadline:
            time.sleep(1)  # nobody clicks: the fragment re-checks on its own
        assert len(api.alerts(run_id=run_id)) > before
        page.get_by_text("160", exact=True).first.wait_for(timeout=30_000)  # the batch count on screen
        page.get_by_role("tab", name="预测与实测").click()
        time.sleep(1)
        shot(page, "monitor_zh_residual")
        assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    except Exception:
        shot(page, "monitor_failure")
        raise
