"""Shared building blocks: strict models, bilingual text, the Field helper carrying UI metadata."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A model that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Text(Strict):
    """A text shown to users, in English and Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def ui_field(default: Any = ..., *, en: str, zh: str, help_en: str | None = None, help_zh: str | None = None,
             widget: str | None = None, **constraints: Any) -> Any:
    """A pydantic Field that also carries the zh/en label, help and widget hint.

    This one declaration drives validation, error text, the generated form and the JSON Schema.
    """
    extra: dict[str, Any] = {"label": {"en": en, "zh": zh}}
    if help_en or help_zh:
        extra["help"] = {"en": help_en or help_zh, "zh": help_zh or help_en}
    if widget:
        extra["widget"] = widget
    return Field(default, description=help_en or en, json_schema_extra=extra, **constraints)


def label_of(field_info, lang: str = "en") -> str:
    """The user-facing label of a pydantic field made with ui_field (its name otherwise)."""
    extra = field_info.json_schema_extra or {}
    label = extra.get("label") if isinstance(extra, dict) else None
    return label.get(lang, label.get("en")) if label else (field_info.description or "")
