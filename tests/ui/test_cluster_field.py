"""The Run page's cluster field (en/zh, checked as typed) and the Build page's Run button using it: a local:2
cluster runs the run; an address where nothing listens is refused on the page, naming it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import api
from tests.conftest import open_app

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_run_page_cluster_field_checks_the_value(studio_home, monkeypatch, lang):
    monkeypatch.chdir(REPO)
    at = open_app("pages/run.py", lang)
    label = "Dask cluster for new runs" if lang == "en" else "新运行使用的 Dask 集群"
    assert label in [e.label for e in at.expander]
    field = at.text_input(key="run_cluster_field")
    assert field.label == label and field.value == ""
    field.input("spark://x:7077").run()
    assert any("spark://x:7077" in e.value and "local:N" in e.value for e in at.error), [e.value for e in at.error]
    if lang == "zh":
        assert any("不是有效的集群地址" in e.value for e in at.error)
    assert at.session_state["run_cluster"] == "spark://x:7077"   # a run started now is refused, never run here
    at.text_input(key="run_cluster_field").input("local:2").run()
    assert not at.error
    assert at.session_state["run_cluster"] == "local:2"
    assert any("local:2" in c.value for c in at.caption)


def test_run_page_field_starts_from_the_setting(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("AI_STUDIO_CLUSTER", "tcp://plant-dask:8786")
    at = open_app("pages/run.py")
    assert at.text_input(key="run_cluster_field").value == "tcp://plant-dask:8786"


def _build_and_run(at: AppTest) -> AppTest:
    next(s for s in at.selectbox if s.label == "Table").select("concrete").run()
    next(c for c in at.checkbox if c.label == "The roles are right").check().run()
    at.number_input(key="build.0.quick_model.concrete.params.n_samples").set_value(200).run()
    at.slider(key="build.0.quick_model.concrete.params.folds").set_value(3).run()
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_build_runs_on_the_cluster_of_the_field(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("AI_STUDIO_SEARCH_BUDGET", "1")
    at = _build_and_run(open_app("pages/build.py", run_cluster="local:2"))
    run_id = at.session_state["current_run"]
    assert at.title[0].value == "Run"
    assert api.wait_run(run_id, 120)["status"] == "succeeded"
    assert api.load_result(run_id)["cluster"] == {"address": "local:2", "workers": 2}


def test_build_refuses_a_cluster_that_does_not_answer(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    at = _build_and_run(open_app("pages/build.py", run_cluster=address))
    assert "current_run" not in at.session_state
    assert any(address in e.value and "dask scheduler" in e.value for e in at.error), [e.value for e in at.error]
    assert api.runs() == []
