"""Forms generated from pydantic models: one widget per field, chosen from the field's type, bounds and UI hints
(label / help / widget / advanced in `json_schema_extra`). No form code per template or operator."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import annotated_types as at
import streamlit as st
import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from engine.core.errors import InvalidInput
from engine.api import issues_from_validation
from engine.core.yaml_io import loads
from ui.i18n import bilingual, choice_label, labeller, t

# fields whose values are column names of the table at hand, when the caller gives the columns
COLUMN_FIELDS = {"column", "columns", "time", "target", "features", "subset", "keep", "by", "group", "controllable",
                 "context"}


@dataclass
class FormResult:
    values: dict[str, Any] = field(default_factory=dict)  # differing from the defaults, plus required fields
    errors: dict[str, str] = field(default_factory=dict)  # field -> text that could not be read
    slots: dict[str, Any] = field(default_factory=dict)  # field -> placeholder below it, for problems

    def check(self, model: type[BaseModel], prefix: str) -> None:
        """Validate the values with `model`; problems raise InvalidInput with paths `prefix.field`."""
        try:
            model.model_validate(self.values)
        except ValidationError as exc:
            raise InvalidInput(issues_from_validation(exc, model, self.values, None, (prefix,))) from None

    def show(self, problems: dict[str, list[str]]) -> list[str]:
        """Put each problem below the field it names; return the ones that name no field of this form."""
        leftover = []
        for name, messages in problems.items():
            slot = self.slots.get(name)
            if slot is None:
                leftover += messages
            else:
                slot.error("\n\n".join(messages))
        return leftover


def model_form(model: type[BaseModel], *, key: str, columns: list[str] | None = None,
               kinds: dict[str, str] | None = None, choice_labels: dict[str, dict] | None = None,
               initial: dict[str, Any] | None = None, skip: tuple[str, ...] = ()) -> FormResult:
    """Render a widget per field of `model`; return the values read (only non-default ones) and text errors."""
    result, initial = FormResult(), initial or {}
    fields = [(n, f, f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {})
              for n, f in model.model_fields.items() if n not in skip]
    fields.sort(key=lambda item: bool(item[2].get("advanced")))  # advanced ones last, in one expander
    advanced_box = None
    for name, info, extra in fields:
        box = st.container()
        if extra.get("advanced"):
            advanced_box = advanced_box or st.expander(t("advanced"))
            box = advanced_box
        default = _default(info)
        start = initial.get(name, default)
        kind, base, optional = _kind(name, info, extra, kinds or {}, columns)
        with box:
            spec = _Spec(name, f"{key}.{name}", bilingual(extra.get("label")) or name,
                         bilingual(extra.get("help")) or None, extra.get("widget"), base, optional,
                         (choice_labels or {}).get(name, {}), columns or [])
            try:
                value = _WIDGETS[kind](spec, info, start)
            except _Unreadable as exc:
                result.errors[name] = t("form_unreadable", message=str(exc))
                value = PydanticUndefined
            result.slots[name] = st.empty()
        if name in result.errors:
            result.slots[name].error(result.errors[name])
        if value is PydanticUndefined:
            continue
        if info.is_required() or value != default:
            result.values[name] = value
    return result


def template_form(template, *, key: str, columns: list[str] | None = None,
                  initial: dict[str, Any] | None = None) -> FormResult:
    """The parameter form a template generates (the build page; the Template Studio's preview of a draft)."""
    kinds = {n: s.type for n, s in template.params.items() if s.type in ("column", "columns")}
    labels = {n: {str(c): v.model_dump() for c, v in (s.choice_labels or {}).items()}
              for n, s in template.params.items() if getattr(s, "choice_labels", None)}
    return model_form(template.params_model(), key=key, columns=columns, kinds=kinds, choice_labels=labels,
                      initial=initial)


@dataclass
class _Spec:
    name: str
    key: str
    label: str
    help: str | None
    widget: str | None
    base: Any
    optional: bool
    choice_labels: dict
    columns: list[str]

    def fmt(self, value: Any) -> str:
        if value is None:
            return t("form_none")
        text = self.choice_labels.get(str(value))
        return bilingual(text) if text else choice_label(value)


class _Unreadable(ValueError):
    pass


def _default(info) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()
    return PydanticUndefined


def _kind(name: str, info, extra: dict, kinds: dict[str, str], columns) -> tuple[str, Any, bool]:
    """(widget kind, the annotation without None, whether None is allowed)."""
    ann, optional = info.annotation, False
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        optional = len(args) < len(typing.get_args(ann))
        if len(args) > 1:
            return "scalar", ann, optional
        ann = args[0]
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    hint = kinds.get(name) or ("column" if extra.get("widget") == "column" else None)
    column_like = columns is not None and (hint or name in COLUMN_FIELDS)
    if ann is bool:
        return "bool", ann, optional
    if ann is int or ann is float:
        return "number", ann, optional
    if origin is Literal:
        return "choice", ann, optional
    if ann is str:
        return ("column" if column_like else "text"), ann, optional
    if origin is list and args:
        if typing.get_origin(args[0]) is Literal:
            return "choices", args[0], optional
        if args[0] is str and column_like:
            return "columns", ann, optional
        return "list", ann, optional
    return "yaml", ann, optional


def _bounds(info) -> tuple[Any, Any]:
    low = high = None
    for m in info.metadata:
        if isinstance(m, (at.Ge, at.Gt)):
            low = getattr(m, "ge", getattr(m, "gt", None))
        if isinstance(m, (at.Le, at.Lt)):
            high = getattr(m, "le", getattr(m, "lt", None))
    return low, high


def _number(spec: _Spec, info, start):
    low, high = _bounds(info)
    cast = spec.base
    start = None if start is PydanticUndefined else start
    if spec.widget == "slider" and low is not None and high is not None and start is not None:
        step = 1 if cast is int else (high - low) / 100
        return st.slider(spec.label, cast(low), cast(high), cast(start), step=cast(step), help=spec.help, key=spec.key)
    kw = {"min_value": cast(low) if low is not None else None, "max_value": cast(high) if high is not None else None}
    if cast is int:
        kw["step"] = 1
    else:
        kw["format"] = "%g"
    return st.number_input(spec.label, value=cast(start) if start is not None else None, help=spec.help,
                           key=spec.key, **kw)


def _bool(spec: _Spec, info, start):
    widget = st.toggle if spec.widget == "toggle" else st.checkbox
    return widget(spec.label, value=bool(start) if start is not PydanticUndefined else False, help=spec.help,
                  key=spec.key)


def _choice(spec: _Spec, info, start):
    options = ([None] if spec.optional else []) + list(typing.get_args(spec.base))
    index = options.index(start) if start in options else None
    if spec.widget == "radio":
        return st.radio(spec.label, options, index=index, format_func=labeller(options, spec.fmt), help=spec.help,
                        key=spec.key, horizontal=True)
    return st.selectbox(spec.label, options, index=index, format_func=labeller(options, spec.fmt), help=spec.help,
                        key=spec.key, placeholder=t("form_pick"))


def _choices(spec: _Spec, info, start):
    options = list(typing.get_args(spec.base))
    default = [v for v in (start if isinstance(start, list) else []) if v in options]
    return st.multiselect(spec.label, options, default=default, format_func=labeller(options, spec.fmt), help=spec.help,
                          key=spec.key, placeholder=t("form_pick"))


def _column(spec: _Spec, info, start):
    options = ([None] if spec.optional else []) + spec.columns
    index = options.index(start) if start in options else None
    return st.selectbox(spec.label, options, index=index, format_func=labeller(options, spec.fmt), help=spec.help,
                        key=spec.key, placeholder=t("form_pick_column"))


def _columns(spec: _Spec, info, start):
    default = [c for c in (start if isinstance(start, list) else []) if c in spec.columns]
    return st.multiselect(spec.label, spec.columns, default=default, help=spec.help, key=spec.key,
                          placeholder=t("form_pick_columns"))


def _text(spec: _Spec, info, start):
    start = "" if start in (None, PydanticUndefined) else str(start)
    widget = st.text_area if spec.widget == "textarea" else st.text_input
    text = widget(spec.label, value=start, help=spec.help, key=spec.key)
    return None if (spec.optional and not text.strip()) else text


def _parsed(text: str, empty: Any) -> Any:
    if not text.strip():
        return empty
    try:
        return loads(text, "value")[0]
    except InvalidInput as exc:  # YAML syntax: the engine's message, in the page's language
        raise _Unreadable(bilingual(exc.issues[0].message)) from None


def _scalar(spec: _Spec, info, start):
    start = "" if start in (None, PydanticUndefined) else str(start)
    text = st.text_input(spec.label, value=start, help=spec.help, key=spec.key)
    return _parsed(text, None)


def _list(spec: _Spec, info, start):
    start = ", ".join(str(v) for v in start) if isinstance(start, (list, tuple)) else ""
    text = st.text_input(spec.label, value=start, help=spec.help or t("form_list_help"), key=spec.key)
    return _parsed(f"[{text}]", []) if text.strip() else []


def _yaml(spec: _Spec, info, start):
    start = "" if start in (None, PydanticUndefined, {}, []) else yaml.safe_dump(start, allow_unicode=True,
                                                                                   default_flow_style=None).strip()
    text = st.text_area(spec.label, value=start, help=spec.help or t("form_yaml_help"), key=spec.key, height=80)
    return _parsed(text, None if spec.optional else _default(info))


_WIDGETS = {"number": _number, "bool": _bool, "choice": _choice, "choices": _choices, "column": _column,
            "columns": _columns, "text": _text, "scalar": _scalar, "list": _list, "yaml": _yaml}
