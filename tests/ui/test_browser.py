"""Real-browser end-to-end: Streamlit server + Debian's Chromium through playwright (never `playwright install`).

Log in, upload a CSV, drag a column into another role box, run the template, see the recommendations, use the
what-if, refresh the browser on the run page (a refresh asks for the password again: the token lives only in the
Streamlit session), switch to Chinese, download the recipe. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SORTABLES = 'iframe[title="streamlit_sortables.sortable_items"]'

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


USER, PASSWORD = "tester", "browser pass phrase"


LOGIN_LABELS = {"en": ("User name", "Password", "Log in", "Signed in as {user}"),
                "zh": ("用户名", "密码", "登录", "当前用户：{user}")}


def login(page, user: str = USER, password: str = PASSWORD, lang: str = "en") -> None:
    """Fill the studio's login screen (shown before any page, and again after a browser refresh)."""
    name, secret, button, signed_in = LOGIN_LABELS[lang]
    page.get_by_label(name).fill(user)
    page.get_by_label(secret, exact=True).fill(password)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text(signed_in.format(user=user)).wait_for()
    settle(page)


@pytest.fixture
def server(studio_home):
    from engine import api

    api.add_user(api.local_principal(), USER, "engineer", PASSWORD)
    port = _free_port()
    env = {**os.environ, "AI_STUDIO_HOME": str(studio_home)}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the studio did not start: " + proc.stderr.read().decode()[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def browser_page():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="en-US", accept_downloads=True)
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(0.8)  # let charts and fonts settle
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def settle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    time.sleep(0.3)


def confirm_roles(page, label: str = "The roles are right") -> None:
    """Tick the Build page's roles checkbox once the page has settled; a click landing during a rerun can be dropped,
    so it is checked again (never clicked twice when it took)."""
    box = page.get_by_role("checkbox", name=label)
    box.wait_for(state="attached")
    for _ in range(3):
        settle(page)
        if box.is_checked():
            return
        page.get_by_text(label).click()
    settle(page)
    assert box.is_checked(), f"'{label}' did not stay ticked"


def drag(page, frame, text: str, box_index: int) -> None:
    """Drag a column chip into the role box `box_index` of the sortables component (mouse steps, like a person)."""
    src = frame.get_by_text(text, exact=True).bounding_box()
    dst = frame.locator(".sortable-container").nth(box_index).bounding_box()
    page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
    page.mouse.down()
    for i in range(1, 26):
        page.mouse.move(src["x"] + (dst["x"] + dst["width"] / 2 - src["x"]) * i / 25,
                        src["y"] + (dst["y"] + 40 - src["y"]) * i / 25)
        time.sleep(0.02)
    page.mouse.up()


def test_whole_flow_in_the_browser(server, browser_page):
    try:
        _whole_flow(server, browser_page)
    except Exception:
        shot(browser_page, "failure")
        raise


