"""Issue 16 in a real browser (Chromium): the steel meter table in Chinese and English — the guess with the energy
column as target and the meters set aside, shown as a guess; an impossible run shown as not actionable; a possible
one with its scenario, plain words and a what-if that keeps the prediction in view; and no request leaves the
machine (favicon and fonts are served by the studio). Screenshots go to test-artifacts/fh_*.png."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from engine.sim.steel import CO2, LAG_KVARH, LAG_PF, METERS
from tests.ui.test_browser import ARGS, CHROMIUM, browser_page, confirm_roles, login, server, settle, shot  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")]


@pytest.fixture
def steel_runs(studio_home, tmp_path):
    """The small steel table and two finished runs (meters among the settings; meters set aside), made before the
    server starts."""
    from engine import api
    from engine.sim.steel import make_steel

    path = tmp_path / "steel.parquet"
    make_steel(rows=2000, seed=3).to_parquet(path, index=False)
    api.ingest(path, "steel_energy_sim")

    def recipe(controllable):
        r = api.read_recipe(REPO / "recipes" / "energy_sim_steel.yaml")
        r["roles"].update(controllable=controllable, ignore=[m for m in METERS if m not in controllable])
        r["params"].update(n_estimators=40, folds=2, time_limit=5)
        return r

    bad = api.run_recipe(recipe(["NSM", LAG_KVARH, LAG_PF, CO2]))["run_id"]
    good = api.run_recipe(recipe(["NSM"]))["run_id"]
    return {"bad": bad, "good": good}


def pick(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def test_first_hour_on_the_steel_meter_in_zh_and_en(steel_runs, server, browser_page):
    page, requests = browser_page, []
    page.on("request", lambda r: requests.append(r.url))
    try:
        _flow(page, server, steel_runs)
    except Exception:
        shot(page, "fh_failure")
        raise
    outside = sorted({u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                      and urlparse(u).hostname not in ("127.0.0.1", "localhost")})
    assert not outside, outside            # favicon, fonts, scripts: all from the studio itself


def _flow(page, server: str, runs: dict) -> None:
    # Build, zh: the energy template on the meter table
    page.goto(server + "/build?lang=zh")
    login(page, lang="zh")  # every page load is a new session
    page.get_by_text("搭建").first.wait_for()
    pick(page, "模板", "节能优化——当前工况下的最优设定值")
    page.get_by_text("这是初步猜测").wait_for()
    page.get_by_text("Usage_kWh：模板需要能耗或效率").first.wait_for(state="attached")
    page.get_by_text("角色仍是猜测").wait_for()
    settle(page)
    shot(page, "fh_01_build_guess_zh")
    confirm_roles(page, "角色分配无误")
    page.get_by_text("配方有效").wait_for()
    shot(page, "fh_02_build_checked_zh")

    # Results, zh: the meters used as settings → not actionable, reason and fix, no money
    page.goto(server + f"/results?result={runs['bad']}&lang=zh")
    login(page, lang="zh")  # every page load is a new session
    page.get_by_text("不可执行").first.wait_for()
    page.get_by_text("不显示节能量").wait_for()
    shot(page, "fh_03_results_not_actionable_zh")

    # Results, zh: the possible run — scenario next to the answer, words, what-if with the prediction in view
    page.goto(server + f"/results?result={runs['good']}&lang=zh")
    login(page, lang="zh")  # every page load is a new session
    page.get_by_text("针对最新一行").first.wait_for()
    page.get_by_text("通俗地说").first.wait_for()
    shot(page, "fh_04_results_ok_zh")
    page.get_by_role("heading", name="假设分析").scroll_into_view_if_needed()
    page.get_by_role("button", name="恢复为推荐值").wait_for()
    shot(page, "fh_05_what_if_zh")

    # English: the same two results
    page.goto(server + f"/results?result={runs['bad']}&lang=en")
    login(page)  # every page load is a new session
    page.get_by_text("Not actionable").first.wait_for()
    page.get_by_text("Leakage guard").first.wait_for()
    shot(page, "fh_06_results_not_actionable_en")
    page.goto(server + "/build?lang=en")
    login(page)  # every page load is a new session
    pick(page, "Template", "Energy saving — setpoints for the current load")
    page.get_by_text("This is a first guess").wait_for()
    shot(page, "fh_07_build_guess_en")


@pytest.fixture
def wide_table(studio_home, tmp_path):
    """300 columns, as the yield line's export: 150 setpoints (*_sp), 149 measurements, one yield."""
    import pandas as pd

    from engine import api

    import numpy as np

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({**{f"zone{i:03d}_sp": rng.normal(size=60) for i in range(150)},
                          **{f"zone{i:03d}_pv": rng.normal(size=60) for i in range(149)},
                          "yield_pct": rng.uniform(80, 99, 60)})
    path = tmp_path / "wide.parquet"
    frame.to_parquet(path, index=False)
    api.ingest(path, "wide")


def test_a_board_of_300_columns_stays_short_and_moves_by_pattern(wide_table, server, browser_page):
    page, requests = browser_page, []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(server + "/build?lang=en")
        login(page)  # every page load is a new session
        page.get_by_text("more columns are not drawn").wait_for()
        settle(page)
        height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        assert height < 6000, height                    # was ~9,500 px with every column drawn
        shot(page, "fh_08_wide_board_en")
        page.get_by_label("Search columns (name or pattern, e.g. *_sp)").fill("*_sp")
        page.get_by_label("Search columns (name or pattern, e.g. *_sp)").press("Enter")
        page.get_by_text("150 columns match").wait_for()
        settle(page)
        pick(page, "Move matching to", "Controllable")
        page.get_by_role("button", name="Move 150").click()
        settle(page)
        page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stCode"]')]
                                  .some(e => e.textContent.includes('controllable:\\n  - zone000_sp'))""")
        shot(page, "fh_09_wide_board_moved_en")
    except Exception:
        shot(page, "fh_failure_wide")
        raise
    assert all(urlparse(u).hostname in ("127.0.0.1", "localhost", None) for u in requests
               if urlparse(u).scheme in ("http", "https", "ws", "wss"))
