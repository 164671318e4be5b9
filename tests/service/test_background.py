"""A run in the background: its log keeps both languages, so a zh page shows a Chinese log."""

from __future__ import annotations

import re

from engine import api
from engine.core.i18n import text_of


def test_run_log_lines_carry_chinese(demo_db, fast_recipe):
    run_id = api.start_run(fast_recipe, db=demo_db)
    status = api.wait_run(run_id, 120, db=demo_db)
    assert status["status"] == "succeeded"
    log = status["log"]
    assert log, "a live run in this process keeps its log"
    zh_lines = [text_of(line, "zh") for line in log]
    assert any("运行中" in line for line in zh_lines)
    assert any(re.search(r"第 \d+/\d+ 折", line) for line in zh_lines)          # the model's folds
    en_lines = [text_of(line, "en") for line in log]
    assert any(line.endswith(": running") for line in en_lines) and all(line.isascii() for line in en_lines)
