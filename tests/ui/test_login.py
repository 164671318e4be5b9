"""The studio's login (AppTest): nothing before signing in, the first administrator only from the server itself,
pages and buttons by role, logout ending the session, Template Studio saves impossible without the role."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import api
from tests.ui.conftest import sign_in

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.anonymous


def app(token: str | None = None) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    if token:
        at.session_state["auth_token"] = token
    return at.run()


def texts(at: AppTest) -> str:
    return " ".join([e.value for e in [*at.title, *at.markdown, *at.caption, *at.error, *at.warning, *at.info]]
                    + [b.label for b in at.button])


def test_an_anonymous_visitor_sees_only_the_login_screen(demo_db, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    folder = tmp_path / "plant_templates"
    folder.mkdir()
    monkeypatch.setenv("AI_STUDIO_TEMPLATES", str(folder))
    sign_in("ann", "admin", "admin pass phrase 1")  # users exist: a login screen, not the setup
    at = app()
    assert [t.value for t in at.title] == ["Log in to AI Studio"]
    assert at.text_input(key="login_name") and not at.dataframe
    at.switch_page("pages/template_studio.py").run()  # a deep link straight to Template Studio
    assert [t.value for t in at.title] == ["Log in to AI Studio"]
    assert not [b for b in at.button if "Save" in b.label] and not at.text_area
    assert list(folder.iterdir()) == []
    anonymous = api.Principal("anonymous", "none", "ui")
    with pytest.raises(api.Forbidden):
        api.save_template_as(anonymous, (REPO / "templates" / "quick_model.yaml").read_text(encoding="utf-8"),
                             folder=folder)
    assert list(folder.iterdir()) == []
    refused = api.audit_entries(api.local_principal(), action="templates.save")
    assert refused[0]["user_name"] == "anonymous" and refused[0]["result"] == "refused"


def test_login_wrong_then_right_then_logout(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    sign_in("eve", "expert", "expert pass phrase 1")
    at = app()
    at.text_input(key="login_name").input("eve")
    at.text_input(key="login_password").input("wrong password!")
    at.button[0].click().run()
    assert any("wrong user name or password" in e.value for e in at.error)
    at.text_input(key="login_password").input("expert pass phrase 1")
    at.button[0].click().run()
    assert not at.error and "Signed in as eve (process expert)" in texts(at)
    token = at.session_state["auth_token"]
    assert api.whoami(token).name == "eve"
    next(b for b in at.button if b.label == "Log out").click().run()
    assert [t.value for t in at.title] == ["Log in to AI Studio"]
    with pytest.raises(api.NotAuthenticated):
        api.whoami(token)
    actions = [(r["action"], r["result"]) for r in api.audit_entries(api.local_principal(), user="eve")]
    assert actions[:3] == [("logout", "ok"), ("login", "ok"), ("login", "failed")]


def test_first_administrator_only_from_the_server_itself(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = app()
    assert [t.value for t in at.title] == ["Create the first administrator"]
    assert "only be created on the server itself" in texts(at) and not at.text_input  # a remote visitor: no form
    from ui import auth

    monkeypatch.setattr(auth, "client_address", lambda: "127.0.0.1")
    at = app()
    at.text_input(key="setup_name").input("boss")
    at.text_input(key="setup_password").input("password1")
    at.text_input(key="setup_again").input("password1")
    at.button[0].click().run()
    assert any("most common" in e.value for e in at.error) and not api.users_exist()
    at.text_input(key="setup_password").input("a long plant phrase")
    at.text_input(key="setup_again").input("a long plant phrase")
    at.button[0].click().run()
    assert "Signed in as boss (administrator)" in texts(at)
    assert [u["role"] for u in api.list_users(api.local_principal())] == ["admin"]
    with pytest.raises(api.Forbidden):  # once a user exists, no second "first" administrator
        api.setup_first_admin("other", "another long phrase", address="127.0.0.1")


def test_a_viewer_reads_results_but_has_no_run_button(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    token = sign_in("vic", "viewer", "viewer pass phrase 1")
    at = app(token)
    assert "Signed in as vic (viewer)" in texts(at)
    at.switch_page("pages/build.py").run()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Run" not in labels and "Save in the studio" not in labels
    assert "Needs the role process expert or higher." in texts(at)
    at.switch_page("pages/data.py").run()
    assert "Load into the data factory" not in [b.label for b in at.button]
    with pytest.raises(api.Forbidden):
        api.start_run_as(api.whoami(token), api.read_recipe(REPO / "recipes" / "concrete_strength.yaml"))
    assert api.runs() == []


def test_administration_page_adds_a_user_and_lists_the_audit(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = app(sign_in("ann", "admin", "admin pass phrase 1"))
    at.switch_page("pages/admin.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.text_input(key="admin_new_name").input("newbie")
    at.text_input(key="admin_new_password").input("a fresh long phrase")
    next(b for b in at.button if b.label == "Add").click().run()
    assert any("Added newbie" in s.value for s in at.success)
    assert api.accounts().user("newbie")["role"] == "expert"
    audit = at.dataframe[-1].value
    assert "users.add" in set(audit["Action"]) and "login" in set(audit["Action"])
    expert = app(sign_in("eve", "expert", "expert pass phrase 1"))
    assert "Administration" not in [p for p in texts(expert).split()]  # not in an expert's navigation
    with pytest.raises(api.Forbidden):
        api.list_users(api.whoami(expert.session_state["auth_token"]))


VIEWER_PAGES = ["pages/home.py", "pages/data.py", "pages/gallery.py", "pages/build.py", "pages/run.py",
                "pages/results.py", "pages/trials.py", "pages/history.py"]


def test_every_page_a_viewer_sees_renders_without_action_buttons(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({"n_estimators": 40, "n_samples": 200, "folds": 3})
    run_id = api.run_recipe(recipe)["run_id"]
    token = sign_in("vic", "viewer", "viewer pass phrase 1")
    for page in VIEWER_PAGES:
        at = app(token)
        at.session_state["results_run"] = run_id
        at.switch_page(page).run()
        assert not at.exception and not at.error, (page, [e.value for e in at.error])
        labels = {b.label for b in at.button}
        assert not labels & {"Run", "Load into the data factory", "Save in the studio", "Try the demo (concrete mix)",
                             "Cancel the run", "Retrain with these trials", "Run again"}, (page, labels)
    assert [r["user"] for r in api.runs()] == [api.local_principal().name]
