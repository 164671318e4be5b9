"""Tokenizer and recursive-descent parser of the row-condition language (grammar in engine/core/expr.py).

The parser builds plain dataclasses; nothing is ever passed to eval.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Union

from engine.core.errors import StudioError
from engine.core.i18n import Msg, zh

MAX_LENGTH = 5000  # a condition longer than this is a mistake, not a filter
MAX_DEPTH = 60  # nesting bound: deep parentheses must fail clearly, not with a RecursionError

KEYWORDS = {"and", "or", "not", "between", "in", "is", "null", "true", "false"}
COMPARISONS = {"=": "==", "==": "==", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


_BACKTICKS = Msg("to name a column use `backticks`, not quotes", "列名请用 `反引号`，不要用引号")


class ExprError(StudioError):
    """A condition that cannot be parsed or evaluated; its text points at the place with a caret line."""

    def __init__(self, message: str, text: str, pos: int, hint: str | None = None):
        self.reason, self.condition, self.pos, self.hint = message, text, pos, hint
        pad = _display_width(text[:pos])  # Chinese characters take two cells in a terminal
        tail, tail_zh = (f" — {hint}", f" — {zh(hint)}") if hint else ("", "")
        caret = f"\n  {text}\n  {' ' * pad}^"
        super().__init__(Msg(f"{message} at column {pos + 1}{tail}{caret}", f"{zh(message)}（第 {pos + 1} 个字符处）{tail_zh}{caret}"))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def closest(name: str, candidates) -> str | None:
    """The candidate most like `name` (for 'did you mean'), or None."""
    matches = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.5)
    return matches[0] if matches else None


# ---------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str  # "num", "str", "name", "quoted", "kw", "op", "(", ")", ",", "-", "end"
    value: Any
    pos: int


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`[^`]*`|\[[^\]]*\])
  | (?P<name>[^\W\d]\w*)
  | (?P<op>==|!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),-])
""", re.VERBOSE)


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _unexpected_char(text, pos)
        kind, raw = match.lastgroup, match.group()
        if kind == "num":
            tokens.append(Token("num", float(raw) if any(c in raw for c in ".eE") else int(raw), pos))
        elif kind == "str":
            tokens.append(Token("str", re.sub(r"\\(.)", r"\1", raw[1:-1]), pos))
        elif kind == "quoted":
            if len(raw) == 2:
                raise ExprError(Msg("empty column name", "列名为空"), text, pos)
            tokens.append(Token("quoted", raw[1:-1], pos))
        elif kind == "name":
            lower = raw.lower()
            tokens.append(Token("kw", lower, pos) if lower in KEYWORDS else Token("name", raw, pos))
        elif kind in ("op", "punct"):
            tokens.append(Token("op" if kind == "op" else raw, raw, pos))
        pos = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


def _unexpected_char(text: str, pos: int) -> ExprError:
    ch = text[pos]
    if ch in "'\"`[":
        return ExprError(Msg(f"unclosed {ch}", f"{ch} 没有闭合"), text, pos, Msg("close the quote or bracket", "请补上闭合的引号或括号"))
    return ExprError(Msg(f"unexpected character {ch!r}", f"意外的字符 {ch!r}"), text, pos,
                     Msg("put a column name with spaces or symbols in `backticks`", "含空格或符号的列名请用 `反引号` 括起来"))


# ---------------------------------------------------------------- syntax tree

@dataclass(frozen=True)
class Column:
    name: str
    pos: int


@dataclass(frozen=True)
class Value:
    value: Any
    pos: int


Operand = Union[Column, Value]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand
    pos: int


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand
    negated: bool


@dataclass(frozen=True)
class InList:
    operand: Operand
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class IsNull:
    operand: Operand
    negated: bool


@dataclass(frozen=True)
class Truthy:
    column: Column


