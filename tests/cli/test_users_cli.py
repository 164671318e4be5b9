"""python -m engine users | keys | audit | serve | bind-check (in process through engine.cli.main.main, as the
subprocess would run it; one real subprocess checks `serve` refuses before it listens)."""

from __future__ import annotations

import io
import sys

from engine.cli.main import main
from tests.conftest import run_cli


def cli(capsys, monkeypatch, *args, stdin: str = ""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_keys_and_audit_from_the_command_line(studio_home, capsys, monkeypatch):
    code, out, err = cli(capsys, monkeypatch, "users", "add", "anna", "--role", "admin", "--password-stdin",
                         stdin="a long plant phrase\n")
    assert code == 0 and "added anna (admin)" in out, err
    code, _, err = cli(capsys, monkeypatch, "users", "add", "bob", "--role", "viewer", "--password-stdin",
                       stdin="12345678\n")
    assert code == 2 and "most common" in err
    code, _, err = cli(capsys, monkeypatch, "users", "add", "bob", "--password-stdin", stdin="x\n")
    assert code == 2 and "needs --role" in err
    code, _, err = cli(capsys, monkeypatch, "users", "add", "bob", "--role", "expert")  # stdin is no terminal
    assert code == 2 and "--password-stdin" in err
    assert cli(capsys, monkeypatch, "users", "add", "bob", "--role", "expert", "--password-stdin",
               stdin="bob plant phrase\n")[0] == 0
    assert cli(capsys, monkeypatch, "users", "role", "bob", "--role", "viewer")[0] == 0
    assert cli(capsys, monkeypatch, "users", "passwd", "bob", "--password-stdin", stdin="bob newer phrase\n")[0] == 0
    assert cli(capsys, monkeypatch, "users", "disable", "bob")[0] == 0
    listed = cli(capsys, monkeypatch, "users", "list")[1]
    assert "anna" in listed and "bob" in listed and "disabled" in listed and "viewer" in listed
    code, _, err = cli(capsys, monkeypatch, "users", "disable", "nobody")
    assert code == 2 and "no user 'nobody'" in err
    code, _, err = cli(capsys, monkeypatch, "users", "disable", "anna")
    assert code == 2 and "last administrator" in err
    code, out, err = cli(capsys, monkeypatch, "keys", "create", "--user", "anna", "--name", "mes-line3")
    assert code == 0 and out.startswith("ais_") and "shown only now" in err
    key_id = out.split("_")[1]
    assert "mes-line3" in cli(capsys, monkeypatch, "keys", "list")[1]
    assert cli(capsys, monkeypatch, "keys", "revoke", key_id)[0] == 0
    assert "revoked" in cli(capsys, monkeypatch, "keys", "list")[1]
    code, out, _ = cli(capsys, monkeypatch, "audit", "--since", "1h")
    assert code == 0
    for action in ("users.add", "users.role", "users.passwd", "users.disable", "keys.create", "keys.revoke"):
        assert action in out
    assert "anna" not in cli(capsys, monkeypatch, "audit", "--user", "nobody")[1]
    code, _, err = cli(capsys, monkeypatch, "audit", "--since", "last week")
    assert code == 2 and "not a date or a span" in err


def test_serving_beyond_this_machine_needs_an_administrator(studio_home, capsys, monkeypatch):
    refused = run_cli("serve", "--host", "0.0.0.0", "--port", "1", env={"AI_STUDIO_HOME": str(studio_home)})
    assert refused.returncode == 2
    assert "no administrator exists" in refused.stderr and "users add NAME --role admin" in refused.stderr
    assert cli(capsys, monkeypatch, "bind-check", "127.0.0.1")[0] == 0
    assert cli(capsys, monkeypatch, "bind-check", "0.0.0.0")[0] == 2
    cli(capsys, monkeypatch, "users", "add", "anna", "--role", "admin", "--password-stdin", stdin="a long plant phrase\n")
    assert cli(capsys, monkeypatch, "bind-check", "0.0.0.0")[0] == 0
