"""Who may do what: the roles, the one permission table, the principal acting, and the refusals.

The studio's pages, the REST API and the CLI all ask `authorize(principal, action)` before acting, so they cannot
disagree. Roles are cumulative: viewer ⊂ expert ⊂ engineer ⊂ admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.errors import StudioError
from engine.core.i18n import Msg

ROLES = ("viewer", "expert", "engineer", "admin")
ROLE_LABELS = {"viewer": Msg("viewer", "查看者"), "expert": Msg("process expert", "工艺专家"),
               "engineer": Msg("model engineer", "模型工程师"), "admin": Msg("administrator", "管理员")}

# action -> the least role allowed to do it (the ONE table every interface uses)
PERMISSIONS: dict[str, str] = {
    "tables.read": "viewer",       # list tables, preview, profiles
    "templates.read": "viewer",
    "runs.read": "viewer",         # run list, status, result.json
    "reports.read": "viewer",
    "trials.read": "viewer",
    "whatif": "viewer",            # re-predict with a finished run's model (reads only)
    "tables.write": "expert",      # ingest, append, derive
    "runs.start": "expert",
    "runs.cancel": "expert",       # own runs; admins any run
    "runs.score": "expert",
    "recipes.save": "expert",
    "trials.log": "expert",
    "monitor.manage": "expert",    # save a monitor, acknowledge alerts, retrain from the monitor
    "templates.save": "engineer",  # Template Studio save, template save
    "templates.dry_run": "engineer",
    "keys.own": "viewer",          # list / revoke one's own API keys
    "users.manage": "admin",       # add, disable, change role, reset password
    "keys.manage": "admin",        # create keys for any user, revoke any key
    "audit.read": "admin",
}


@dataclass(frozen=True)
class Principal:
    """Who acts: a user (with role), through which interface (ui, api, cli), from which address."""

    name: str
    role: str
    via: str = "api"
    address: str | None = None
    session: str | None = None  # the session token's hash, or "key:<id>" for an API key

    def can(self, action: str) -> bool:
        return allowed(self.role, action)


def allowed(role: str | None, action: str) -> bool:
    least = PERMISSIONS.get(action)
    if least is None:
        raise KeyError(f"unknown action '{action}' (add it to PERMISSIONS)")
    return role in ROLES and ROLES.index(role) >= ROLES.index(least)


def least_role(action: str) -> str:
    return PERMISSIONS[action]


def local_principal(via: str = "cli") -> Principal:
    """The operating-system user at the server's own console: whoever can open the data-factory file already
    holds everything in it, so the local CLI acts as an administrator (and is audited as cli:<login>)."""
    import getpass

    try:
        login = getpass.getuser()
    except Exception:  # noqa: BLE001 — no login name (containers): still audited
        login = "unknown"
    return Principal(f"cli:{login}", "admin", via, "local")


class AccessError(StudioError):
    """A request the studio refuses for who is asking (HTTP status in `status`)."""

    status = 403
    code = "forbidden"

    def __init__(self, message: Msg, hint: Msg | None = None, key: str | None = None):
        super().__init__(message)
        self.hint, self.key = hint, key


class NotAuthenticated(AccessError):
    status, code = 401, "unauthenticated"


class Forbidden(AccessError):
    status, code = 403, "forbidden"


class TooManyAttempts(AccessError):
    status, code = 429, "too_many_attempts"

    def __init__(self, message: Msg, retry_after: int, hint: Msg | None = None):
        super().__init__(message, hint)
        self.retry_after = retry_after


class NotFound(AccessError):
    status, code = 404, "not_found"


class Conflict(AccessError):
    status, code = 409, "conflict"


def forbidden(principal: Principal, action: str) -> Forbidden:
    need = ROLE_LABELS[least_role(action)]
    have = ROLE_LABELS.get(principal.role, Msg(principal.role))
    return Forbidden(Msg(f"{principal.name} ({have}) may not do '{action}': it needs the role {need} or higher",
                         f"{principal.name}（{have.zh}）无权执行 '{action}'：需要{need.zh}或更高的角色"),
                     Msg("ask an administrator for that role", "请向管理员申请该角色"))
