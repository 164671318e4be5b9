"""Report wording in English or Chinese, and number formatting."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml


@lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    return yaml.safe_load((Path(__file__).parent / "strings.yaml").read_text(encoding="utf-8"))


def tr(key: str, lang: str, **kw) -> str:
    entry = _strings()[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**kw) if kw else text


def word(kind: str, value, lang: str) -> str:
    """An enum value (cv kind, role, search method, source kind) in `lang`: `kind_value` from strings.yaml, else
    the value itself (a new value shows up raw rather than breaking the report)."""
    entry = _strings().get(f"{kind}_{value}")
    return (entry.get(lang) or entry["en"]) if entry else ("—" if value is None else str(value))


def num(value, digits: int = 4) -> str:
    """A number as a person reads it: 4 significant digits, thousands separators, '—' when missing."""
    from engine.core.numbers import people

    return people(value, digits)


def signed(value) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + num(value)
