"""Every page test runs signed in: an autouse fixture adds a user to the test's studio home and gives each AppTest
the session token, as the login screen would (the login itself is tested in tests/ui/test_login.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

UI_USER, UI_ROLE, UI_PASSWORD = "tester", "engineer", "page tests pass phrase"


def sign_in(name: str = UI_USER, role: str = UI_ROLE, password: str = UI_PASSWORD) -> str:
    """A user of `role` in the current studio home (added once) and a fresh session token for them."""
    from engine import api

    if api.accounts().user(name) is None:
        api.add_user(api.local_principal(), name, role, password)
    return api.login(name, password, address="127.0.0.1", via="ui").token


@pytest.fixture(autouse=True)
def signed_in(request, monkeypatch):
    """AppTest.from_file(...) starts signed in as an engineer (tests marked `anonymous` opt out)."""
    if request.node.get_closest_marker("anonymous") or "studio_home" not in request.fixturenames:
        yield None
        return
    request.getfixturevalue("studio_home")
    original = AppTest.from_file.__func__
    token: list[str] = []

    def from_file(cls, *args, **kwargs):
        at = original(cls, *args, **kwargs)
        if not token:
            token.append(sign_in())
        at.session_state["auth_token"] = token[0]
        return at

    monkeypatch.setattr(AppTest, "from_file", classmethod(from_file))
    yield token
