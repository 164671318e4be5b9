"""The template a model engineer writes: data roles, expert-settable params, steps, outputs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Field, create_model, field_validator, model_validator

from engine.core.i18n import Msg
from engine.schema.base import Strict, Text

IDENT = r"^[a-z][a-z0-9_]*$"
SEMVER = r"^\d+\.\d+\.\d+$"
DTYPES = ("numeric", "category", "datetime", "text", "bool", "any")
ROLE_NAMES = ("target", "controllable", "context", "time", "group", "image", "ignore")
Dtype = Literal["numeric", "category", "datetime", "text", "bool", "any"]
Widget = Literal["number", "slider", "checkbox", "toggle", "select", "radio", "multiselect", "text", "textarea", "column"]


class RoleSpec(Strict):
    """How many columns of which kinds a role takes."""

    required: bool = False
    dtypes: list[Dtype] = Field(default_factory=lambda: ["any"], min_length=1)
    min: int = Field(0, ge=0)
    max: int | None = Field(None, ge=1)
    label: Text | None = None
    help: Text | None = None

    @model_validator(mode="after")
    def _counts(self) -> "RoleSpec":
        if self.required and self.min == 0:
            self.min = 1
        if self.max is not None and self.max < self.min:
            raise ValueError(Msg(f"max ({self.max}) is below min ({self.min})", f"max（{self.max}）小于 min（{self.min}）"))
        return self


class Roles(Strict):
    target: RoleSpec | None = None
    controllable: RoleSpec | None = None
    context: RoleSpec | None = None
    time: RoleSpec | None = None
    group: RoleSpec | None = None
    image: RoleSpec | None = None      # image templates: the column of stored image files
    ignore: RoleSpec | None = None

    def items(self) -> list[tuple[str, RoleSpec]]:
        return [(name, spec) for name in ROLE_NAMES if (spec := getattr(self, name)) is not None]


class _ParamBase(Strict):
    label: Text
    help: Text | None = None
    widget: Widget | None = None
    advanced: bool = False

    def ui_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"label": self.label.model_dump()}
        if self.help:
            extra["help"] = self.help.model_dump()
        if self.widget:
            extra["widget"] = self.widget
        extra["advanced"] = self.advanced
        return extra

    def field(self) -> tuple[Any, Any]:
        """(annotation, FieldInfo) for the recipe-params model generated from this spec."""
        annotation, constraints = self._annotation()
        default = self.default if self.default is not None else (... if self._required() else None)
        return annotation, Field(default, description=self.label.en, json_schema_extra=self.ui_extra(), **constraints)

    def _required(self) -> bool:
        return self.default is None


class _Bounded:
    """min <= default <= max, checked where the template is written (a recipe could never use the default)."""

    @model_validator(mode="after")
    def _default_within_bounds(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(Msg(f"min ({self.min}) is above max ({self.max})", f"min（{self.min}）大于 max（{self.max}）"))
        if self.default is not None and not ((self.min is None or self.default >= self.min)
                                             and (self.max is None or self.default <= self.max)):
            raise ValueError(Msg(f"default {self.default} is outside [{self.min}, {self.max}]",
                                 f"默认值 {self.default} 不在 [{self.min}, {self.max}] 之内"))
        return self


class IntParam(_Bounded, _ParamBase):
    type: Literal["int"]
    default: int | None = None
    min: int | None = None
    max: int | None = None

    def _annotation(self):
        return int, {k: v for k, v in (("ge", self.min), ("le", self.max)) if v is not None}


class FloatParam(_Bounded, _ParamBase):
    type: Literal["float"]
    default: float | None = None
    min: float | None = None
    max: float | None = None
    optional: bool = False  # may be left empty (None): e.g. a budget that only applies when given

    def _required(self) -> bool:
        return self.default is None and not self.optional

    def _annotation(self):
        bounds = {k: v for k, v in (("ge", self.min), ("le", self.max)) if v is not None}
        return ((float | None) if self.optional else float), bounds


class BoolParam(_ParamBase):
    type: Literal["bool"]
    default: bool = False

    def _annotation(self):
        return bool, {}


class ChoiceParam(_ParamBase):
    type: Literal["choice"]
    choices: list[str | int | float] = Field(min_length=1)
    choice_labels: dict[str, Text] | None = None
    default: str | int | float | None = None

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> "ChoiceParam":
        if self.default is not None and self.default not in self.choices:
            raise ValueError(Msg(f"default {self.default!r} is not one of the choices {self.choices}",
                                 f"默认值 {self.default!r} 不在可选项 {self.choices} 中"))
        return self

    def _annotation(self):
        return Literal[tuple(self.choices)], {}

    def ui_extra(self) -> dict[str, Any]:
        extra = super().ui_extra()
        if self.choice_labels:
            extra["choice_labels"] = {k: v.model_dump() for k, v in self.choice_labels.items()}
        return extra


class ColumnParam(_ParamBase):
    type: Literal["column"]
    dtypes: list[Dtype] = Field(default_factory=lambda: ["any"])
    default: str | None = None
    optional: bool = False

    def _required(self) -> bool:
        return not self.optional

    def _annotation(self):
        return (str | None) if self.optional else str, {}

    def ui_extra(self) -> dict[str, Any]:
        return {**super().ui_extra(), "widget": self.widget or "column", "dtypes": list(self.dtypes)}


class ColumnsParam(_ParamBase):
    type: Literal["columns"]
    dtypes: list[Dtype] = Field(default_factory=lambda: ["any"])
    default: list[str] = Field(default_factory=list)

    def _annotation(self):
        return list[str], {}

    def ui_extra(self) -> dict[str, Any]:
        return {**super().ui_extra(), "widget": self.widget or "multiselect", "dtypes": list(self.dtypes)}


class TextParam(_ParamBase):
    type: Literal["text"]
    default: str | None = None
    max_length: int = 1000

    def _annotation(self):
        return str, {"max_length": self.max_length}


ParamSpec = Annotated[Union[IntParam, FloatParam, BoolParam, ChoiceParam, ColumnParam, ColumnsParam, TextParam],
                      Field(discriminator="type")]


class StepSpec(Strict):
    """One step: an operator, where its inputs come from, and its parameter values (literals or references)."""

    id: str = Field(pattern=IDENT)
    op: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(@\d+)?$")
    title: Text | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")

    @property
    def op_id(self) -> str:
        return self.op.split("@")[0]

    @property
    def op_version(self) -> int | None:
        return int(self.op.split("@")[1]) if "@" in self.op else None


class Template(Strict):
    """A model engineer's template (templates/*.yaml)."""

    id: str = Field(pattern=IDENT)
    version: str = Field(pattern=SEMVER)
    title: Text
    description: Text
    scenario: str = Field(pattern=IDENT)
    industries: list[str] = Field(default_factory=list)
    gives: Text | None = None
    roles: Roles
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(min_length=1)
    outputs: dict[str, str] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _param_names(cls, params: dict) -> dict:
        bad = [name for name in params if not re.match(IDENT, name)]
        if bad:
            raise ValueError(Msg(f"parameter names must be lower_snake_case: {bad}", f"参数名必须是小写加下划线（lower_snake_case）：{bad}"))
        return params

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def params_model(self):
        """The pydantic model that validates a recipe's `params:` for this template (one source of truth)."""
        fields = {name: spec.field() for name, spec in self.params.items()}
        model = create_model(f"Params_{self.id}", __config__=Strict.model_config, **fields)
        model.__doc__ = self.title.en
        return model
