"""Turn pydantic validation errors into Issues that name file:line, key path and a hint."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.core.errors import Issue
from engine.core.i18n import Msg
from engine.core.yaml_io import SourceMap, format_loc

# Chinese for pydantic's error types ({...} filled from the error's ctx); the English stays pydantic's own text.
ZH_BY_TYPE = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的键",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "multiple_of": "应是 {multiple_of} 的整数倍",
    "finite_number": "应是有限的数（不能是 inf 或 nan）",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "int_parsing": "应为整数，无法把文字解析为整数",
    "int_from_float": "应为整数，不能带小数部分",
    "int_type": "应为整数",
    "float_parsing": "应为数字，无法把文字解析为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为布尔值（true/false），无法识别",
    "bool_type": "应为布尔值（true/false）",
    "string_type": "应为文本",
    "string_too_short": "文本至少需要 {min_length} 个字符",
    "string_too_long": "文本最多 {max_length} 个字符",
    "string_pattern_mismatch": "文本应符合格式 '{pattern}'",
    "too_short": "至少需要 {min_length} 项，实际 {actual_length} 项",
    "too_long": "最多 {max_length} 项，实际 {actual_length} 项",
    "list_type": "应为列表",
    "tuple_type": "应为列表（元组）",
    "set_type": "应为集合",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "none_required": "应为空",
    "union_tag_invalid": "类型 {tag} 不存在，可选：{expected_tags}",
    "union_tag_not_found": "缺少用于区分类型的键 '{discriminator}'",
    "date_parsing": "应为日期",
    "date_from_datetime_parsing": "应为日期",
    "datetime_parsing": "应为日期时间",
    "datetime_from_date_parsing": "应为日期时间",
    "is_instance_of": "类型不正确",
}


def zh_of_error(error: dict) -> str:
    """The Chinese of one pydantic error: a validator's Msg, else the template for its type."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        first = cause.args[0] if cause is not None and cause.args else None
        if isinstance(first, Msg):
            return first.zh
    template = ZH_BY_TYPE.get(kind)
    if template is not None:
        try:
            return template.format(**{k: (v.replace("' or '", "' 或 '") if isinstance(v, str) else v)
                                      for k, v in ctx.items()})
        except (KeyError, IndexError):
            pass
    return f"取值无效（{error['msg']}）"


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


# the patterns of engine/schema (ids, versions, operator and template references) in words, so that no regex is shown
READABLE_PATTERNS = {
    r"^[a-z][a-z0-9_]*$": ("an id: lower-case letters, digits and _, starting with a letter (e.g. yield_model)",
                           "id：小写字母、数字和 _，以字母开头（例如 yield_model）"),
    r"^\d+\.\d+\.\d+$": ("a version X.Y.Z (e.g. 1.0.0)", "版本号 X.Y.Z（例如 1.0.0）"),
    r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(@\d+)?$": ("an operator id family.name, optionally @version (e.g. "
                                                  "clean.impute or model.lightgbm_cv@1)",
                                                  "算子 id：族.名称，可加 @版本（例如 clean.impute 或 model.lightgbm_cv@1）"),
    r"^[a-z][a-z0-9_]*(@\d+\.\d+\.\d+)?$": ("a template id, optionally pinned as id@X.Y.Z (e.g. quick_model@1.0.0)",
                                               "模板 id，可固定版本为 id@X.Y.Z（例如 quick_model@1.0.0）"),
}


def _pattern_message(error: dict) -> Msg | None:
    pattern = (error.get("ctx") or {}).get("pattern")
    words = READABLE_PATTERNS.get(pattern)
    if words is None:
        return None
    value = error.get("input")
    return Msg(f"'{value}' is not {words[0]}", f"'{value}' 不是{words[1]}")


def _hint_for(error: dict, model: type[BaseModel], data: Any, loc: tuple) -> str | None:
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, data, loc[:-1])
        if owner is None:
            return Msg("remove this key", "删除这个键")
        allowed = ", ".join(f.alias or n for n, f in owner.model_fields.items())
        close = difflib.get_close_matches(str(loc[-1]), allowed.split(", "), n=1)
        return Msg((f"did you mean '{close[0]}'? " if close else "") + f"allowed keys: {allowed}",
                   (f"是不是 '{close[0]}'？" if close else "") + f"允许的键：{allowed}")
    if kind == "missing":
        return Msg("add this key", "请添加这个键")
    if kind == "string_type" and isinstance(error.get("input"), (int, float)) and not isinstance(error.get("input"), bool):
        return Msg(f"YAML read {error['input']!r} as a number: write it in quotes, e.g. '{error['input']}'",
                   f"YAML 把 {error['input']!r} 读成了数字：请加引号，例如 '{error['input']}'")
    if kind == "union_tag_invalid":
        return Msg("use one of the listed types", "请使用列出的类型之一")
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
            message = Msg(f"unknown key '{raw_loc[-1]}'", f"未知的键 '{raw_loc[-1]}'")
        elif error["type"] == "missing":
            message = Msg(f"required key '{raw_loc[-1]}' is missing", f"缺少必填的键 '{raw_loc[-1]}'")
        elif error["type"] == "string_pattern_mismatch" and _pattern_message(error):
            message = _pattern_message(error)
        else:
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            message = Msg(message, zh_of_error(error))
        hint = _hint_for(error, model, data, loc)
        full = prefix + loc
        if smap is not None:
            line = smap.line_for(full)
            issues.append(Issue(message, smap.file, line, format_loc(full) or None, hint))
        else:
            issues.append(Issue(message, None, None, format_loc(full) or None, hint))
    return issues
