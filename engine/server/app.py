"""The REST API, version 1: `create_app(db)` → a FastAPI app; `python -m engine serve` runs it with uvicorn.

Authentication: `Authorization: Bearer TOKEN` (POST /api/v1/auth/token, OAuth2 password form) or `X-API-Key: KEY`
(python -m engine keys create). Every action is checked by engine.api against the one permission table and
audited; errors are JSON (engine/server/errors.py). Runs go to the service's queue (engine/service/jobs.py):
POST /runs answers 202 at once.
"""


import json
import shutil
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer, OAuth2PasswordRequestForm

from engine import api
from engine.core.i18n import Msg
from engine.server import common, errors, limits
from engine.server.common import PREFIX
from engine.server.errors import ApiError

_bearer = OAuth2PasswordBearer(tokenUrl=f"{PREFIX}/auth/token", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


def create_app(db: str | Path | None = None) -> FastAPI:
    app = FastAPI(title="AI Studio API", version="1.0.0", openapi_url=f"{PREFIX}/openapi.json",
                  docs_url=f"{PREFIX}/docs", redoc_url=None,
                  description="Tables, templates, runs, results, reports, scoring, trials and the audit trail of an "
                              "AI Studio data factory. Log in with POST /api/v1/auth/token or send X-API-Key.")
    app.state.db = db
    errors.install(app)
    app.add_middleware(limits.BodyLimit)

    @app.on_event("startup")
    def _resume() -> None:
        api.job_queue(db).resume()

    @app.on_event("shutdown")
    def _stop() -> None:
        api.job_queue(db).shutdown(wait=False)

    _routes(app, db)
    return app


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _principal_dep(db):
    def principal(request: Request, token: Annotated[str | None, Depends(_bearer)],
                  key: Annotated[str | None, Depends(_api_key)]) -> api.Principal:
        try:
            return api.whoami(token, api_key=key, address=_address(request), via="api", db=db)
        except api.NotAuthenticated as exc:
            api.audit(None, f"request {request.method} {request.url.path}", None, "refused", str(exc),
                      address=_address(request), via="api", db=db)
            raise
    return principal






def _routes(app: FastAPI, db) -> None:
    Who = Annotated[api.Principal, Depends(_principal_dep(db))]

    @app.get(f"{PREFIX}/health", tags=["service"])
    def health() -> dict:
        return {"status": "ok"}

    @app.post(f"{PREFIX}/auth/token", tags=["auth"])
    def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
        """OAuth2 password flow: form fields `username`, `password` → a bearer token that expires."""
        session = api.login(form.username, form.password, address=_address(request), via="api", db=db)
        return {"access_token": session.token, "token_type": "bearer", "user": session.user, "role": session.role,
                "expires_at": session.expires_at.isoformat() + "Z"}

    @app.post(f"{PREFIX}/auth/logout", tags=["auth"])
    def logout(request: Request, who: Who, token: Annotated[str | None, Depends(_bearer)]) -> dict:
        return {"ended": bool(token) and api.logout(token, address=_address(request), db=db)}

    @app.get(f"{PREFIX}/me", tags=["auth"])
    def me(who: Who) -> dict:
        return {"user": who.name, "role": who.role,
                "may": sorted(a for a in api.PERMISSIONS if who.can(a))}

    @app.post(f"{PREFIX}/me/password", tags=["auth"])
    async def change_password(request: Request, who: Who) -> dict:
        """Change one's own password: {current, new}. Every session of the user ends (log in again)."""
        data = common.json_object(common.json_body(await request.body(), request.headers.get("content-type")),
                                  "{current, new}")
        if set(data) != {"current", "new"} or not all(isinstance(v, str) for v in data.values()):
            raise ApiError(422, "invalid_input", Msg("send {\"current\": ..., \"new\": ...} (text)",
                                                     "请发送 {\"current\": ..., \"new\": ...}（文本）"), key="new")
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(api.change_own_password, who, data["current"], data["new"], db=db)
        return {"changed": True, "sessions_ended": True}

    @app.get(f"{PREFIX}/tables", tags=["tables"])
    def tables(who: Who) -> list[dict]:
        api.authorize(who, "tables.read", db=db)
        owners = api.owners("table", db=db)
        return [{**t.to_dict(), "source": str(t.source), "warnings": [str(w) for w in t.warnings],
                 "user": owners.get(t.name)} for t in api.tables(db)]

    @app.post(f"{PREFIX}/tables", tags=["tables"], status_code=201)
    def upload_table(request: Request, who: Who, file: Annotated[UploadFile, File()], name: Annotated[str, Form()],
                     append: Annotated[bool, Form()] = False) -> dict:
        """Ingest an uploaded CSV/TSV/Parquet/Excel file as table `name` (append=true: add rows to it)."""
        api.authorize(who, "tables.write", f"table:{name}", db)
        if not append and name.lower() in {t.lower() for t in api.catalog(db).table_names()}:
            raise common.conflict(name)
        path = common.save_upload(file, db)
        try:
            info = api.ingest_as(who, path, name, db=db, options={"mode": "append" if append else "create"})
        except Exception:
            shutil.rmtree(path.parent, ignore_errors=True)  # a refused file is not kept either
            raise
        return {**info.to_dict(), "source": str(info.source), "warnings": [str(w) for w in info.warnings]}

    @app.get(f"{PREFIX}/templates", tags=["templates"])
    def templates(who: Who) -> list[dict]:
        api.authorize(who, "templates.read", db=db)
        lib = api.library()
        return [{"id": t.id, "version": t.version, "scenario": t.scenario, "title": t.title.model_dump(),
                 "description": t.description.model_dump() if t.description else None, "versions": lib.versions(t.id)}
                for t in lib.latest()]

    @app.post(f"{PREFIX}/runs", tags=["runs"], status_code=202, openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Recipe"}}}}})
    async def start_run(request: Request, who: Who) -> JSONResponse:
        """Queue a run of a recipe (JSON, as in the README) → 202 {run_id}; poll GET /runs/{run_id}."""
        recipe = common.json_object(common.json_body(await request.body(), request.headers.get("content-type")), "a recipe")
        from starlette.concurrency import run_in_threadpool

        run_id = await run_in_threadpool(api.submit_run, who, recipe, db=db)
        return JSONResponse({"run_id": run_id, "status": "queued", "status_url": f"{PREFIX}/runs/{run_id}"},
                            status_code=202, headers={"Location": f"{PREFIX}/runs/{run_id}"})

    @app.get(f"{PREFIX}/runs", tags=["runs"])
    def runs(who: Who, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
        api.authorize(who, "runs.read", db=db)
        return [common.plain(r) for r in api.runs(db, limit)]

    @app.get(f"{PREFIX}/runs/{{run_id}}", tags=["runs"])
    def run_status(run_id: str, who: Who) -> dict:
        """Status and progress: queued, running (fraction, current step), succeeded, failed, cancelled."""
        api.authorize(who, "runs.read", f"run:{run_id}", db)
        common.known_run(run_id, db)
        status = api.job_status(run_id, db)
        keep = ("run_id", "status", "user", "template_id", "template_version", "recipe_name", "started_at",
                "finished_at", "seconds", "fraction", "step", "failed_step", "error", "cancel_requested")
        out = {k: common.plain(status.get(k)) for k in keep if k in status}
        out["steps"] = [{k: common.plain(s.get(k)) for k in ("step_id", "op", "status", "cached", "seconds")}
                        for s in status.get("steps") or []]
        return out

    @app.delete(f"{PREFIX}/runs/{{run_id}}", tags=["runs"])
    def cancel(run_id: str, who: Who) -> dict:
        """Cancel a queued or running run (its owner or an administrator)."""
        common.known_run(run_id, db)
        api.cancel_run_as(who, run_id, db=db)
        return {"run_id": run_id, "cancel_requested": True}

    @app.get(f"{PREFIX}/runs/{{run_id}}/result", tags=["runs"])
    def result(run_id: str, who: Who) -> JSONResponse:
        """The run's result.json (as `python -m engine run` writes it)."""
        api.authorize(who, "runs.read", f"run:{run_id}", db)
        common.known_run(run_id, db)
        status = api.job_status(run_id, db)["status"]
        if status in ("queued", "running", "starting"):
            raise api.Conflict(Msg(f"run {run_id} has not finished (status {status})", f"运行 {run_id} 尚未结束（状态 {status}）"),
                               Msg(f"poll GET {PREFIX}/runs/{run_id}", f"请轮询 GET {PREFIX}/runs/{run_id}"))
        return JSONResponse(api.load_result(run_id, db))

    @app.get(f"{PREFIX}/runs/{{run_id}}/report", tags=["runs"])
    def report(run_id: str, who: Who, format: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
               lang: Annotated[str, Query(pattern="^(en|zh)$")] = "en") -> Response:
        api.authorize(who, "reports.read", f"run:{run_id}", db)
        common.known_run(run_id, db)
        api.audit(who, "reports.read", f"run:{run_id}", "ok", f"{format} {lang}", db=db)
        if format == "pdf":
            return Response(api.report_pdf(run_id, lang=lang, db=db), media_type="application/pdf",
                            headers={"Content-Disposition": f'attachment; filename="report-{run_id}-{lang}.pdf"'})
        return HTMLResponse(api.report_html(run_id, lang=lang, db=db))

    @app.post(f"{PREFIX}/runs/{{run_id}}/score", tags=["runs"])
    def score(run_id: str, who: Who, file: Annotated[UploadFile, File()]) -> JSONResponse:
        """Predictions of the run's saved model for the rows of an uploaded file (as `python -m engine score`):
        the summary (rows, out-of-range counts, model) and `predictions`, one object per row."""
        api.authorize(who, "runs.score", f"run:{run_id}", db)
        common.known_run(run_id, db)
        path = common.save_upload(file, db)
        try:
            out = api.score(run_id, path, db=db, collect=True)
        except Exception as exc:
            api.audit(who, "runs.score", f"run:{run_id}", "failed", str(exc)[:500], db=db)
            raise
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)  # the upload is scored, not kept
        api.audit(who, "runs.score", f"run:{run_id}", "ok", f"{out.rows} rows", db=db)
        predictions = json.loads(out.frame.to_json(orient="records", date_format="iso")) if out.frame is not None else []
        return JSONResponse({**out.to_dict(), "warnings": [str(w) for w in out.warnings], "predictions": predictions})

    @app.post(f"{PREFIX}/trials", tags=["trials"], status_code=201)
    async def log_trial(request: Request, who: Who) -> dict:
        """Log settings tried on the line and the measured outcome against a run: {run_id, settings, outcome,
        batches?, note?}."""
        data = common.json_object(common.json_body(await request.body(), request.headers.get("content-type")), "a trial")
        unknown = sorted(set(data) - {"run_id", "settings", "outcome", "batches", "note"})
        if unknown or not isinstance(data.get("run_id"), str) or not isinstance(data.get("outcome"), (int, float)):
            raise ApiError(422, "invalid_input", Msg(f"a trial needs run_id (text) and outcome (number); settings, "
                                                     f"batches, note optional{'; unknown: ' + ', '.join(unknown) if unknown else ''}",
                                                     f"试验需要 run_id（文本）和 outcome（数值）；settings、batches、note 可选"
                                                     f"{'；未知的键：' + ', '.join(unknown) if unknown else ''}"),
                           key=unknown[0] if unknown else "outcome")
        common.known_run(data["run_id"], db)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(api.log_trial_as, who, data["run_id"], data.get("settings") or {},
                                       float(data["outcome"]), db=db, batches=int(data.get("batches") or 1),
                                       note=str(data.get("note") or ""))

    @app.get(f"{PREFIX}/trials", tags=["trials"])
    def trials(who: Who, run_id: str | None = None) -> list[dict]:
        api.authorize(who, "trials.read", db=db)
        rows = api.trials(run_id, db=db)
        users = api.owners("trial", db=db)
        return [{**common.plain(r), "user": users.get(r["trial_id"])} for r in rows]

    @app.get(f"{PREFIX}/audit", tags=["admin"])
    def audit(who: Who, user: str | None = None, since: str | None = None, action: str | None = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict]:
        """The audit trail, newest first (administrators). since: ISO date/time or 30m, 12h, 7d."""
        return api.audit_entries(who, user=user, since=since, action=action, limit=limit, db=db)

    @app.get(f"{PREFIX}/keys", tags=["auth"])
    def keys(who: Who) -> list[dict]:
        return [common.plain(k) for k in api.list_api_keys(who, db=db)]

    @app.delete(f"{PREFIX}/keys/{{key_id}}", tags=["auth"])
    def revoke_key(key_id: str, who: Who) -> dict:
        api.revoke_api_key(who, key_id, db=db)
        return {"key_id": key_id, "revoked": True}

    @app.get(f"{PREFIX}/users", tags=["admin"])
    def users(who: Who) -> list[dict]:
        return [common.plain(u) for u in api.list_users(who, db=db)]

    common.recipe_schema(app)



