"""The check every interface makes before acting: allowed by the permission table, or refused and audited."""

from __future__ import annotations

from engine.service import audit
from engine.service.access import Forbidden, NotAuthenticated, Principal, forbidden
from engine.core.i18n import Msg
from engine.store.accounts import Accounts


def authorize(accounts: Accounts, principal: Principal, action: str, obj: str | None = None) -> None:
    """Raise Forbidden (after auditing the refusal) unless the principal's role allows `action`; NotAuthenticated
    when the principal's session ended meanwhile (logout, disabled user, changed role or password, revoked key),
    so a page drawn before that cannot act after it."""
    if principal.session and not accounts.still_valid(principal.session):
        audit.record(accounts, principal, action, obj, "refused", "session ended")
        raise NotAuthenticated(Msg("your session has ended", "你的会话已结束"), Msg("log in again", "请重新登录"))
    if not principal.can(action):
        audit.record(accounts, principal, action, obj, "refused", f"role {principal.role}")
        raise forbidden(principal, action)


def authorize_owner(accounts: Accounts, principal: Principal, action: str, obj: str, owner: str | None) -> None:
    """`action` on an object that belongs to `owner`: its owner (with the role) or an administrator."""
    authorize(accounts, principal, action, obj)
    if owner is not None and owner != principal.name and principal.role != "admin":
        audit.record(accounts, principal, action, obj, "refused", f"owned by {owner}")
        raise Forbidden(Msg(f"{obj} belongs to {owner}: only its owner or an administrator may do '{action}'",
                            f"{obj} 属于 {owner}：只有它的所有者或管理员可以执行 '{action}'"))