def _whole_flow(server, page):
    # 1. data factory: upload the concrete CSV (a deep link straight after the server start)
    page.goto(server + "/data")
    login(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        str(REPO / "data" / "demo" / "concrete.csv"))
    settle(page)
    page.wait_for_function("document.querySelector('input[aria-label=\"Table name\"]').value === 'concrete'")
    page.get_by_label("Table name").fill("mix")
    page.get_by_label("Table name").press("Enter")
    settle(page)
    page.get_by_role("button", name="Load into the data factory").click()
    page.get_by_text("Table mix loaded: 1030 rows, 9 columns.").wait_for()
    page.get_by_role("tab", name="Profile").click()
    page.get_by_text("Missing values per column").first.wait_for()
    shot(page, "01_data_factory")

    # 2. build: the suggestion, then drag age_days from Controllable into Context
    page.goto(server + "/build")  # a new browser session: the password again
    login(page)
    frame = page.frame_locator(SORTABLES)
    frame.get_by_text("age_days", exact=True).wait_for()
    page.get_by_text("still a guess").wait_for()       # a guess is never called valid
    confirm_roles(page)
    page.get_by_text("The recipe is valid").wait_for()
    drag(page, frame, "age_days", 3)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stCode"]')]
                                     .some(e => e.textContent.includes('context:\\n  - age_days'))""")
    settle(page)
    shot(page, "02_build_roles")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the recipe").click()
    assert "age_days" in Path(download.value.path()).read_text(encoding="utf-8")

    # 3. run: progress, then a browser refresh on the run page
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_url("**/run**")
    page.wait_for_function("location.search.includes('run=')")  # the run page has put the run in the address
    page.reload()
    login(page)
    page.get_by_text("Finished in").wait_for(timeout=180_000)
    page.locator("[role=gridcell]").filter(has_text="Search models and validate").first.wait_for(state="attached")
    shot(page, "03_run_finished")

    # 4. results: metrics, recommendations, what-if
    page.get_by_role("button", name="Open the results").click()
    page.get_by_text("Recommended settings").wait_for()
    page.locator("[role=gridcell]").filter(has_text="cement").first.wait_for(state="attached")
    shot(page, "04_results")
    page.get_by_role("heading", name="What if…").scroll_into_view_if_needed()
    predicted = page.locator('[data-testid="stMetric"]').filter(has_text="Predicted outcome")
    before = predicted.locator('[data-testid="stMetricValue"]').inner_text()
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(40):
        slider.press("ArrowLeft")
    settle(page)
    page.wait_for_function("""(before) => [...document.querySelectorAll('[data-testid="stMetric"]')]
        .some(m => m.textContent.includes('Predicted outcome')
                   && !m.querySelector('[data-testid="stMetricValue"]').textContent.includes(before))""", arg=before)
    predicted.scroll_into_view_if_needed()
    page.mouse.wheel(0, 600)
    shot(page, "05_what_if")

    # 5. Chinese: the same page, no English chrome left
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="中文").click()
    page.get_by_text("推荐设定值").first.wait_for()
    page.get_by_text("模型精度").first.wait_for()
    shot(page, "06_results_zh")
    page.get_by_role("link", name="搭建").click()  # same session: the language stays
    page.get_by_text("这是初步猜测").wait_for()   # the browser was refreshed on the run page: a new session, a new guess
    page.get_by_text("角色分配无误").click()
    page.get_by_text("配方有效").wait_for()
    shot(page, "07_build_zh")


def test_a_long_run_survives_page_switches_and_a_refresh_and_can_be_cancelled(server, browser_page):
    page = browser_page
    from engine import api

    api.ensure_demo()  # the same studio home as the server's
    try:
        page.goto(server + "/build")
        login(page)
        confirm_roles(page)
        page.get_by_text("The recipe is valid").wait_for()
        page.get_by_text("Advanced settings").click()
        for label, value in (("Trees", "5000"), ("Learning rate", "0.01")):
            page.get_by_role("spinbutton", name=label).fill(value)  # the label; its help button is named "Help for …"
            page.get_by_role("spinbutton", name=label).press("Enter")
            settle(page)
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_url("**/run**")
        page.get_by_text("Search models and validate ·").wait_for(timeout=60_000)  # live progress of the training step
        shot(page, "08_run_in_progress")
        page.get_by_role("link", name="History").click()
        page.get_by_text("Run history").wait_for()
        page.get_by_role("link", name="Run", exact=True).click()
        page.get_by_role("button", name="Cancel the run").wait_for()  # still running, found again
        page.reload()
        login(page)
        page.get_by_role("button", name="Cancel the run").click()
        page.get_by_text("The run was cancelled").wait_for(timeout=120_000)
        shot(page, "09_run_cancelled")
    except Exception:
        shot(page, "failure_long_run")
        raise


def test_login_in_the_browser_then_roles_and_logout(server, browser_page):
    """The login screen before any page; a wrong password refused; a viewer signed in sees results but no Run
    button and no Template Studio; logout returns to the login screen."""
    page = browser_page
    from engine import api

    api.ensure_demo()
    api.add_user(api.local_principal(), "vic", "viewer", "viewer pass phrase")
    try:
        page.goto(server + "/template_studio")  # a deep link: the login screen, nothing else
        page.get_by_role("heading", name="Log in to AI Studio").wait_for()
        assert page.get_by_text("Template Studio").count() == 0
        shot(page, "10_login")
        page.get_by_label("User name").fill("vic")
        page.get_by_label("Password", exact=True).fill("not the password")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("wrong user name or password").wait_for()
        login(page, "vic", "viewer pass phrase")
        page.get_by_text("Signed in as vic (viewer)").wait_for()
        assert page.get_by_role("link", name="Template Studio").count() == 0
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Build").click()
        confirm_roles(page)
        page.get_by_text("The recipe is valid").wait_for()
        page.get_by_text("Needs the role process expert or higher.").wait_for()
        assert page.get_by_role("button", name="Run", exact=True).count() == 0
        shot(page, "11_viewer_build")
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("heading", name="Log in to AI Studio").wait_for()
        actions = [(r["action"], r["user_name"], r["result"]) for r in api.audit_entries(api.local_principal(), user="vic")]
        assert actions[:3] == [("logout", "vic", "ok"), ("login", "vic", "ok"), ("login", "vic", "failed")]
    except Exception:
        shot(page, "failure_login")
        raise
