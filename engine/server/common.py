"""What the REST API's routes share: reading a JSON body, saving an upload into the uploads folder, run lookups,
the recipe schema in the OpenAPI document, and plain JSON values."""

import json
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, UploadFile

from engine import api
from engine.core.errors import InvalidInput
from engine.core.i18n import Msg
from engine.server.errors import ApiError

PREFIX = "/api/v1"
UPLOAD_TYPES = {".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xls"}


def json_body(raw: bytes, content_type: str | None) -> Any:
    if not (content_type or "").split(";")[0].strip().lower() in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type",
                       Msg(f"the body must be JSON (Content-Type: application/json), not {content_type}",
                           f"请求体必须是 JSON（Content-Type: application/json），而不是 {content_type}"),
                       Msg("send the recipe as JSON", "请以 JSON 发送配方"), "Content-Type")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno}: {exc.msg})" if isinstance(exc, json.JSONDecodeError) else ""
        where_zh = f"（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "malformed_json", Msg(f"the request body is not valid JSON{where}",
                                                  f"请求体不是合法的 JSON{where_zh}"),
                       Msg("check the quotes, commas and brackets", "请检查引号、逗号和括号"), "body") from None

def json_object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_input", Msg(f"the body must be a JSON object ({what})", f"请求体必须是 JSON 对象（{what}）"),
                       key="body")
    return value

def known_run(run_id: str, db) -> None:
    if not re.fullmatch(r"[\w\-]{1,64}", run_id) or (api.accounts(db).job(run_id) is None and not run_exists(run_id, db)):
        raise api.NotFound(Msg(f"no run '{run_id}'", f"没有运行 '{run_id}'"), Msg("list runs: GET /api/v1/runs",
                                                                                "查看运行：GET /api/v1/runs"), "run_id")

def run_exists(run_id: str, db) -> bool:
    try:
        api.get_run(run_id, db)
        return True
    except InvalidInput:
        return False

def recipe_schema(app: FastAPI) -> None:
    """Put the recipe's JSON Schema into the OpenAPI document (POST /runs reads its body itself)."""
    base = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = base()
        recipe = api.json_schema("recipe")
        defs = recipe.pop("$defs", {})
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(defs)
        components["Recipe"] = json.loads(json.dumps(recipe).replace("#/$defs/", "#/components/schemas/"))
        for name in list(defs):
            components[name] = json.loads(json.dumps(components[name]).replace("#/$defs/", "#/components/schemas/"))
        app.openapi_schema = schema
        return schema
    app.openapi = openapi

def conflict(name: str):
    return api.Conflict(Msg(f"table '{name}' already exists", f"表 '{name}' 已存在"),
                        Msg("send append=true to add rows, or choose another name", "发送 append=true 追加数据，或换一个名称"),
                        "name")

def save_upload(file: UploadFile, db) -> Path:
    """The upload, copied into <studio home>/uploads/<stamp>/<its own name> (only known data file types)."""
    name = Path(file.filename or "").name
    suffix = Path(name).suffix.lower()
    if not name or suffix not in UPLOAD_TYPES:
        raise ApiError(415, "unsupported_media_type", Msg(f"'{name or '(no name)'}' is not a data file this studio reads",
                                                          f"'{name or '（无文件名）'}' 不是工作室能读取的数据文件"),
                       Msg(f"send one of: {', '.join(sorted(UPLOAD_TYPES))}", f"请发送以下类型之一：{', '.join(sorted(UPLOAD_TYPES))}"),
                       "file")
    safe = re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE)
    folder = api.uploads_dir(db) / f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe
    with target.open("wb") as out:
        while chunk := file.file.read(1 << 20):
            out.write(chunk)
    return target

def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Msg):
        return str(value)
    return value