@dataclass(frozen=True)
class Not:
    item: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Any, ...]


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.i, self.depth = text, tokenize(text), 0, 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def is_kw(self, word: str) -> bool:
        return self.tok.kind == "kw" and self.tok.value == word

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect(self, kind: str, what: str, value: str | None = None) -> Token:
        if self.tok.kind != kind or (value is not None and self.tok.value != value):
            raise self.error(Msg(f"expected {what}", f"这里应是 {zh(what)}"))
        return self.take()

    def error(self, message: str, hint: str | None = None) -> ExprError:
        if self.tok.kind == "end":
            found, found_zh = "the end", "但条件已结束"
        else:
            found = repr(self.text[self.tok.pos:].split()[0][:20])
            found_zh = f"实际是 {found}"
        return ExprError(Msg(f"{message}, found {found}", f"{zh(message)}，{found_zh}"), self.text, self.tok.pos, hint)

    def condition(self):
        node = self.or_expr()
        if self.tok.kind != "end":
            raise self.error(Msg("expected 'and', 'or' or the end of the condition", "这里应是 'and'、'or' 或条件结尾"))
        return node

    def or_expr(self):
        items = [self.and_expr()]
        while self.is_kw("or"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self):
        items = [self.not_expr()]
        while self.is_kw("and"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(Msg("condition nested too deeply", "条件嵌套太深"))
        if self.is_kw("not"):
            self.take()
            node = Not(self.not_expr())
        elif self.tok.kind == "(":
            self.take()
            node = self.or_expr()
            self.expect(")", "')'")
        else:
            node = self.predicate()
        self.depth -= 1
        return node

    def accept(self, word: str) -> bool:
        """Consume keyword `word` if it is next."""
        if self.is_kw(word):
            self.take()
            return True
        return False

    def predicate(self):
        left = self.operand()
        if self.tok.kind == "op":
            op = self.take()
            return Compare(COMPARISONS[op.value], left, self.operand(), op.pos)
        if self.accept("is"):
            negated = self.accept("not")
            self.expect("kw", "'null'", "null")
            return IsNull(left, negated)
        negated = self.accept("not")
        if self.accept("between"):
            low = self.operand()
            self.expect("kw", Msg("'and' of 'between … and …'", "'between … and …' 中的 'and'"), "and")
            return Between(left, low, self.operand(), negated)
        if self.accept("in"):
            return InList(left, self.value_list(), negated)
        if negated:
            raise self.error(Msg("expected 'in' or 'between' after 'not'", "'not' 后面应是 'in' 或 'between'"))
        at_boundary = self.tok.kind in ("end", ")") or self.is_kw("and") or self.is_kw("or")
        if at_boundary and isinstance(left, Column):
            return Truthy(left)
        if at_boundary:
            self._bare_value(left)
        raise self.error(Msg("expected a comparison (=, !=, <, <=, >, >=), 'between', 'in' or 'is null'",
                                 "这里应是比较（=, !=, <, <=, >, >=）、'between'、'in' 或 'is null'"))

    def _bare_value(self, value: Value):
        raise ExprError(Msg("a value alone is not a condition", "单独一个值不构成条件"), self.text, value.pos,
                        _BACKTICKS if isinstance(value.value, str) else None)

    def operand(self) -> Operand:
        if self.tok.kind in ("name", "quoted"):
            token = self.take()
            return Column(token.value, token.pos)
        return self.value()

    def value(self) -> Value:
        token = self.tok
        if token.kind == "-":
            self.take()
            number = self.expect("num", Msg("a number after '-'", "'-' 后面的数字"))
            return Value(-number.value, token.pos)
        if token.kind in ("num", "str"):
            return Value(self.take().value, token.pos)
        if token.kind == "kw" and token.value in ("true", "false"):
            return Value(self.take().value == "true", token.pos)
        if token.kind == "kw" and token.value == "null":
            raise self.error(Msg("'null' cannot be compared", "'null' 不能用来比较"),
                             Msg("write 'x is null' or 'x is not null'", "请写成 'x is null' 或 'x is not null'"))
        raise self.error(Msg("expected a column name or a value", "这里应是列名或值"))

    def value_list(self) -> tuple[Value, ...]:
        self.expect("(", Msg("'(' after 'in'", "'in' 后面的 '('"))
        values = [self.value()]
        while self.tok.kind == ",":
            self.take()
            values.append(self.value())
        self.expect(")", Msg("',' or ')'", "',' 或 ')'"))
        return tuple(values)


def parse(text: str):
    """The syntax tree of condition `text`; raises ExprError naming the position of the first problem."""
    if not text or not text.strip():
        raise ExprError(Msg("the condition is empty", "条件为空"), text or "", 0)
    if len(text) > MAX_LENGTH:
        raise ExprError(Msg(f"the condition is longer than {MAX_LENGTH} characters", f"条件超过 {MAX_LENGTH} 个字符"), text[:80], 0)
    return _Parser(text).condition()


def columns_of(node) -> list[str]:
    """Column names a condition refers to, in order of first use."""
    found: list[Column] = []
    _walk_columns(node, found)
    return list(dict.fromkeys(c.name for c in found))


def _walk_columns(node, found: list[Column]) -> None:
    if isinstance(node, Column):
        found.append(node)
        return
    for name in getattr(node, "__dataclass_fields__", ()):
        child = getattr(node, name)
        for item in child if isinstance(child, tuple) else (child,):
            _walk_columns(item, found)
