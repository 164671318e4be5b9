"""python -m engine users | keys | audit | serve | bind-check."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, run_cli


def cli(*args, stdin: str | None = None, home=None):
    env = {"AI_STUDIO_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, env={**__import__("os").environ, **env},
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_users_keys_and_audit_from_the_command_line(studio_home):
    done = cli("users", "add", "anna", "--role", "admin", "--password-stdin", stdin="a long plant phrase\n",
               home=studio_home)
    assert done.returncode == 0 and "added anna (admin)" in done.stdout, done.stderr
    weak = cli("users", "add", "bob", "--role", "viewer", "--password-stdin", stdin="12345678\n", home=studio_home)
    assert weak.returncode == 2 and "most common" in weak.stderr
    no_role = cli("users", "add", "bob", "--password-stdin", stdin="x\n", home=studio_home)
    assert no_role.returncode == 2 and "needs --role" in no_role.stderr
    assert cli("users", "add", "bob", "--role", "expert", "--password-stdin", stdin="bob plant phrase\n",
               home=studio_home).returncode == 0
    assert cli("users", "role", "bob", "--role", "viewer", home=studio_home).returncode == 0
    assert cli("users", "disable", "bob", home=studio_home).returncode == 0
    listed = cli("users", "list", home=studio_home).stdout
    assert "anna" in listed and "bob" in listed and "disabled" in listed and "viewer" in listed
    unknown = cli("users", "disable", "nobody", home=studio_home)
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr
    key = cli("keys", "create", "--user", "anna", "--name", "mes-line3", home=studio_home)
    assert key.returncode == 0 and key.stdout.startswith("ais_") and "shown only now" in key.stderr
    assert "mes-line3" in cli("keys", "list", home=studio_home).stdout
    audit = cli("audit", "--since", "1h", home=studio_home)
    assert audit.returncode == 0
    for action in ("users.add", "users.role", "users.disable", "keys.create"):
        assert action in audit.stdout
    assert "anna" not in cli("audit", "--user", "nobody", home=studio_home).stdout


def test_serving_beyond_this_machine_needs_an_administrator(studio_home):
    refused = run_cli("serve", "--host", "0.0.0.0", "--port", "1", env={"AI_STUDIO_HOME": str(studio_home)})
    assert refused.returncode == 2
    assert "no administrator exists" in refused.stderr and "users add NAME --role admin" in refused.stderr
    assert run_cli("bind-check", "127.0.0.1", env={"AI_STUDIO_HOME": str(studio_home)}).returncode == 0
    assert run_cli("bind-check", "0.0.0.0", env={"AI_STUDIO_HOME": str(studio_home)}).returncode == 2
    cli("users", "add", "anna", "--role", "admin", "--password-stdin", stdin="a long plant phrase\n", home=studio_home)
    assert run_cli("bind-check", "0.0.0.0", env={"AI_STUDIO_HOME": str(studio_home)}).returncode == 0
