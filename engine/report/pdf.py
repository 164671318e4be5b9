"""Print the HTML report to an A4 PDF with headless Chromium (the page runs Plotly, so charts are faithful)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from engine.core.errors import StudioError
from engine.core.i18n import Msg

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
FOOTER = ('<div style="width:100%;font-size:8px;color:#888;text-align:center;font-family:sans-serif">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def chromium_path() -> str:
    for candidate in (os.environ.get("AI_STUDIO_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    raise StudioError(Msg("PDF reports need Chromium: install it (Debian/Ubuntu: apt-get install chromium "
                          "fonts-wqy-microhei) or set AI_STUDIO_CHROMIUM to its path; the HTML report works without it",
                          "PDF 报告需要 Chromium：请安装（Debian/Ubuntu：apt-get install chromium fonts-wqy-microhei），"
                          "或把 AI_STUDIO_CHROMIUM 设为它的路径；HTML 报告不需要它"))


def html_to_pdf(html_text: str, out: Path, timeout_ms: int = 60_000) -> Path:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in requirements.txt
        raise StudioError(Msg("PDF reports need the playwright package (pip install -r requirements.txt)",
                              "PDF 报告需要 playwright 包（pip install -r requirements.txt）")) from exc
    executable = chromium_path()
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "report.html"
        page_file.write_text(html_text, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=ARGS)
            try:
                page = browser.new_page()
                page.goto(page_file.as_uri(), wait_until="load", timeout=timeout_ms)
                page.wait_for_function("window.reportReady === true", timeout=timeout_ms)
                page.emulate_media(media="print")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                         header_template="<div></div>", footer_template=FOOTER,
                         margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    return out
