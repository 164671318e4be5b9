"""Translation layer: t(key, **kw) from ui/strings.yaml, English as fallback; the language lives in session_state."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st
import yaml

LANGS = {"zh": "中文", "en": "English"}


@lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    return yaml.safe_load((Path(__file__).parent / "strings.yaml").read_text(encoding="utf-8"))


def lang() -> str:
    if "lang" not in st.session_state:
        locale = str(getattr(st.context, "locale", "") or "")
        st.session_state["lang"] = "zh" if locale.lower().startswith("zh") else "en"
    return st.session_state["lang"]


def t(key: str, **kw) -> str:
    entry = _strings().get(key, {})
    text = entry.get(lang()) or entry.get("en") or key
    return text.format(**kw) if kw else text


def bilingual(text: dict | None) -> str:
    """A {en, zh} mapping (template titles, labels) in the current language."""
    if not text:
        return ""
    return text.get(lang()) or text.get("en", "")
