"""The row-condition language: grammar, SQL-style missing values, and errors that point at the problem."""

from __future__ import annotations

import builtins

import numpy as np
import pandas as pd
import pytest

from engine.core.errors import StudioError
from engine.core.expr import ExprError, columns_of, mask, parse


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "温度": [840.0, 855.0, np.nan, 870.0],
        "belt speed": [1, 2, 3, 4],
        "shift": ["A", "B", "A", None],
        "ok": [True, False, True, True],
        "a": [True, True, False, False],
        "b": [True, False, True, False],
        "day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
    })


def rows(text: str, frame: pd.DataFrame) -> list[int]:
    return list(np.flatnonzero(mask(text, frame).to_numpy()))


@pytest.mark.parametrize("text, expected", [
    ("温度 > 850", [1, 3]),
    ("温度 >= 855", [1, 3]),
    ("温度 = 855", [1]),
    ("温度 == 855", [1]),
    ("温度 <> 855", [0, 3]),
    ("850 < 温度", [1, 3]),            # a value on the left reads the other way round
    ("温度 > -1e3", [0, 1, 3]),
    ("`belt speed` <= 2", [0, 1]),
    ("[belt speed] > 2.5", [2, 3]),
    ("`belt speed` < 温度", [0, 1, 3]),  # two columns
    ("shift = 'A'", [0, 2]),
    ('shift = "B"', [1]),
    ("ok", [0, 2, 3]),                 # a bare boolean column
    ("ok = false", [1]),
    ("day >= '2024-01-03'", [2, 3]),
])
def test_comparisons(frame, text, expected):
    assert rows(text, frame) == expected


def test_and_binds_tighter_than_or_and_not_tighter_than_both(frame):
    # a = [T, T, F, F], b = [T, F, T, F]
    assert rows("a or b and ok = false", frame) == [0, 1]      # a or (b and not ok)
    assert rows("(a or b) and ok = false", frame) == [1]
    assert rows("not a and b", frame) == [2]                   # (not a) and b
    assert rows("not (a and b)", frame) == [1, 2, 3]
    assert rows("not a or b", frame) == [0, 2, 3]
    assert rows("NOT a AND b", frame) == [2]                   # keywords in any case


def test_between_is_inclusive_and_negatable(frame):
    assert rows("`belt speed` between 2 and 3", frame) == [1, 2]
    assert rows("`belt speed` not between 2 and 3", frame) == [0, 3]
    assert rows("温度 between 840 and 855 and `belt speed` between 1 and 1", frame) == [0]


def test_in_lists(frame):
    assert rows("shift in ('A')", frame) == [0, 2]
    assert rows("`belt speed` in (1, 4)", frame) == [0, 3]
    assert rows("shift not in ('A', 'X')", frame) == [1]      # the missing shift is neither in nor not in


def test_is_null(frame):
    assert rows("温度 is null", frame) == [2]
    assert rows("温度 IS NOT NULL and shift is not null", frame) == [0, 1]


def test_missing_values_follow_sql(frame):
    assert rows("温度 != 855", frame) == [0, 3]               # row 2 (missing) is unknown, so dropped
    assert rows("not 温度 = 855", frame) == [0, 3]
    assert rows("温度 != 855 or 温度 is null", frame) == [0, 2, 3]


def test_strings_with_quotes_and_escapes():
    frame = pd.DataFrame({"name": ["it's", 'say "hi"', "plain"]})
    assert rows("name = 'it\\'s'", frame) == [0]
    assert rows("name = \"it's\"", frame) == [0]
    assert rows("name = 'say \"hi\"'", frame) == [1]


def test_columns_of_lists_names_once_in_order():
    assert columns_of(parse("b > 1 and (`a b` in (1) or b is null) or [c] between 1 and 2")) == ["b", "a b", "c"]


def test_mask_does_not_touch_the_frame_and_never_calls_eval(frame, monkeypatch):
    before = frame.copy()

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must never be used")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert rows("温度 > 850 and shift in ('B')", frame) == [1]
    pd.testing.assert_frame_equal(frame, before)


def test_unknown_column_names_position_caret_and_close_match(frame):
    with pytest.raises(ExprError) as info:
        mask("shift = 'A' and 温 > 850", frame)
    text = str(info.value)
    assert "unknown column '温'" in text and "did you mean '温度'?" in text
    assert "at column 17" in text
    message, expression, caret = text.splitlines()
    assert expression == "  shift = 'A' and 温 > 850"
    assert caret == "  " + " " * 16 + "^"
    assert info.value.pos == 16


def test_caret_counts_chinese_characters_as_two_cells(frame):
    with pytest.raises(ExprError) as info:
        mask("温度 > 850 and 湿 > 1", frame)
    caret = str(info.value).splitlines()[-1]
    assert caret == "  " + " " * (len("温度 > 850 and ") + 2) + "^"  # 温度 takes four cells


@pytest.mark.parametrize("text, where, words", [
    ("温度 >", 4, "expected a column name or a value"),
    ("(温度 > 1", 7, "expected ')'"),
    ("温度 > 1 温度", 7, "expected 'and', 'or'"),
    ("温度 between 1 or 2", 13, "'and' of 'between"),
    ("x $ 3", 2, "unexpected character '$'"),
    ("shift = 'A", 8, "unclosed '"),
    ("温度 = null", 5, "write 'x is null'"),
    ("'温度' > 3", 0, "use `backticks`"),
    ("ok and 'A'", 7, "a value alone is not a condition"),
    ("shift not like 'A'", 10, "expected 'in' or 'between' after 'not'"),
])
def test_syntax_errors_name_the_position(frame, text, where, words):
    with pytest.raises(ExprError) as info:
        mask(text, frame)
    assert info.value.pos == where, str(info.value)
    assert words in str(info.value)
    assert f"at column {where + 1}" in str(info.value)


@pytest.mark.parametrize("text", [
    "__import__('os')",
    "__import__('os').system('echo hacked')",
    "shift.__class__",
    "lambda: 1",
    "[x for x in ()]",
    "open('/etc/passwd')",
])
def test_python_code_is_just_a_syntax_error(frame, text):
    with pytest.raises(ExprError) as info:
        mask(text, frame)
    assert isinstance(info.value, StudioError)
    assert "^" in str(info.value)


def test_type_mismatch_is_a_clear_error(frame):
    with pytest.raises(ExprError, match="cannot compare column 'shift'"):
        mask("shift > 3", frame)
    with pytest.raises(ExprError, match="is not true/false"):
        mask("温度 and ok", frame)


def test_empty_long_and_deep_conditions_fail_cleanly(frame):
    with pytest.raises(ExprError, match="empty"):
        mask("   ", frame)
    with pytest.raises(ExprError, match="longer than"):
        mask("ok and " * 1000 + "ok", frame)
    with pytest.raises(ExprError, match="nested too deeply"):
        mask("(" * 200 + "ok" + ")" * 200, frame)
