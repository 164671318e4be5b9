"""Turn pydantic validation errors into Issues that name file:line, key path and a hint."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.errors import Issue
from engine.yaml_io import SourceMap, format_loc


def _present_loc(data: Any, loc: tuple) -> tuple:
    """Drop loc parts that are not keys of the data (pydantic adds union tags such as 'int')."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            out.append(part)
    return tuple(out)


def _model_at(model: type[BaseModel], data: Any, loc: tuple) -> type[BaseModel] | None:
    """The model class that validates the mapping found at `loc` (best effort, for 'did you mean')."""
    current: Any = model
    node = data
    for part in loc:
        if isinstance(node, (dict, list)):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        current = _step_into(current, part, node)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _step_into(tp: Any, part: Any, node: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        fields = {f.alias or name: f for name, f in tp.model_fields.items()}
        field = fields.get(part)
        return _unwrap(field.annotation, node) if field else None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and args:
        return _unwrap(args[0], node)
    if origin is dict and len(args) == 2:
        return _unwrap(args[1], node)
    return None


def _unwrap(tp: Any, node: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0], node)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in typing.get_args(tp):
            arg = _unwrap(arg, node)
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                tag = node.get("type") if isinstance(node, dict) else None
                type_field = arg.model_fields.get("type")
                if tag is None or type_field is None or tag in typing.get_args(type_field.annotation):
                    return arg
        return None
    return tp


def _hint_for(error: dict, model: type[BaseModel], data: Any, loc: tuple) -> str | None:
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, data, loc[:-1])
        if owner is None:
            return "remove this key"
        allowed = [f.alias or n for n, f in owner.model_fields.items()]
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        return (f"did you mean '{close[0]}'? " if close else "") + f"allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return "add this key"
    if kind == "union_tag_invalid":
        return "use one of the listed types"
    return None


def issues_from_validation(exc: ValidationError, model: type[BaseModel], data: Any,
                           smap: SourceMap | None, prefix: tuple = ()) -> list[Issue]:
    """One Issue per pydantic error, located in the YAML source."""
    issues = []
    for error in exc.errors(include_url=False):
        raw_loc = tuple(error["loc"])
        loc = _present_loc(data, raw_loc)
        if error["type"] in ("extra_forbidden", "missing"):
            loc = loc + (raw_loc[-1],) if raw_loc and (not loc or loc[-1] != raw_loc[-1]) else loc
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown key '{raw_loc[-1]}'"
        elif error["type"] == "missing":
            message = f"required key '{raw_loc[-1]}' is missing"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        hint = _hint_for(error, model, data, loc)
        full = prefix + loc
        if smap is not None:
            line = smap.line_for(full)
            issues.append(Issue(message, smap.file, line, format_loc(full) or None, hint))
        else:
            issues.append(Issue(message, None, None, format_loc(full) or None, hint))
    return issues
