"""Users, passwords, sessions, API keys, the permission table and the audit trail (engine/service/)."""

from __future__ import annotations

import time

import pytest

from engine import api
from engine.core.errors import InvalidInput
from engine.service import auth
from engine.service.access import PERMISSIONS, ROLES, allowed

ADMIN = api.local_principal()


def test_the_permission_table_is_cumulative_and_complete():
    assert set(PERMISSIONS.values()) <= set(ROLES)
    for action, least in PERMISSIONS.items():
        for role in ROLES:
            assert allowed(role, action) == (ROLES.index(role) >= ROLES.index(least)), (role, action)
    assert not allowed("viewer", "runs.start") and allowed("expert", "runs.start")
    assert not allowed("expert", "templates.save") and allowed("engineer", "templates.save")
    assert not allowed("engineer", "users.manage") and allowed("admin", "audit.read")
    assert not allowed("nobody", "runs.read")
    with pytest.raises(KeyError):
        allowed("admin", "no.such.action")


@pytest.mark.parametrize("password, reason", [("short1!", "at least 8"), ("password123", "most common"),
                                              ("Password1", "most common"), ("aaaaaaaaaaaa", "most common"),
                                              ("anna1", "at least 8"), ("x" * 129, "longer than 128")])
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    assert any(reason in p for p in auth.password_problems(password, "anna"))


def test_long_passphrases_pass_without_composition_rules():
    assert auth.password_problems("correct horse battery staple") == []
    assert auth.password_problems("只用中文的长密码也可以") == []  # 11 characters, no digits or capitals needed
    assert auth.password_problems("anna", "anna")  # too short and the user's name


def test_passwords_are_argon2_hashes_and_names_checked(db):
    api.add_user(ADMIN, "anna", "expert", "a long plant phrase", db=db)
    stored = api.accounts(db).user("anna")["password_hash"]
    assert stored.startswith("$argon2id$") and "a long plant phrase" not in stored
    with pytest.raises(InvalidInput, match="not allowed"):
        api.add_user(ADMIN, "bad name/..", "expert", "a long plant phrase", db=db)
    with pytest.raises(InvalidInput, match="unknown role 'boss'"):
        api.add_user(ADMIN, "bob", "boss", "a long plant phrase", db=db)
    with pytest.raises(api.Conflict):
        api.add_user(ADMIN, "anna", "viewer", "another long phrase", db=db)


def test_lockout_backs_off_and_a_correct_password_resets_it(db, monkeypatch):
    api.add_user(ADMIN, "anna", "expert", "a long plant phrase", db=db)
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(api.NotAuthenticated):
            api.login("anna", "wrong wrong wrong", address="10.0.0.9", db=db)
    with pytest.raises(auth.TooManyAttempts) as locked:  # locked: even the right password waits
        api.login("anna", "a long plant phrase", address="10.0.0.9", db=db)
    assert 25 <= locked.value.retry_after <= 31
    monkeypatch.setattr(auth, "FIRST_LOCK_SECONDS", 0)  # let the lock pass at once
    api.accounts(db).update_user("anna", locked_until=None)
    with pytest.raises(api.NotAuthenticated):  # the 6th failure locks for 0 s × 2 here
        api.login("anna", "wrong again", address="10.0.0.9", db=db)
    assert api.accounts(db).user("anna")["failed_count"] == auth.FREE_FAILURES + 1
    api.accounts(db).update_user("anna", locked_until=None)
    api.login("anna", "a long plant phrase", address="10.0.0.9", db=db)
    assert api.accounts(db).user("anna")["failed_count"] == 0
    results = [r["result"] for r in api.audit_entries(ADMIN, user="anna", action="login", db=db)]
    assert results[0] == "ok" and "refused" in results and results.count("failed") == auth.FREE_FAILURES + 1


def test_unknown_users_get_the_same_answer_as_wrong_passwords(db):
    api.add_user(ADMIN, "anna", "expert", "a long plant phrase", db=db)
    answers = []
    for name in ("anna", "nobody"):
        with pytest.raises(api.NotAuthenticated) as exc:
            api.login(name, "wrong wrong wrong", address="10.0.0.9", db=db)
        answers.append(str(exc.value))
    assert answers[0] == answers[1]


