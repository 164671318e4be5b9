"""Users and roles, kept in the data factory: add, list, disable/enable, change role, set password, API keys.

Each change is checked (`users.manage`) and audited; a password, role or disabled change ends the user's
sessions. The last enabled administrator cannot be disabled or demoted.
"""

from __future__ import annotations

import re
from typing import Any

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.service import audit, auth
from engine.service.access import ROLES, Conflict, Forbidden, NotFound, Principal
from engine.service.policy import authorize, authorize_owner
from engine.store.accounts import Accounts

NAME = re.compile(r"^[\w.@-]{1,64}$", re.UNICODE)


def _check_name(name: str) -> None:
    if not NAME.match(name or "") or name.startswith("cli:"):
        raise InvalidInput(Issue(Msg(f"user name '{name}' is not allowed", f"用户名 '{name}' 不合规"), path="name",
                                 hint=Msg("1–64 letters, digits, '.', '_', '@' or '-'", "1–64 个字母、数字或 . _ @ -")))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(Issue(Msg(f"unknown role '{role}'", f"未知的角色 '{role}'"), path="role",
                                 hint=Msg(f"roles: {', '.join(ROLES)}", f"可用角色：{', '.join(ROLES)}")))


def check_password(password: str, user: str | None = None) -> None:
    problems = auth.password_problems(password, user)
    if problems:
        raise InvalidInput([Issue(p, path="password", hint=Msg("a longer phrase of several words is easy to remember",
                                                               "由几个词组成的较长短语既安全又好记")) for p in problems])


def _existing(accounts: Accounts, name: str) -> dict[str, Any]:
    user = accounts.user(name)
    if user is None:
        known = ", ".join(u["name"] for u in accounts.users()) or "(none)"
        raise NotFound(Msg(f"no user '{name}'", f"没有用户 '{name}'"), Msg(f"users: {known}", f"现有用户：{known}"))
    return user


def add_user(accounts: Accounts, by: Principal, name: str, role: str, password: str) -> dict[str, Any]:
    authorize(accounts, by, "users.manage", name)
    _check_name(name)
    _check_role(role)
    check_password(password, name)
    if accounts.user(name) is not None:
        raise Conflict(Msg(f"user '{name}' already exists", f"用户 '{name}' 已存在"),
                       Msg("change it with: users role / users passwd", "请用 users role / users passwd 修改"))
    accounts.insert_user(name, role, auth.hash_password(password), by.name)
    audit.record(accounts, by, "users.add", name, "ok", f"role {role}")
    return {"name": name, "role": role}


def list_users(accounts: Accounts, by: Principal) -> list[dict[str, Any]]:
    authorize(accounts, by, "users.manage")
    return accounts.users()


def _keep_an_admin(accounts: Accounts, user: dict[str, Any]) -> None:
    if user["role"] == "admin" and not user["disabled"] and accounts.count_users("admin") <= 1:
        raise Conflict(Msg(f"{user['name']} is the last administrator", f"{user['name']} 是最后一位管理员"),
                       Msg("add another administrator first", "请先添加另一位管理员"))


def set_disabled(accounts: Accounts, by: Principal, name: str, disabled: bool = True) -> None:
    authorize(accounts, by, "users.manage", name)
    user = _existing(accounts, name)
    if disabled:
        _keep_an_admin(accounts, user)
    accounts.update_user(name, disabled=disabled)
    audit.record(accounts, by, "users.disable" if disabled else "users.enable", name, "ok")


def set_role(accounts: Accounts, by: Principal, name: str, role: str) -> None:
    authorize(accounts, by, "users.manage", name)
    _check_role(role)
    user = _existing(accounts, name)
    if role != "admin":
        _keep_an_admin(accounts, user)
    accounts.update_user(name, role=role)
    audit.record(accounts, by, "users.role", name, "ok", f"{user['role']} -> {role}")


def set_password(accounts: Accounts, by: Principal, name: str, password: str) -> None:
    """An administrator sets anyone's password; a user may set their own."""
    if by.name != name:
        authorize(accounts, by, "users.manage", name)
    _existing(accounts, name)
    check_password(password, name)
    accounts.update_user(name, password_hash=auth.hash_password(password), failed_count=0, locked_until=None)
    audit.record(accounts, by, "users.passwd", name, "ok")


def change_own_password(accounts: Accounts, by: Principal, current: str, new: str) -> None:
    """A user changes their own password: the current one first (then every session of theirs ends)."""
    user = _existing(accounts, by.name)
    if not auth.verify_password(current, user["password_hash"]):
        audit.record(accounts, by, "users.passwd", by.name, "refused", "wrong current password")
        raise Forbidden(Msg("the current password is wrong", "当前密码不正确"))
    set_password(accounts, by, by.name, new)


def create_key(accounts: Accounts, by: Principal, user: str, name: str = "") -> dict[str, Any]:
    authorize(accounts, by, "keys.manage", user)
    _existing(accounts, user)
    key_id, key = auth.create_key(accounts, user, name or "", by.name)
    audit.record(accounts, by, "keys.create", f"key:{key_id}", "ok", f"for {user} {name}".strip())
    return {"key_id": key_id, "user": user, "name": name, "key": key}


def list_keys(accounts: Accounts, by: Principal, user: str | None = None) -> list[dict[str, Any]]:
    """One's own keys; an administrator may list anyone's (user=None: all)."""
    if by.role == "admin":
        return accounts.keys(user)
    authorize(accounts, by, "keys.own")
    return accounts.keys(by.name)


def revoke_key(accounts: Accounts, by: Principal, key_id: str) -> None:
    row = accounts.key(key_id)
    if row is None or (row["user_name"] != by.name and by.role != "admin"):
        # another user's key is reported as not found: its existence is not disclosed
        audit.record(accounts, by, "keys.revoke", f"key:{key_id}", "refused", "not found or not own")
        raise NotFound(Msg(f"no API key '{key_id}' of yours", f"你没有 API 密钥 '{key_id}'"),
                       Msg("list yours with GET /api/v1/keys", "用 GET /api/v1/keys 查看你的密钥"))
    authorize_owner(accounts, by, "keys.own", f"key:{key_id}", row["user_name"])
    accounts.revoke_key(key_id)
    audit.record(accounts, by, "keys.revoke", f"key:{key_id}", "ok")
