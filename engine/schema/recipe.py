"""The recipe an expert saves: which template, which data, which column plays which role, which values."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from engine.core.i18n import Msg
from engine.schema.base import Strict

TEMPLATE_REF = r"^[a-z][a-z0-9_]*(@\d+\.\d+\.\d+)?$"


class DataBinding(Strict):
    """Exactly one of: a data-factory table, a file, or a single read-only SELECT."""

    table: str | None = Field(None, min_length=1)
    file: str | None = Field(None, min_length=1)
    sql: str | None = Field(None, min_length=1)
    sheet: str | int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "DataBinding":
        given = [k for k in ("table", "file", "sql") if getattr(self, k)]
        if len(given) != 1:
            got, got_zh = (f" (got {', '.join(given)})", f"（现在给了 {', '.join(given)}）") if given else ("", "")
            raise ValueError(Msg("give exactly one of table, file or sql" + got, "table、file、sql 只能给一个" + got_zh))
        if self.sheet is not None and not self.file:
            raise ValueError(Msg("sheet only applies to an Excel file binding", "sheet 只适用于 Excel 文件绑定"))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("table", "file", "sql") if getattr(self, k))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    kind, kind_zh = ("a mapping", "映射（键: 值）") if isinstance(value, dict) else (type(value).__name__, type(value).__name__)
    raise ValueError(Msg(f"a role takes a column name or a list of column names, not {kind}",
                         f"角色只能是一个列名或列名列表，不能是{kind_zh}"))


# what the published JSON Schema says a role takes: the before-validator below also accepts one plain string
Columns = Annotated[list[str], WithJsonSchema({"anyOf": [{"type": "string"},
                                                         {"type": "array", "items": {"type": "string"}}]})]


class RecipeRoles(Strict):
    """Columns by role; a single column may be written as a plain string."""

    target: Columns = Field(default_factory=list)
    controllable: Columns = Field(default_factory=list)
    context: Columns = Field(default_factory=list)
    time: Columns = Field(default_factory=list)
    group: Columns = Field(default_factory=list)
    image: Columns = Field(default_factory=list)     # the column holding each image's stored file (image templates)
    ignore: Columns = Field(default_factory=list)

    @field_validator("*", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> list:
        return _as_list(value)


class Expert(Strict):
    """The process expert's knowledge: first-class inputs to modelling and optimisation."""

    exclude: list[str] = Field(default_factory=list)
    force: list[str] = Field(default_factory=list)
    pin: dict[str, float] = Field(default_factory=dict)
    monotone: dict[str, Literal[-1, 0, 1]] = Field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    # price per unit of a column (e.g. per kg of an ingredient); "column=level" prices choosing a level
    # (a raw-material origin) per unit of product
    costs: dict[str, float] = Field(default_factory=dict)
    # columns the data check takes for consequences of the target (a meter, a value computed from it) that the
    # expert confirmed ARE settings the plant can change (engine/ml/consequences.py); any other stays "not actionable"
    confirmed_settings: list[str] = Field(default_factory=list)

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, bounds: dict) -> dict:
        bad = [name for name, (low, high) in bounds.items() if low > high]
        if bad:
            raise ValueError(Msg(f"low is above high for {bad}; write bounds as [low, high]",
                                 f"{bad} 的下限高于上限；范围请写成 [下限, 上限]"))
        return bounds


class Recipe(Strict):
    template: str = Field(pattern=TEMPLATE_REF)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    data: DataBinding
    roles: RecipeRoles = Field(default_factory=RecipeRoles)
    params: dict[str, Any] = Field(default_factory=dict)
    expert: Expert = Field(default_factory=Expert)
    seed: int = Field(42, ge=0)

    @property
    def template_id(self) -> str:
        return self.template.split("@")[0]

    @property
    def template_version(self) -> str | None:
        return self.template.split("@")[1] if "@" in self.template else None

    @field_validator("template", mode="before")
    @classmethod
    def _template_ref(cls, value: Any) -> Any:
        """A readable refusal before the pattern (whose regex means nothing to a process expert)."""
        if isinstance(value, str) and not re.match(TEMPLATE_REF, value):
            raise ValueError(Msg(f"'{value}' is not a template id, or an id pinned to a version like "
                                 f"quick_model@1.0.0 (lower-case letters, digits and _; version X.Y.Z)",
                                 f"'{value}' 不是模板 id，也不是固定了版本的 id（如 quick_model@1.0.0；"
                                 f"只用小写字母、数字和 _，版本为 X.Y.Z）"))
        return value

    @field_validator("name")
    @classmethod
    def _no_control_chars(cls, name: str) -> str:
        if re.search(r"[\x00-\x1f]", name):
            raise ValueError(Msg("name must be a single line of text", "名称必须是单行文本"))
        return name