def test_sessions_are_random_expire_and_end_on_logout_disable_role_and_password(db, monkeypatch):
    api.add_user(ADMIN, "anna", "expert", "a long plant phrase", db=db)
    api.add_user(ADMIN, "root2", "admin", "second admin phrase", db=db)
    tokens = {api.login("anna", "a long plant phrase", db=db).token for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) >= 43 for t in tokens)  # 32 random bytes, url-safe base64
    with api.catalog(db).connect() as con:
        stored = [r[0] for r in con.execute("SELECT token_hash FROM _studio_sessions").fetchall()]
    assert not set(tokens) & set(stored)
    logout_token, role_token, password_token = sorted(tokens)
    assert api.logout(logout_token, db=db)
    with pytest.raises(api.NotAuthenticated, match="ended"):
        api.whoami(logout_token, db=db)
    api.whoami(role_token, db=db)
    api.set_user_role(ADMIN, "anna", "viewer", db=db)
    with pytest.raises(api.NotAuthenticated):
        api.whoami(role_token, db=db)
    fresh = api.login("anna", "a long plant phrase", db=db).token
    api.set_user_password(ADMIN, "anna", "a brand new phrase", db=db)
    for token in (password_token, fresh):
        with pytest.raises(api.NotAuthenticated):
            api.whoami(token, db=db)
    latest = api.login("anna", "a brand new phrase", db=db).token
    api.disable_user(ADMIN, "anna", db=db)
    with pytest.raises(api.NotAuthenticated):
        api.whoami(latest, db=db)
    with pytest.raises(api.NotAuthenticated):
        api.login("anna", "a brand new phrase", db=db)
    monkeypatch.setenv("AI_STUDIO_SESSION_HOURS", str(0.2 / 3600))
    short = api.login("root2", "second admin phrase", db=db).token
    time.sleep(0.4)
    with pytest.raises(api.NotAuthenticated, match="expired"):
        api.whoami(short, db=db)


def test_the_last_administrator_stays(db):
    api.add_user(ADMIN, "boss", "admin", "a long plant phrase", db=db)
    with pytest.raises(api.Conflict, match="last administrator"):
        api.disable_user(ADMIN, "boss", db=db)
    with pytest.raises(api.Conflict):
        api.set_user_role(ADMIN, "boss", "viewer", db=db)


def test_api_keys_are_shown_once_stored_hashed_and_revocable(db):
    api.add_user(ADMIN, "mes", "expert", "machine account phrase", db=db)
    key = api.create_api_key(ADMIN, "mes", "mes-line3", db=db)
    assert key["key"].startswith(f"ais_{key['key_id']}_")
    with api.catalog(db).connect() as con:
        row = con.execute("SELECT key_hash FROM _studio_api_keys").fetchone()
    assert key["key"].split("_", 2)[2] not in row[0]
    assert api.whoami(api_key=key["key"], db=db).name == "mes"
    with pytest.raises(api.NotAuthenticated):
        api.whoami(api_key=key["key"][:-2] + "xx", db=db)
    mes = api.whoami(api_key=key["key"], db=db)
    with pytest.raises(api.Forbidden):  # keys are made by administrators
        api.create_api_key(mes, "mes", "another", db=db)
    api.revoke_api_key(mes, key["key_id"], db=db)  # one's own key
    with pytest.raises(api.NotAuthenticated, match="revoked"):
        api.whoami(api_key=key["key"], db=db)


