"""A real uvicorn server (`python -m engine serve`) on a random port over its own studio home, with one user per
role; stopped at the end of the module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {"ada": "admin pass phrase 1", "eve": "expert pass phrase 1", "erin": "expert pass phrase 2",
             "ned": "engineer pass phrase", "vic": "viewer pass phrase 1"}
ROLES = {"ada": "admin", "eve": "expert", "erin": "expert", "ned": "engineer", "vic": "viewer"}
FAST = {"n_estimators": 40, "n_samples": 200, "folds": 3}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    home: Path
    db: Path
    proc: subprocess.Popen

    def token(self, user: str) -> str:
        r = requests.post(self.url + "/api/v1/auth/token", data={"username": user, "password": PASSWORDS[user]})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def as_(self, user: str) -> dict:
        return {"Authorization": f"Bearer {self.token(user)}"}


def start_server(home: Path, env_extra: dict | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "AI_STUDIO_HOME": str(home), "AI_STUDIO_MAX_UPLOAD_MB": "1", **(env_extra or {})}
    env.pop("AI_STUDIO_DB", None)
    proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return Server(url, home, home / "studio.duckdb", proc)
        except requests.ConnectionError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("the API server did not start: " + proc.stderr.read().decode()[-3000:])


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(15)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from engine import api

    home = tmp_path_factory.mktemp("api_home")
    db = home / "studio.duckdb"
    api.ensure_demo(db)
    me = api.local_principal()
    for name, role in ROLES.items():
        api.add_user(me, name, role, PASSWORDS[name], db=db)
    srv = start_server(home)
    yield srv
    stop_server(srv)
