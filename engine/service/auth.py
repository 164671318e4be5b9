"""Passwords, sessions and API keys, as OWASP ASVS level 1 asks.

- Passwords: argon2id hashes (pwdlib), at least 8 characters (up to 128), checked against a bundled list of
  common passwords and the user's own name; no composition rules.
- Lockout with back-off: after 5 failed logins in a row a user is locked for 30 s, doubling with each further
  failure up to 15 min; a correct password resets the count. Unknown names cost the same hash time.
- Sessions: 256-bit random tokens (only their SHA-256 is stored), expiring after AI_STUDIO_SESSION_HOURS
  (default 12); logout ends one, a password/role change or disabling a user ends all of theirs.
- API keys (for the MES): `ais_<id>_<secret>`, 256-bit secret, printed once, stored as SHA-256; revocable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pwdlib import PasswordHash

from engine.core.i18n import Msg
from engine.service import audit
from engine.service.access import NotAuthenticated, Principal, TooManyAttempts
from engine.store.accounts import Accounts, now

MIN_LENGTH, MAX_LENGTH = 8, 128
FREE_FAILURES, FIRST_LOCK_SECONDS, MAX_LOCK_SECONDS = 5, 30, 900
_HASHER = PasswordHash.recommended()
_DUMMY = _HASHER.hash("not-a-real-password-only-for-timing")


def session_hours() -> float:
    return float(os.environ.get("AI_STUDIO_SESSION_HOURS", "12"))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def password_problems(password: str, user: str | None = None) -> list[Msg]:
    """Why a password is refused (empty: accepted). Length and known-weak checks only, no composition rules."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(Msg(f"the password has {len(password)} characters; at least {MIN_LENGTH} are needed",
                            f"密码只有 {len(password)} 个字符，至少需要 {MIN_LENGTH} 个"))
    if len(password) > MAX_LENGTH:
        problems.append(Msg(f"the password is longer than {MAX_LENGTH} characters", f"密码超过 {MAX_LENGTH} 个字符"))
    lowered = password.lower()
    if lowered in common_passwords() or (len(set(password)) == 1 and password):
        problems.append(Msg("this password is among the most common ones and is guessed first",
                            "这个密码属于最常见的密码，会最先被猜到"))
    if user and user.lower() in lowered and len(password) < len(user) + 4:
        problems.append(Msg("the password is (almost) the user name", "密码（几乎）就是用户名"))
    return problems


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored_hash: str) -> bool:
    return _HASHER.verify(password, stored_hash)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Session:
    token: str
    user: str
    role: str
    expires_at: datetime


def login(accounts: Accounts, name: str, password: str, *, address: str | None, via: str) -> Session:
    """A new session for a correct password; every attempt is audited."""
    user = accounts.user(name)
    stamp = now()
    if user and user["locked_until"] and user["locked_until"] > stamp:
        wait = int((user["locked_until"] - stamp).total_seconds()) + 1
        audit.record(accounts, name, "login", name, "refused", f"locked for {wait} s", address=address, via=via)
        raise TooManyAttempts(Msg(f"too many failed logins for {name}: try again in {wait} s",
                                  f"{name} 登录失败次数过多：请 {wait} 秒后再试"), wait,
                              Msg("an administrator can reset the password", "管理员可以重设密码"))
    ok = _HASHER.verify(password, user["password_hash"] if user else _DUMMY)
    if not user or not ok or user["disabled"]:
        if user and not ok:
            failures = (user["failed_count"] or 0) + 1
            lock = None
            if failures >= FREE_FAILURES:
                lock = stamp + timedelta(seconds=min(FIRST_LOCK_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS))
            accounts.update_user(name, failed_count=failures, locked_until=lock)
        reason = "disabled" if user and ok else "wrong name or password"
        audit.record(accounts, name, "login", name, "failed", reason, address=address, via=via)
        raise NotAuthenticated(Msg("wrong user name or password", "用户名或密码错误"))  # same text: names stay secret
    if user["failed_count"]:
        accounts.update_user(name, failed_count=0, locked_until=None)
    token = secrets.token_urlsafe(32)  # 256 bits
    expires = stamp + timedelta(hours=session_hours())
    accounts.insert_session(_digest(token), name, expires, address or "", via)
    audit.record(accounts, name, "login", name, "ok", address=address, via=via)
    return Session(token, name, user["role"], expires)


def principal_of_token(accounts: Accounts, token: str | None, *, address: str | None, via: str) -> Principal:
    """The user a session token belongs to; NotAuthenticated when missing, unknown, ended, expired or disabled."""
    if not token:
        raise NotAuthenticated(Msg("not logged in", "尚未登录"),
                               Msg("log in first (POST /api/v1/auth/token) or send an API key in X-API-Key",
                                   "请先登录（POST /api/v1/auth/token）或在 X-API-Key 中提供 API 密钥"))
    row = accounts.session(_digest(token))
    if row is None:
        raise NotAuthenticated(Msg("the session token is not valid", "会话令牌无效"), Msg("log in again", "请重新登录"))
    if row["ended_at"] is not None or row["disabled"]:
        raise NotAuthenticated(Msg("the session has ended", "会话已结束"), Msg("log in again", "请重新登录"))
    if row["expires_at"] <= now():
        raise NotAuthenticated(Msg("the session has expired", "会话已过期"), Msg("log in again", "请重新登录"))
    return Principal(row["user_name"], row["role"], via, address, _digest(token))


def logout(accounts: Accounts, token: str, *, address: str | None = None, via: str = "api") -> bool:
    row = accounts.session(_digest(token)) if token else None
    ended = bool(row) and accounts.end_session(_digest(token))
    if ended:
        audit.record(accounts, row["user_name"], "logout", row["user_name"], "ok", address=address, via=via)
    return ended


def create_key(accounts: Accounts, user: str, name: str, by: str) -> tuple[str, str]:
    """(key id, the key itself) — the key is shown once; only its SHA-256 is kept."""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    accounts.insert_key(key_id, user, name, _digest(secret), by)
    return key_id, f"ais_{key_id}_{secret}"


def principal_of_key(accounts: Accounts, key: str | None, *, address: str | None, via: str = "api") -> Principal:
    parts = (key or "").split("_", 2)
    row = accounts.key(parts[1]) if len(parts) == 3 and parts[0] == "ais" else None
    if row is None or not hmac.compare_digest(row["key_hash"], _digest(parts[2])):
        raise NotAuthenticated(Msg("the API key is not valid", "API 密钥无效"),
                               Msg("ask an administrator for a key: python -m engine keys create --user NAME",
                                   "请管理员创建密钥：python -m engine keys create --user 用户名"))
    if row["revoked_at"] is not None or row["disabled"]:
        raise NotAuthenticated(Msg("the API key was revoked or its user disabled", "API 密钥已吊销或其用户已停用"))
    return Principal(row["user_name"], row["role"], via, address, f"key:{row['key_id']}")