def test_a_refusal_is_audited_and_the_audit_filters(db):
    api.add_user(ADMIN, "vic", "viewer", "viewer pass phrase", db=db)
    vic = api.whoami(api.login("vic", "viewer pass phrase", address="10.1.2.3", via="ui", db=db).token,
                     address="10.1.2.3", via="ui", db=db)
    with pytest.raises(api.Forbidden, match="needs the role process expert"):
        api.authorize(vic, "runs.start", "run", db=db)
    with pytest.raises(api.Forbidden):
        api.audit_entries(vic, db=db)
    rows = api.audit_entries(ADMIN, user="vic", since="1h", db=db)
    assert [(r["action"], r["result"], r["via"], r["address"]) for r in rows] == [
        ("audit.read", "refused", "ui", "10.1.2.3"), ("runs.start", "refused", "ui", "10.1.2.3"),
        ("login", "ok", "ui", "10.1.2.3")]
    assert api.audit_entries(ADMIN, user="vic", since="2099-01-01", db=db) == []
    with pytest.raises(InvalidInput, match="not a date or a span"):
        api.audit_entries(ADMIN, since="yesterday", db=db)


def test_file_bindings_from_the_studio_or_the_api_stay_in_the_allowed_folders(db, tmp_path, monkeypatch):
    upload = api.uploads_dir(db) / "batch" / "line.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("a,b\n1,2\n", encoding="utf-8")
    recipe = {"template": "quick_model", "data": {"file": "batch/line.csv"}}
    assert api.check_recipe_files(recipe, db)["data"]["file"] == str(upload.resolve())
    for path in ("/etc/passwd", "../../etc/passwd", "batch/../../../etc/passwd", str(tmp_path / "other.csv")):
        with pytest.raises(InvalidInput, match="outside the folders") as exc:
            api.check_recipe_files({**recipe, "data": {"file": path}}, db)
        assert exc.value.issues[0].path == "data.file"
    (tmp_path / "link.csv").symlink_to("/etc/passwd")
    monkeypatch.setenv("AI_STUDIO_DATA_ROOTS", str(tmp_path))
    with pytest.raises(InvalidInput):  # a symlink out of a data root
        api.check_recipe_files({**recipe, "data": {"file": str(tmp_path / "link.csv")}}, db)
    (tmp_path / "plant.csv").write_text("a\n1\n", encoding="utf-8")
    assert api.check_recipe_files({**recipe, "data": {"file": str(tmp_path / "plant.csv")}}, db)


def test_a_user_changes_their_own_password_with_the_current_one(db):
    api.add_user(ADMIN, "anna", "expert", "a long plant phrase", db=db)
    token = api.login("anna", "a long plant phrase", db=db).token
    anna = api.whoami(token, db=db)
    with pytest.raises(api.Forbidden, match="current password is wrong"):
        api.change_own_password(anna, "not it at all", "a newer plant phrase", db=db)
    with pytest.raises(InvalidInput, match="at least 8"):
        api.change_own_password(anna, "a long plant phrase", "short", db=db)
    api.change_own_password(anna, "a long plant phrase", "a newer plant phrase", db=db)
    with pytest.raises(api.NotAuthenticated):
        api.whoami(token, db=db)  # every session ended
    anna = api.whoami(api.login("anna", "a newer plant phrase", db=db).token, db=db)
    with pytest.raises(api.Forbidden):  # another user's password needs an administrator
        api.set_user_password(anna, "root", "whatever long phrase", db=db)


def test_a_principal_whose_session_ended_can_no_longer_act(db):
    """A page drawn before the user was disabled (or logged out elsewhere) cannot act after it."""
    api.add_user(ADMIN, "eve", "expert", "expert pass phrase", db=db)
    eve = api.whoami(api.login("eve", "expert pass phrase", db=db).token, db=db)
    api.authorize(eve, "runs.start", db=db)
    api.disable_user(ADMIN, "eve", db=db)
    with pytest.raises(api.NotAuthenticated, match="session has ended"):
        api.authorize(eve, "runs.start", db=db)
    key = api.create_api_key(ADMIN, "eve", "script", db=db)
    api.disable_user(ADMIN, "eve", False, db=db)
    mes = api.whoami(api_key=key["key"], db=db)
    api.authorize(mes, "runs.start", db=db)
    api.revoke_api_key(ADMIN, key["key_id"], db=db)
    with pytest.raises(api.NotAuthenticated):
        api.authorize(mes, "runs.start", db=db)
