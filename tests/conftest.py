"""Shared fixtures: every test gets its own studio home (data factory, cache, runs) under tmp_path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# model searches without a recipe time_budget get at most 2 s in tests (engine/operators/model_search.py)
os.environ.setdefault("AI_STUDIO_SEARCH_BUDGET", "2")


@pytest.fixture
def studio_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "studio"
    monkeypatch.setenv("AI_STUDIO_HOME", str(home))
    monkeypatch.delenv("AI_STUDIO_DB", raising=False)
    monkeypatch.delenv("AI_STUDIO_TEMPLATES", raising=False)
    return home


@pytest.fixture
def db(studio_home) -> Path:
    return studio_home / "studio.duckdb"


@pytest.fixture
def demo_db(db) -> Path:
    """A data factory with the bundled demo tables (concrete, ccpp)."""
    from engine import api

    api.ensure_demo(db)
    return db


@pytest.fixture
def fast_recipe(tmp_path) -> Path:
    """The concrete demo recipe, made quick (few trees, few candidates) for tests."""
    text = (REPO / "recipes" / "concrete_strength.yaml").read_text(encoding="utf-8")
    text = text.replace("  top_k: 8\n", "  top_k: 8\n  n_estimators: 60\n  n_samples: 300\n  folds: 3\n")
    text = text.replace("  folds: 5\n", "")
    path = tmp_path / "concrete_fast.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, env: dict | None = None, timeout: float = 300):
    """Run `python -m engine ARGS` in a subprocess; returns CompletedProcess (text)."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def open_app(page: str, lang: str = "en", **state):
    """An AppTest of the studio switched to `page` in `lang` with `state` in the session, checked for exceptions
    (signed in by tests/ui/conftest.py's autouse fixture)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at
