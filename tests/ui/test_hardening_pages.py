"""Hostile input through the pages (issue 22): the Template Studio editor, the Data page's column-types field and
the uploader refuse within seconds, with a message on the page, never an exception or minutes of CPU."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import api

REPO = Path(__file__).resolve().parents[2]
BOMB = "\n".join(['a0: &a0 ["x","x","x","x","x","x","x","x","x"]'] +
                 [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]) + "\n"


def open_page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_template_studio_refuses_an_alias_bomb_in_seconds(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/template_studio.py")
    started = time.perf_counter()
    at.text_area(key="ts_text").input(BOMB).run()
    assert time.perf_counter() - started < 10
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "more than 200,000 values once aliases are expanded" in errors and "AI_STUDIO_MAX_YAML_NODES" in errors, errors


def test_template_studio_refuses_deep_nesting_in_chinese(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/template_studio.py", "zh")
    at.text_area(key="ts_text").input("x: " + "[" * 5000 + "]" * 5000 + "\n").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "嵌套超过 64 层" in errors, errors


def test_data_page_column_types_field_refuses_an_alias_bomb(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/data.py")
    at.file_uploader[0].upload("line.csv", b"a,b\n1,2\n3,4\n", "text/csv").run()
    started = time.perf_counter()
    at.text_area(key="ingest.types").input(BOMB).run()
    assert time.perf_counter() - started < 10
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "aliases are expanded" in errors, errors
    assert api.tables() == []


def test_uploader_refuses_a_file_above_the_size_limit_naming_it(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("AI_STUDIO_MAX_FILE_MB", "0.001")
    at = open_page("pages/data.py")
    at.file_uploader[0].upload("big_export.csv", b"a,b\n" + b"1,2\n" * 1000, "text/csv").run()
    next(b for b in at.button if b.label == "Load into the data factory").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "big_export.csv" in errors and "above the limit" in errors and "studio-upload" not in errors, errors
    assert api.tables() == []


def test_uploader_refuses_mixed_encodings_and_binary_files(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/data.py", "zh")
    mixed = "name,v\nMüller,1\n".encode() + "Müller,2\n".encode("latin-1")
    at.file_uploader[0].upload("mixed.csv", mixed, "text/csv").run()
    next(b for b in at.button if b.label == "导入数据工厂").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "mixed.csv" in errors and "第 2 行是 UTF-8，第 3 行不是" in errors, errors
    at.file_uploader[0].upload("binary.csv", b"a,b\n\x00\x01,2\n", "text/csv").run()
    next(b for b in at.button if b.label == "导入数据工厂").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "binary.csv" in errors and "二进制文件" in errors, errors
    assert not at.exception and api.tables() == []
