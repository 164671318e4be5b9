"""Every error as JSON `{"error": {"message", "zh", "key", "hint", "code"}}` with the fitting HTTP status — never
a stack trace (an unexpected exception is logged on the server and answered with a plain 500)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import api
from engine.core.errors import Busy, InvalidInput, RunFailed, StudioError
from engine.core.i18n import Msg, zh

log = logging.getLogger("engine.server")


class ApiError(Exception):
    """An error the server raises itself (bad content type, body too large, not finished ...)."""

    def __init__(self, status: int, code: str, message: Msg, hint: Msg | None = None, key: str | None = None,
                 headers: dict | None = None):
        super().__init__(str(message))
        self.status, self.code, self.message, self.hint, self.key, self.headers = status, code, message, hint, key, headers


def body(code: str, message, hint=None, key: str | None = None, **extra) -> dict:
    error = {"message": str(message), "zh": zh(message), "key": key, "hint": str(hint) if hint else None,
             "hint_zh": zh(hint) if hint else None, "code": code, **extra}
    return {"error": error}


def reply(status: int, content: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


def _invalid(exc: InvalidInput) -> JSONResponse:
    first = exc.issues[0]
    issues = [{"message": str(i.message), "zh": zh(i.message), "key": i.path, "file": i.file, "line": i.line,
               "hint": str(i.hint) if i.hint else None} for i in exc.issues]
    message = Msg("; ".join(str(i.message) for i in exc.issues), "；".join(zh(i.message) for i in exc.issues))
    return reply(422, body("invalid_input", message, first.hint, first.path, issues=issues))


def _access(exc: api.AccessError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if getattr(exc, "retry_after", None):
        headers = {"Retry-After": str(exc.retry_after)}
    return reply(exc.status, body(exc.code, exc.msg, exc.hint, exc.key), headers)


def _validation(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return reply(400, body("malformed_json", Msg("the request body is not valid JSON", "请求体不是合法的 JSON"),
                               Msg("send a JSON object", "请发送一个 JSON 对象"), "body"))
    first = errors[0] if errors else {}
    key = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
    text = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors)
    return reply(422, body("invalid_request", Msg(text, f"请求不合规：{text}"), None, key,
                           issues=[{"key": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
                                   for e in errors]))


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return reply(exc.status, body(exc.code, exc.message, exc.hint, exc.key), exc.headers)

    @app.exception_handler(api.AccessError)
    async def _access_error(request: Request, exc):
        return _access(exc)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(request: Request, exc: InvalidInput):
        return _invalid(exc)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return reply(503, body("busy", exc.msg, Msg("try again shortly", "请稍后再试")), {"Retry-After": "5"})

    @app.exception_handler(RunFailed)
    async def _run_failed(request: Request, exc: RunFailed):
        return reply(409, body("run_failed", exc.msg))

    @app.exception_handler(StudioError)
    async def _studio_error(request: Request, exc: StudioError):
        return reply(400, body("studio_error", exc.msg))

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError):
        return _validation(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            message = Msg(f"no such endpoint: {request.method} {request.url.path}",
                          f"没有这个接口：{request.method} {request.url.path}")
            return reply(404, body("not_found", message, Msg("see /api/v1/docs", "请查看 /api/v1/docs")))
        if exc.status_code == 405:
            return reply(405, body("method_not_allowed", Msg(f"{request.method} is not allowed on {request.url.path}",
                                                             f"{request.url.path} 不接受 {request.method}")))
        return reply(exc.status_code, body("http_error", Msg(str(exc.detail))), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return reply(500, body("internal_error", Msg("internal error: this is a bug in the studio; the server log has "
                                                     "the details", "内部错误：这是工作室的缺陷；详情见服务器日志")))
