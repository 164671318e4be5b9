"""Bugs found by a newcomer trial in a real browser, each pinned by the flow that showed it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from engine import api

REPO = Path(__file__).resolve().parents[2]


def open_page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_profile_distribution_of_every_column_type(studio_home, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    frame = pd.DataFrame({"批次": [f"批{i % 7}" for i in range(60)], "product_id": [f"P{i:04d}" for i in range(60)],
                          "ok": [i % 3 == 0 for i in range(60)], "when": pd.date_range("2026-01-01", periods=60),
                          "empty": [None] * 60, "temp": [800.0 + i for i in range(60)]})
    path = tmp_path / "line.parquet"
    frame.to_parquet(path, index=False)
    api.ingest(path, "line")
    at = open_page("pages/data.py", "zh")
    picker = at.selectbox(key="hist_line")
    assert {"批次", "product_id", "temp"} <= set(picker.options)
    for column in picker.options:
        picker.select(column).run()
        assert not at.exception and not at.error, (column, [e.value for e in [*at.exception, *at.error]])
