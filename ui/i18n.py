"""Translation layer: t(key, **kw) from ui/strings.yaml, English as fallback; the language lives in session_state.

The language is a plain session_state key (set by the sidebar switch's on_change), mirrored in the URL
(`?lang=zh`, read back after a browser refresh), defaulting to the browser's locale: widgets of the entry file
vanish from AppTest's tree after the second run, a plain key does not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

from engine.core.i18n import text_of

LANGS = {"zh": "中文", "en": "English"}


@lru_cache(maxsize=1)
def _strings() -> dict[str, Any]:
    here = Path(__file__).parent
    strings = yaml.safe_load((here / "strings.yaml").read_text(encoding="utf-8"))
    for extra in sorted(here.glob("strings_*.yaml")):  # one file per feature: merges stay simple
        more = yaml.safe_load(extra.read_text(encoding="utf-8")) or {}
        strings.setdefault("choices", {}).update(more.pop("choices", {}) or {})
        strings.update(more)
    return strings


def lang() -> str:
    """The session's language: the one chosen, else the URL's `?lang=` (a browser refresh starts a new session;
    see keep_lang_in_url), else the browser's locale."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang")
        locale = str(getattr(st.context, "locale", "") or "")
        st.session_state["lang"] = wanted if wanted in LANGS else "zh" if locale.lower().startswith("zh") else "en"
    return st.session_state["lang"]


def keep_lang_in_url() -> None:
    """Write the language into the URL on every run (page switches clear query parameters), so a refresh or a
    shared link keeps it."""
    if st.query_params.get("lang") != lang():
        st.query_params["lang"] = lang()


def t(key: str, **kw) -> str:
    entry = _strings().get(key, {})
    text = entry.get(lang()) or entry.get("en") or key
    return text.format(**kw) if kw else text


def bilingual(text: Any) -> str:
    """Anything bilingual in the current language: a {en, zh} mapping (template titles, labels, reasons, result.json
    warnings) or an engine message — a Msg, an Issue, a StudioError (see engine/core/i18n.py)."""
    if text is None or (not text and not isinstance(text, Exception)):
        return ""
    if hasattr(text, "model_dump"):
        text = text.model_dump()
    if hasattr(text, "on_screen"):  # an Issue / InvalidInput: the hint for screens, not the CLI flag
        text = text.on_screen()
    return text_of(text, lang())


def choice_label(value: Any, kind: str = "") -> str:
    """How a choice value (a status, a role, an option of a form) is shown: translated when known; `kind`
    ("industry", "scenario") picks a specific entry first, e.g. `industry.energy`."""
    choices = _strings().get("choices", {})
    entry = choices.get(f"{kind}.{value}") or choices.get(str(value))
    return (entry.get(lang()) or entry.get("en")) if entry else str(value)


def has(key: str) -> bool:
    return key in _strings()


def labeller(options, fn=choice_label):
    """A format_func for a widget with the labels computed now, in the current language: format functions are
    also called outside the script run (AppTest, state checks) where the session's language is not at hand."""
    table = {option: fn(option) for option in options}
    return lambda option: table.get(option, str(option))
