"""Request size limits, enforced before the body is parsed: uploads up to AI_STUDIO_MAX_UPLOAD_MB (default 200),
other bodies up to 1 MB. A declared Content-Length over the limit is refused at once (413); a chunked body is
counted while it arrives and cut off at the limit."""

from __future__ import annotations

import json
import os

from engine.core.i18n import Msg
from engine.server.errors import body

JSON_LIMIT = 1 << 20
UPLOAD_PATHS = ("/api/v1/tables",)


def upload_limit() -> int:
    return int(float(os.environ.get("AI_STUDIO_MAX_UPLOAD_MB", "200")) * (1 << 20))


def _is_upload(path: str) -> bool:
    return path in UPLOAD_PATHS or path.endswith("/score")


class _TooLarge(BaseException):  # not Exception: the body parser must not turn it into a 400
    pass


class BodyLimit:
    """Pure ASGI middleware (streams are never buffered here)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        limit = upload_limit() if _is_upload(scope["path"]) else JSON_LIMIT
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _refuse(send, limit)
        seen, started = [0], [False]

        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            if message["type"] == "http.response.start":
                started[0] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started[0]:
                await _refuse(send, limit)


async def _refuse(send, limit: int) -> None:
    mb = limit / (1 << 20)
    payload = json.dumps(body("payload_too_large", Msg(f"the request body is larger than {mb:.3g} MB",
                                                       f"请求体超过 {mb:.3g} MB"),
                              Msg("split the file, or ask the administrator to raise AI_STUDIO_MAX_UPLOAD_MB",
                                  "请拆分文件，或请管理员调高 AI_STUDIO_MAX_UPLOAD_MB"), "file"),
                         ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
