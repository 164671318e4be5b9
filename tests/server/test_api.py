"""The REST API against a real uvicorn server: authentication, roles, runs off the request thread, the same
result.json as the CLI, the audit trail, and the API's own bad-input answers (status + JSON error + the data
factory unchanged)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from engine import api
from tests.conftest import run_cli
from tests.server.conftest import FAST, REPO

pytestmark = pytest.mark.slow
V1 = "/api/v1"


def recipe(**params) -> dict:
    data = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    data["params"].update({**FAST, **params})
    return data


def snapshot(db) -> dict:
    """What must not change when a request is refused (the audit trail may grow: it records the refusal)."""
    accounts = api.accounts(db)
    with api.catalog(db).connect() as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("_studio_runs", "_studio_jobs", "_studio_owners", "_studio_trials", "_studio_api_keys",
                            "_studio_tables")}
    return {"tables": [(t.name, t.rows, t.fingerprint) for t in api.tables(db)], "counts": counts,
            "users": [(u["name"], u["role"], u["disabled"]) for u in accounts.users()],
            "uploads": sorted(p.name for p in api.uploads_dir(db).rglob("*")) if api.uploads_dir(db).exists() else []}


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["message"] and error["zh"] and "Traceback" not in response.text
    if code:
        assert error["code"] == code, error
    return error


def wait(server, run_id: str, headers: dict, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = requests.get(f"{server.url}{V1}/runs/{run_id}", headers=headers).json()
        if status["status"] not in ("queued", "running", "starting"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {status['status']}")


def test_unauthenticated_requests_get_401_and_are_audited(server):
    before = snapshot(server.db)
    for method, path in (("get", "/tables"), ("post", "/runs"), ("get", "/audit"), ("get", "/runs/x/result")):
        error = error_of(getattr(requests, method)(server.url + V1 + path), 401, "unauthenticated")
        assert "log in" in error["hint"]
    error_of(requests.get(server.url + V1 + "/tables", headers={"Authorization": "Bearer forged-token-123"}),
             401, "unauthenticated")
    error_of(requests.get(server.url + V1 + "/tables", headers={"X-API-Key": "ais_abc_forged"}), 401)
    assert snapshot(server.db) == before
    refused = api.audit_entries(api.local_principal(), action="request", db=server.db)
    assert {"request GET /api/v1/tables", "request POST /api/v1/runs", "request GET /api/v1/audit"} <= \
        {r["action"] for r in refused}
    assert all(r["result"] == "refused" and r["address"] == "127.0.0.1" for r in refused)


def test_wrong_password_is_401_and_logout_ends_the_session(server):
    r = requests.post(server.url + V1 + "/auth/token", data={"username": "vic", "password": "not it at all"})
    assert error_of(r, 401)["message"] == "wrong user name or password"
    headers = server.as_("vic")
    assert requests.get(server.url + V1 + "/me", headers=headers).json()["role"] == "viewer"
    assert requests.post(server.url + V1 + "/auth/logout", headers=headers).json() == {"ended": True}
    error_of(requests.get(server.url + V1 + "/me", headers=headers), 401)


def test_changing_ones_password_ends_the_sessions(server):
    from tests.server.conftest import PASSWORDS

    headers = server.as_("erin")
    url = server.url + V1 + "/me/password"
    error_of(requests.post(url, json={"current": "wrong one here", "new": "x"}, headers=headers), 403)
    error_of(requests.post(url, json={"current": PASSWORDS["erin"], "new": "short"}, headers=headers), 422)
    error_of(requests.post(url, json={"new": "only the new"}, headers=headers), 422)
    ok = requests.post(url, json={"current": PASSWORDS["erin"], "new": "a renewed phrase 2"}, headers=headers)
    assert ok.status_code == 200, ok.text
    error_of(requests.get(server.url + V1 + "/me", headers=headers), 401)
    back = requests.post(url, json={"current": "a renewed phrase 2", "new": PASSWORDS["erin"]},
                         headers={"Authorization": "Bearer " + requests.post(
                             server.url + V1 + "/auth/token", data={"username": "erin", "password": "a renewed phrase 2"}
                         ).json()["access_token"]})
    assert back.status_code == 200, back.text


def test_an_expired_token_is_refused(server, monkeypatch):
    monkeypatch.setenv("AI_STUDIO_SESSION_HOURS", str(0.5 / 3600))  # half a second
    session = api.login("vic", "viewer pass phrase 1", address="127.0.0.1", db=server.db)
    time.sleep(0.8)
    error = error_of(requests.get(server.url + V1 + "/tables", headers={"Authorization": f"Bearer {session.token}"}), 401)
    assert "expired" in error["message"]


def test_a_viewer_reads_but_may_not_run(server):
    headers = server.as_("vic")
    assert "concrete" in [t["name"] for t in requests.get(server.url + V1 + "/tables", headers=headers).json()]
    assert "quick_model" in [t["id"] for t in requests.get(server.url + V1 + "/templates", headers=headers).json()]
    before = snapshot(server.db)
    error = error_of(requests.post(server.url + V1 + "/runs", json=recipe(), headers=headers), 403, "forbidden")
    assert "runs.start" in error["message"] and "viewer" in error["message"]
    error_of(requests.get(server.url + V1 + "/audit", headers=headers), 403)
    assert snapshot(server.db) == before
    refusals = [r for r in api.audit_entries(api.local_principal(), user="vic", db=server.db) if r["result"] == "refused"]
    assert {"runs.start", "audit.read"} <= {r["action"] for r in refusals}


def test_a_run_through_the_api_gives_the_cli_result(server, tmp_path):
    key = api.create_api_key(api.local_principal(), "eve", "mes-line3", db=server.db)["key"]
    headers = {"X-API-Key": key}
    r = requests.post(server.url + V1 + "/runs", json=recipe(), headers=headers)
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    status = wait(server, run_id, headers)
    assert status["status"] == "succeeded" and status["user"] == "eve", status
    assert status["steps"] and all(s["status"] in ("done", "cached") for s in status["steps"])
    via_api = requests.get(f"{server.url}{V1}/runs/{run_id}/result", headers=headers).json()

    path = tmp_path / "recipe.yaml"
    path.write_text(api.recipe_yaml(recipe()), encoding="utf-8")
    done = run_cli("run", str(path), "--out", str(tmp_path / "out"), "--quiet", env={"AI_STUDIO_HOME": str(server.home)})
    assert done.returncode == 0, done.stderr
    via_cli = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    differ = {"run_id", "timings", "run_dir", "user", "recipe", "created_at"}
    assert {k: v for k, v in via_api.items() if k not in differ} == {k: v for k, v in via_cli.items() if k not in differ}
    assert via_api["recipe"]["content"] == via_cli["recipe"]["content"]
    assert via_api["user"] == "eve" and via_cli["user"].startswith("cli:")

    html = requests.get(f"{server.url}{V1}/runs/{run_id}/report?format=html&lang=zh", headers=headers)
    assert html.status_code == 200 and "<html" in html.text[:500].lower()
    listed = {r["run_id"]: r for r in requests.get(server.url + V1 + "/runs", headers=headers).json()}
    assert listed[run_id]["user"] == "eve"
    trial = requests.post(server.url + V1 + "/trials", headers=headers,
                          json={"run_id": run_id, "settings": {}, "outcome": 50.0, "note": "line 3"})
    assert trial.status_code == 201 and trial.json()["user"] == "eve", trial.text
    audit = {(r["action"], r["object"]) for r in api.audit_entries(api.local_principal(), user="eve", db=server.db)}
    assert ("runs.start", f"run:{run_id}") in audit and ("trials.log", f"trial:{trial.json()['trial_id']}") in audit


def test_two_users_and_the_cli_run_at_once_and_a_run_can_be_cancelled(server, tmp_path):
    eve, erin = server.as_("eve"), server.as_("erin")
    slow = recipe(n_estimators=4000, learning_rate=0.01, folds=5)
    first = requests.post(server.url + V1 + "/runs", json=slow, headers=eve).json()["run_id"]
    # the second user's run (its steps cached by the test above when run in order) must not wait behind the first
    second = requests.post(server.url + V1 + "/runs", json=recipe(), headers=erin).json()["run_id"]
    assert wait(server, second, erin)["status"] == "succeeded"  # finished while the slow one still runs
    assert requests.get(f"{server.url}{V1}/runs/{first}", headers=eve).json()["status"] == "running"
    # a third writer process on the same DuckDB file meanwhile: the CLI (short transactions, retried when busy)
    path = tmp_path / "recipe.yaml"
    path.write_text(api.recipe_yaml(recipe()), encoding="utf-8")
    done = run_cli("run", str(path), "--quiet", env={"AI_STUDIO_HOME": str(server.home)})
    assert done.returncode == 0, done.stderr
    assert requests.get(f"{server.url}{V1}/runs/{first}", headers=eve).json()["status"] == "running"
    before = snapshot(server.db)
    error_of(requests.delete(f"{server.url}{V1}/runs/{first}", headers=erin), 403)  # another user's run
    assert snapshot(server.db) == before
    assert requests.delete(f"{server.url}{V1}/runs/{first}", headers=eve).status_code == 200
    assert wait(server, first, eve, 120)["status"] == "cancelled"
    error_of(requests.get(f"{server.url}{V1}/runs/nope-123/result", headers=eve), 404, "not_found")


@pytest.mark.parametrize("case", ["malformed_json", "unknown_keys", "wrong_content_type", "not_an_object",
                                  "etc_passwd", "dot_dot", "sql_reads_users"])
def test_a_bad_run_request_is_refused_and_changes_nothing(server, case):
    headers = server.as_("eve")
    url = server.url + V1 + "/runs"
    before = snapshot(server.db)
    if case == "malformed_json":
        error = error_of(requests.post(url, data=b'{"template": "quick_model",', headers={
            **headers, "Content-Type": "application/json"}), 400, "malformed_json")
        assert "line 1" in error["message"]
    elif case == "unknown_keys":
        error = error_of(requests.post(url, json={**recipe(), "colour": "red"}, headers=headers), 422, "invalid_input")
        assert error["key"] == "colour"
    elif case == "wrong_content_type":
        error_of(requests.post(url, data=json.dumps(recipe()), headers={**headers, "Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    elif case == "not_an_object":
        error_of(requests.post(url, json=[1, 2], headers=headers), 422)
    elif case in ("etc_passwd", "dot_dot"):
        path = "/etc/passwd" if case == "etc_passwd" else "../../etc/passwd"
        error = error_of(requests.post(url, json={**recipe(), "data": {"file": path}}, headers=headers), 422)
        assert error["key"] == "data.file" and "outside the folders" in error["message"]
    else:
        error = error_of(requests.post(url, json={**recipe(), "data": {"sql": "SELECT * FROM _studio_users"}},
                                       headers=headers), 422)
        assert "_studio_users" in error["message"] and error["key"] == "data.sql"
    assert snapshot(server.db) == before


def test_uploads_size_type_and_conflicts(server):
    headers = server.as_("eve")
    url = server.url + V1 + "/tables"
    csv = (REPO / "data" / "demo" / "concrete.csv").read_bytes()
    r = requests.post(url, files={"file": ("mix.csv", csv, "text/csv")}, data={"name": "mix_api"}, headers=headers)
    assert r.status_code == 201 and r.json()["rows"] == 1030, r.text
    assert {t["name"]: t["user"] for t in requests.get(url, headers=headers).json()}["mix_api"] == "eve"
    before = snapshot(server.db)
    error_of(requests.post(url, files={"file": ("mix.csv", csv, "text/csv")}, data={"name": "mix_api"}, headers=headers),
             409, "conflict")
    big = b"a,b\n" + b"1,2\n" * 300_000  # 1.2 MB > the 1 MB limit this server runs with
    error = error_of(requests.post(url, files={"file": ("big.csv", big, "text/csv")}, data={"name": "big"},
                                   headers=headers), 413, "payload_too_large")
    assert "1 MB" in error["message"]
    boundary = "studio-test"

    def chunked():  # no Content-Length: counted while it arrives, cut off at the limit
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nbig\r\n--{boundary}\r\n'
               f'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\na,b\r\n').encode()
        for _ in range(300):
            yield b"1,2\n" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()
    error_of(requests.post(url, data=chunked(), headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}),
             413, "payload_too_large")
    error_of(requests.post(url, files={"file": ("run.sh", b"rm -rf /", "text/x-sh")}, data={"name": "x"},
                           headers=headers), 415)
    error_of(requests.post(url, data={"name": "x"}, headers=headers), 422)  # no file at all
    error_of(requests.post(url, files={"file": ("m.csv", csv, "text/csv")}, data={"name": "v"},
                           headers=server.as_("vic")), 403)
    assert snapshot(server.db) == before


def test_another_users_key_is_not_theirs_to_revoke(server):
    key = api.create_api_key(api.local_principal(), "erin", "erin-script", db=server.db)
    before = snapshot(server.db)
    error_of(requests.delete(f"{server.url}{V1}/keys/{key['key_id']}", headers=server.as_("eve")), 404)
    assert snapshot(server.db) == before
    assert [k["key_id"] for k in requests.get(server.url + V1 + "/keys", headers=server.as_("erin")).json()] == \
        [key["key_id"]]


def test_the_admin_reads_the_audit_trail_and_an_expert_scores_new_rows(server):
    requests.post(server.url + V1 + "/auth/token", data={"username": "ned", "password": "not the one"})  # failed
    requests.get(server.url + V1 + "/audit", headers=server.as_("ned"))  # refused
    headers = server.as_("ada")
    rows = requests.get(server.url + V1 + "/audit?since=1h", headers=headers).json()
    assert {"login", "users.add"} <= {r["action"] for r in rows}
    assert any(r["result"] == "refused" for r in rows) and any(r["result"] == "failed" for r in rows)
    done = [r for r in requests.get(server.url + V1 + "/runs", headers=headers).json() if r["status"] == "succeeded"]
    if not done:  # this test alone: a run of its own
        done = [api.run_recipe(recipe(), db=server.db)]
    rows = (REPO / "data" / "demo" / "concrete.csv").read_text(encoding="utf-8").splitlines()[:6]
    new = "\n".join(rows).encode("utf-8")
    eve = server.as_("eve")
    scored = requests.post(f"{server.url}{V1}/runs/{done[-1]['run_id']}/score", headers=eve,
                           files={"file": ("new.csv", new, "text/csv")})
    assert scored.status_code == 200, scored.text[:500]
    assert scored.json()["rows"] == 5 and len(scored.json()["predictions"]) == 5
    error_of(requests.post(f"{server.url}{V1}/runs/{done[-1]['run_id']}/score", headers=server.as_("vic"),
                           files={"file": ("new.csv", new, "text/csv")}), 403)
    audit = api.audit_entries(api.local_principal(), action="runs.score", db=server.db)
    assert [(r["user_name"], r["result"]) for r in audit[:2]] == [("vic", "refused"), ("eve", "ok")]
    spec = requests.get(server.url + V1 + "/openapi.json").json()
    assert {"/api/v1/auth/token", "/api/v1/runs", "/api/v1/runs/{run_id}/report", "/api/v1/audit"} <= set(spec["paths"])
    assert "Recipe" in spec["components"]["schemas"]
    assert requests.get(server.url + V1 + "/docs").status_code == 200
