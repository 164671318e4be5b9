"""The translation table is complete and consistent; pages stay thin (house rules, checked statically)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _all_strings() -> dict:
    """ui/strings.yaml plus every ui/strings_*.yaml (one file per feature), merged as ui/i18n.py merges them."""
    strings = yaml.safe_load((REPO / "ui" / "strings.yaml").read_text(encoding="utf-8"))
    for extra in sorted((REPO / "ui").glob("strings_*.yaml")):
        more = yaml.safe_load(extra.read_text(encoding="utf-8")) or {}
        clash = (set(more) - {"choices"}) & set(strings)
        assert not clash, f"{extra.name} redefines {sorted(clash)}"
        strings.setdefault("choices", {}).update(more.pop("choices", {}) or {})
        strings.update(more)
    return strings


STRINGS = _all_strings()
UI_CODE = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py")), *sorted((REPO / "ui").glob("*.py"))]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_entry_has_english_and_chinese_with_the_same_placeholders():
    entries = {k: v for k, v in STRINGS.items() if k != "choices"} | STRINGS["choices"]
    for key, entry in entries.items():
        assert set(entry) == {"en", "zh"}, key
        assert entry["en"] and entry["zh"], key
        assert _fields(entry["en"]) == _fields(entry["zh"]), key
        words = re.sub(r"\{\w+[^}]*\}|`[^`]*`", "", entry["zh"])  # placeholders and code may stay as they are
        assert re.search(r"[\u4e00-\u9fff]", words) or not re.search(r"[a-z]{4,}", words), key


def test_every_key_used_in_the_code_exists():
    used = set()
    for path in UI_CODE:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z][a-z0-9_.]*)["']""", text))
        used |= set(re.findall(r"""\(\s*"pages/\w+\.py",\s*"(\w+)",""", text))  # navigation titles
    missing = sorted(k for k in used if k not in STRINGS)
    assert not missing, missing


def test_pages_import_no_modelling_or_database_library():
    banned = re.compile(r"^\s*(import|from)\s+(sklearn|lightgbm|pyomo|duckdb|pandas|numpy)\b", re.MULTILINE)
    offenders = [p.name for p in [REPO / "app.py", *(REPO / "pages").glob("*.py")] if banned.search(p.read_text())]
    assert not offenders, offenders


def test_modules_stay_small():
    big = [(p.name, n) for p in UI_CODE if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300]
    assert not big, big
