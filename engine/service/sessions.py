"""Accounts as the interfaces use them (each call on the data factory `db`): log in and out, who a token or key
belongs to, the first administrator, users and keys, the permission check and the audit trail.
Re-exported by engine.api."""

from __future__ import annotations

from typing import Any

from engine.core.i18n import Msg
from engine.service import audit as _audit, auth as _auth, users as _users
from engine.service.access import Forbidden, Principal, local_principal
from engine.service.policy import authorize as _authorize
from engine.service.tables import catalog
from engine.store.accounts import Accounts

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def accounts(db=None) -> Accounts:
    return Accounts(catalog(db))


def login(name: str, password: str, *, address: str | None = None, via: str = "api", db=None) -> _auth.Session:
    """A session (token shown once) for a correct password; lockout/back-off after repeated failures; audited."""
    return _auth.login(accounts(db), name, password, address=address, via=via)


def logout(token: str, *, address: str | None = None, via: str = "api", db=None) -> bool:
    return _auth.logout(accounts(db), token, address=address, via=via)


def whoami(token: str | None = None, *, api_key: str | None = None, address: str | None = None, via: str = "api",
           db=None) -> Principal:
    """The principal of a session token or an API key; NotAuthenticated (401) otherwise."""
    if api_key:
        return _auth.principal_of_key(accounts(db), api_key, address=address, via=via)
    return _auth.principal_of_token(accounts(db), token, address=address, via=via)


def authorize(principal: Principal, action: str, obj: str | None = None, db=None) -> None:
    """Forbidden (403, audited) unless the principal's role allows `action` (engine/service/access.PERMISSIONS)."""
    _authorize(accounts(db), principal, action, obj)


def audit(who: Principal | str | None, action: str, obj: str | None = None, result: str = "ok",
          detail: str | None = None, *, address: str | None = None, via: str | None = None, db=None) -> None:
    _audit.record(accounts(db), who, action, obj, result, detail, address=address, via=via)


def audit_entries(by: Principal, *, user: str | None = None, since=None, action: str | None = None, limit: int = 500,
                  db=None) -> list[dict[str, Any]]:
    authorize(by, "audit.read", "audit", db)
    return _audit.entries(accounts(db), user, since, action, limit)


def users_exist(db=None, role: str | None = None) -> bool:
    return accounts(db).count_users(role) > 0


def password_problems(password: str, user: str | None = None) -> list[Msg]:
    return _auth.password_problems(password, user)


def setup_first_admin(name: str, password: str, *, address: str | None, via: str = "ui", db=None) -> _auth.Session:
    """Create the first administrator — only while no user exists and only from the server's own machine."""
    if address not in LOOPBACK:
        audit(None, "users.setup", name, "refused", f"from {address}", address=address, via=via, db=db)
        raise Forbidden(Msg("the first administrator can only be created on the server itself",
                            "第一位管理员只能在服务器本机上创建"),
                        Msg("on the server: python -m engine users add NAME --role admin --password-stdin",
                            "在服务器上运行：python -m engine users add 用户名 --role admin --password-stdin"))
    if users_exist(db):
        raise Forbidden(Msg("users exist already: log in", "已经有用户：请登录"))
    add_user(local_principal(via), name, "admin", password, db=db)
    return login(name, password, address=address, via=via, db=db)


def add_user(by: Principal, name: str, role: str, password: str, db=None) -> dict[str, Any]:
    return _users.add_user(accounts(db), by, name, role, password)


def list_users(by: Principal, db=None) -> list[dict[str, Any]]:
    return _users.list_users(accounts(db), by)


def disable_user(by: Principal, name: str, disabled: bool = True, db=None) -> None:
    """Disable (or enable again) a user; disabling ends their sessions at once."""
    _users.set_disabled(accounts(db), by, name, disabled)


def set_user_role(by: Principal, name: str, role: str, db=None) -> None:
    _users.set_role(accounts(db), by, name, role)


def set_user_password(by: Principal, name: str, password: str, db=None) -> None:
    _users.set_password(accounts(db), by, name, password)


def change_own_password(by: Principal, current: str, new: str, db=None) -> None:
    _users.change_own_password(accounts(db), by, current, new)


def create_api_key(by: Principal, user: str, name: str = "", db=None) -> dict[str, Any]:
    """An API key for `user` (the key is in the answer once; only its hash is stored)."""
    return _users.create_key(accounts(db), by, user, name)


def list_api_keys(by: Principal, user: str | None = None, db=None) -> list[dict[str, Any]]:
    return _users.list_keys(accounts(db), by, user)


def revoke_api_key(by: Principal, key_id: str, db=None) -> None:
    _users.revoke_key(accounts(db), by, key_id)


def owners(kind: str, ids: list[str] | None = None, db=None) -> dict[str, str]:
    """{object id: user name} of runs ('run'), trials, recipes, templates, tables."""
    return accounts(db).owners(kind, ids)
