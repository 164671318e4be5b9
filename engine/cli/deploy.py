"""Command line for a plant installation: users | keys | audit | serve | bind-check.

The local CLI acts as the server's own administrator (cli:<login>): whoever can open the data-factory file holds
everything in it anyway. Every change is audited.
"""

from __future__ import annotations

import getpass
import json
import sys

from engine import api
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _password(args, name: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():
        raise InvalidInput(Issue(Msg("no password: pipe it with --password-stdin", "没有密码：请用 --password-stdin 从标准输入传入"),
                                 hint=Msg(f"printf '%s\\n' \"$PASSWORD\" | python -m engine users add {name} --role ROLE "
                                          "--password-stdin", "例如 printf '%s\\n' \"$PASSWORD\" | python -m engine users add "
                                          f"{name} --role 角色 --password-stdin")))
    first = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput(Issue(Msg("the two passwords differ", "两次输入的密码不同")))
    return first


def cmd_users(args) -> int:
    me = api.local_principal()
    if args.action == "add":
        user = api.add_user(me, args.name, args.role, _password(args, args.name), db=args.db)
        print(f"added {user['name']} ({user['role']})")
    elif args.action == "list":
        rows = api.list_users(me, db=args.db)
        if args.json:
            print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        for u in [] if args.json else rows:
            state = "disabled" if u["disabled"] else ("locked" if u["locked_until"] else "active")
            print(f"{u['name']:<24} {u['role']:<9} {state:<9} created {u['created_at']:%Y-%m-%d} by {u['created_by']}")
    elif args.action in ("disable", "enable"):
        api.disable_user(me, args.name, args.action == "disable", db=args.db)
        print(f"{args.name} {args.action}d" + (" (sessions ended)" if args.action == "disable" else ""))
    elif args.action == "role":
        api.set_user_role(me, args.name, args.role, db=args.db)
        print(f"{args.name} is now {args.role} (sessions ended)")
    elif args.action == "passwd":
        api.set_user_password(me, args.name, _password(args, args.name), db=args.db)
        print(f"password of {args.name} changed (sessions ended)")
    return 0


def cmd_keys(args) -> int:
    me = api.local_principal()
    if args.action == "create":
        if not args.user:
            raise InvalidInput(Issue(Msg("whose key? --user NAME", "给谁的密钥？请用 --user 用户名")))
        key = api.create_api_key(me, args.user, args.name or "", db=args.db)
        print(key["key"])
        print(f"API key {key['key_id']} for {key['user']} — shown only now; send it as the X-API-Key header",
              file=sys.stderr)
    elif args.action == "list":
        for k in api.list_api_keys(me, args.user, db=args.db):
            state = f"revoked {k['revoked_at']:%Y-%m-%d}" if k["revoked_at"] else "active"
            print(f"{k['key_id']}  {k['user_name']:<20} {k['name'] or '-':<16} {state}")
    else:
        api.revoke_api_key(me, args.key_id, db=args.db)
        print(f"revoked {args.key_id}")
    return 0


def cmd_audit(args) -> int:
    rows = api.audit_entries(api.local_principal(), user=args.user, since=args.since, action=args.action,
                             limit=args.limit, db=args.db)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in reversed(rows):
        print(f"{r['at_time'][:19]}  {r['user_name'] or '-':<16} {r['via'] or '-':<4} {r['address'] or '-':<15} "
              f"{r['action']:<22} {r['object'] or '-':<28} {r['result']:<8} {r['detail'] or ''}")
    return 0


def check_bind(host: str, db=None) -> None:
    """Refuse to listen beyond this machine while no administrator exists (anyone reaching it first would
    otherwise meet an open studio)."""
    if host in LOOPBACK or api.users_exist(db, "admin"):
        return
    raise InvalidInput(Issue(Msg(f"refusing to listen on {host}: no administrator exists yet",
                                 f"拒绝在 {host} 上监听：还没有管理员"),
                             hint=Msg("create one first: python -m engine users add NAME --role admin --password-stdin",
                                      "请先创建一位：python -m engine users add 用户名 --role admin --password-stdin")))


def cmd_bind_check(args) -> int:
    check_bind(args.host, args.db)
    return 0


def cmd_serve(args) -> int:
    check_bind(args.host, args.db)
    import os

    import uvicorn

    if args.db:  # the app factory reads the data factory from the environment, as every command does
        os.environ["AI_STUDIO_DB"] = str(args.db)
    print(f"AI Studio API on http://{args.host}:{args.port}/api/v1 (docs: /api/v1/docs)", file=sys.stderr, flush=True)
    uvicorn.run("engine.server.app:create_app", factory=True, host=args.host, port=args.port, log_level=args.log_level,
                proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips, server_header=False)
    return 0


def add_commands(add) -> None:
    p = add("users", help="users and roles: add NAME --role ROLE --password-stdin | list | disable | enable | role | passwd")
    p.add_argument("action", choices=["add", "list", "disable", "enable", "role", "passwd"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=list(api.ROLES))
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=_needs_name(cmd_users))
    p = add("keys", help="API keys: create --user NAME [--name LABEL] | list [--user NAME] | revoke KEY_ID")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("key_id", nargs="?")
    p.add_argument("--user")
    p.add_argument("--name", dest="name", help="a label, e.g. mes-line3")
    p.set_defaults(fn=cmd_keys)
    p = add("audit", help="the audit trail (oldest first): [--user NAME] [--since 2026-12-01|12h|7d] [--action PREFIX]")
    p.add_argument("--user")
    p.add_argument("--since")
    p.add_argument("--action")
    p.add_argument("--limit", type=int, default=500)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_audit)
    p = add("serve", help="the REST API (FastAPI + uvicorn): --host 127.0.0.1 --port 8000")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="reverse proxies whose X-Forwarded-For is trusted (the client address in the audit trail)")
    p.set_defaults(fn=cmd_serve)
    p = add("bind-check", help="exit 2 when HOST is not loopback and no administrator exists (scripts/studio.sh)")
    p.add_argument("host")
    p.set_defaults(fn=cmd_bind_check)


def _needs_name(fn):
    def run(args) -> int:
        if args.action != "list" and not args.name:
            raise InvalidInput(Issue(Msg(f"users {args.action} needs a user name", f"users {args.action} 需要用户名")))
        if args.action in ("add", "role") and not args.role:
            raise InvalidInput(Issue(Msg(f"users {args.action} needs --role ({', '.join(api.ROLES)})",
                                         f"users {args.action} 需要 --role（{', '.join(api.ROLES)}）")))
        return fn(args)
    return run
