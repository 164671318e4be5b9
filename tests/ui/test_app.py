"""AppTest: the studio starts, switches language, and runs the demo from the home page."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]


def _app():
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=240)


def test_home_renders_in_both_languages(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = _app()
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert at.title[0].value == "AI Studio"
    assert any("No tables yet" in i.value for i in at.info)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception
    assert at.title[0].value == "AI 创作间"


def test_demo_button_runs_the_template(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = _app()
    at.session_state["lang"] = "en"
    at.run()
    at.button[0].click().run()
    assert not at.exception
    assert any("finished in" in s.value for s in at.success)
    labels = [m.label for m in at.metric]
    assert "Cross-validated R²" in labels and "Predicted uplift" in labels
