"""The audit trail: who, when, from where, what, on which object, with which result — refusals included.

Appended through engine.store.accounts (INSERT only, never updated or deleted). `since` accepts an ISO date or
time, or a span back from now: 30m, 12h, 7d.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.service.access import Principal
from engine.store.accounts import Accounts, now

RESULTS = ("ok", "refused", "failed")


def record(accounts: Accounts, who: Principal | str | None, action: str, obj: str | None = None, result: str = "ok",
           detail: str | None = None, *, address: str | None = None, via: str | None = None) -> None:
    """One audit row. `who` is the principal acting, or the name given (a failed login), or None (anonymous)."""
    if isinstance(who, Principal):
        name, address, via = who.name, address or who.address, via or who.via
    else:
        name = who
    accounts.append_audit(name, address, via, action, obj, result, detail[:2000] if detail else None)


def entries(accounts: Accounts, user: str | None = None, since: str | datetime | None = None,
            action: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    rows = accounts.audit(user, parse_since(since), action, limit)
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()} for row in rows]


_SPAN = re.compile(r"^(\d+)\s*([smhd])$")


def parse_since(since: str | datetime | None) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return since
    text = str(since).strip()
    span = _SPAN.match(text)
    if span:
        seconds = int(span.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[span.group(2)]
        return now() - timedelta(seconds=seconds)
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise InvalidInput(Issue(Msg(f"--since '{text}' is not a date or a span", f"--since '{text}' 不是日期或时间跨度"),
                                 hint=Msg("e.g. 2026-12-01, 2026-12-01T08:00, 30m, 12h, 7d",
                                          "例如 2026-12-01、2026-12-01T08:00、30m、12h、7d"))) from None
