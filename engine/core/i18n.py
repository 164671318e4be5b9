"""Bilingual engine messages: English is the text, Chinese rides along.

A `Msg` IS its English text (a `str` subclass), so `str(...)`, f-strings, logs, the CLI and tests that compare
English keep working unchanged; it also carries `.zh`. Screens render any engine message in the session's
language with `text_of(value, lang)` (a Msg, an Issue, a StudioError, a `{en, zh}` mapping or a plain str).

How to write a bilingual message
--------------------------------
    from engine.core.i18n import Msg, zh

    raise InvalidInput(Issue(Msg(f"column '{col}' is not in {table}", f"列 '{col}' 不在 {table} 中"),
                             hint=Msg(f"columns: {cols}", f"可选列：{cols}")))
    raise StudioError(Msg("the model learned nothing", "模型没有学到任何规律"))      # operators, optimiser
    raise ValueError(Msg("low is above high", "下限高于上限"))    # inside a pydantic validator: kept by schema/errors.py
    out["warnings"].append(Msg(f"{n} rows skipped", f"跳过了 {n} 行").to_dict())  # result.json: {en, zh}
    ingest_warnings.append(Msg(...))                       # ingest warnings: the catalog stores {en, zh} itself

- Write both sentences at the raise site, side by side; names (columns, keys, files, tables, values) stay as
  they are in both. Chinese: short, plain words a process engineer uses; full-width punctuation（，：；）.
- Composing: string operations on a Msg (`+`, `.strip()`, f-strings) give a plain English str. To build a new
  message from another one, write both halves: `Msg(f"{m} (in {f})", f"{zh(m)}（位于 {f}）")` — `zh(x)` is the
  Chinese of any message (its English when it has none).
- Re-raising another engine error: `StudioError(exc.msg)` / `Issue(exc.msg, ...)` keeps both languages
  (`str(exc)` would keep only the English).
- Pydantic's own errors (missing, extra_forbidden, greater_than_equal, literal_error, int_parsing, ...) are put
  into Chinese by type in engine/schema/errors.py (ZH_BY_TYPE); add a type there when a new one shows up.
- JSON holds plain strings: a Msg written to JSON is its English. Where Chinese must survive (result.json warnings,
  run errors) store `{en, zh}` via `Msg.to_dict()` / `bilingual()`, or a `..._zh` key beside the English one.
- The UI shows any of these with `ui.i18n.bilingual(value)`; the CLI with `text_of(value, cli_lang())`.
- tests/core/test_i18n_engine.py scans engine/ for `Issue(` / `StudioError(` / `InvalidInput(` / `ValueError(`
  created from a bare string literal; put a deliberate exception in its short allow-list.
The CLI prints English; `AI_STUDIO_LANG=zh` makes it print the Chinese.
"""

from __future__ import annotations

import os
from typing import Any

LANGS = ("en", "zh")


class Msg(str):
    """English text (the string itself) with its Chinese rendering in `.zh`."""

    zh: str

    def __new__(cls, en: str, zh: str | None = None) -> "Msg":
        obj = super().__new__(cls, str(en))
        obj.zh = zh if zh is not None else (getattr(en, "zh", None) or str(en))
        return obj

    def text(self, lang: str | None) -> str:
        return self.zh if lang == "zh" else str(self)

    def to_dict(self) -> dict[str, str]:
        return {"en": str(self), "zh": self.zh}

    def __reduce__(self):  # pickling (worker processes, copies) keeps both languages
        return (Msg, (str(self), self.zh))

    def __repr__(self) -> str:
        return f"Msg({str(self)!r}, {self.zh!r})"


def text_of(value: Any, lang: str | None) -> str:
    """`value` as shown in `lang`: a Msg, anything with .text(lang) (Issue, StudioError), a {en, zh} mapping, or str."""
    if value is None:
        return ""
    if isinstance(value, Msg):
        return value.text(lang)
    if isinstance(value, dict) and ("en" in value or "zh" in value):
        return str((value.get(lang) if lang in LANGS else None) or value.get("en") or value.get("zh") or "")
    text = getattr(value, "text", None)
    if callable(text):
        return text(lang)
    return str(value)


def zh(value: Any) -> str:
    """The Chinese of a message (its English, or str(value), when it has none) — for composing messages."""
    return text_of(value, "zh")


def bilingual(value: Any) -> dict[str, str]:
    """{en, zh} of a message, for JSON (result.json, run records)."""
    return {"en": text_of(value, "en"), "zh": text_of(value, "zh")}


def join(sep: str, parts, zh_sep: str | None = None) -> Msg:
    """Join messages keeping both languages (`zh_sep` defaults to `sep`)."""
    parts = list(parts)
    return Msg(sep.join(text_of(p, "en") for p in parts), (sep if zh_sep is None else zh_sep).join(zh(p) for p in parts))


def cli_lang() -> str:
    """The CLI's language: English unless AI_STUDIO_LANG=zh."""
    return "zh" if os.environ.get("AI_STUDIO_LANG", "").lower().startswith("zh") else "en"


def did_you_mean(name: str) -> Msg:
    """The usual hint for a near miss."""
    return Msg(f"did you mean '{name}'?", f"是不是 '{name}'？")
