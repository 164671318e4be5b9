"""A small, safe row-condition language: tokenizer, recursive-descent parser, vectorised pandas evaluation.

    温度 > 850 and not (shift in ('A', 'B') or `belt speed` between 1 and 2.5) or humidity is null

Grammar (keywords are case-insensitive; `and` binds tighter than `or`, `not` tighter than both):

    condition  := or_expr EOF
    or_expr    := and_expr ('or' and_expr)*
    and_expr   := not_expr ('and' not_expr)*
    not_expr   := 'not' not_expr | '(' or_expr ')' | predicate
    predicate  := operand ( cmp operand
                          | ['not'] 'between' operand 'and' operand
                          | ['not'] 'in' '(' value (',' value)* ')'
                          | 'is' ['not'] 'null' )?          -- a bare operand must be a boolean column
    cmp        := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
    operand    := column | value
    value      := ['-'] number | 'string' | "string" | true | false
    column     := identifier (letters incl. Chinese, digits, _) | `any name` | [any name]

Missing values follow SQL: a comparison with a missing value is unknown, `not unknown` stays unknown, and a
row whose condition is unknown is dropped. So `x != 5` does not keep rows where x is missing; say
`x != 5 or x is null` to keep them. Nothing here is ever passed to eval: the parser builds plain dataclasses.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Union

import pandas as pd

from engine.core.errors import StudioError
from engine.core.i18n import Msg, did_you_mean, zh

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


# ---------------------------------------------------------------- evaluation

class _Evaluator:
    """Evaluates a tree to a nullable-boolean Series (Kleene logic: pandas' "boolean" dtype does and/or/not)."""

    def __init__(self, text: str, frame: pd.DataFrame):
        self.text, self.frame = text, frame

    def check_columns(self, node) -> None:
        found: list[Column] = []
        _walk_columns(node, found)
        for column in found:
            if column.name not in self.frame.columns:
                guess = closest(column.name, self.frame.columns)
                raise ExprError(Msg(f"unknown column '{column.name}'", f"列 '{column.name}' 不存在"), self.text, column.pos,
                                did_you_mean(guess) if guess else Msg("check the column names of the data", "请核对数据的列名"))

    def eval(self, node) -> pd.Series:
        if isinstance(node, BoolOp):
            result = self.eval(node.items[0])
            for item in node.items[1:]:
                result = (result & self.eval(item)) if node.op == "and" else (result | self.eval(item))
            return result
        if isinstance(node, Not):
            return ~self.eval(node.item)
        if isinstance(node, Compare):
            return self.compare(node.op, node.left, node.right, node.pos)
        if isinstance(node, Between):
            pos = node.operand.pos
            inside = self.compare(">=", node.operand, node.low, pos) & self.compare("<=", node.operand, node.high, pos)
            return ~inside if node.negated else inside
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, IsNull):
            missing = self.series(node.operand).isna().astype("boolean")
            return ~missing if node.negated else missing
        return self.truthy(node.column)

    def series(self, operand: Operand) -> pd.Series:
        if isinstance(operand, Column):
            return self.frame[operand.name]
        return pd.Series([operand.value] * len(self.frame), index=self.frame.index, dtype=object)

    def compare(self, op: str, left: Operand, right: Operand, pos: int) -> pd.Series:
        if isinstance(left, Value) and isinstance(right, Value):
            raise ExprError(Msg("compare a column with a value, not two values", "请用列和值比较，而不是两个值"),
                            self.text, left.pos, _BACKTICKS)
        a = self.series(left)
        b = right.value if isinstance(right, Value) else self.series(right)
        if isinstance(left, Value):  # "850 < temp" reads as "temp > 850"
            a, b, op = self.series(right), left.value, {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        try:
            result = _apply(op, a, b)
        except (TypeError, ValueError) as exc:
            this, that = _describe(left, a), _describe(right, b)
            raise ExprError(Msg(f"cannot compare {this} with {that}", f"无法比较 {zh(this)} 和 {zh(that)}"), self.text, pos,
                            Msg("convert the column first (clean.fix_types) or compare it with a value of its type",
                                "请先转换列的类型（clean.fix_types），或与同类型的值比较")) \
                from exc
        unknown = a.isna() | (b.isna() if isinstance(b, pd.Series) else pd.isna(b))
        return pd.Series(result, index=self.frame.index).astype("boolean").mask(unknown)

    def in_list(self, node: InList) -> pd.Series:
        s = self.series(node.operand)
        hit = s.isin([v.value for v in node.values]).astype("boolean").mask(s.isna())
        return ~hit if node.negated else hit

    def truthy(self, column: Column) -> pd.Series:
        s = self.frame[column.name]
        if not pd.api.types.is_bool_dtype(s):
            raise ExprError(Msg(f"column '{column.name}' is not true/false", f"列 '{column.name}' 不是真/假值"), self.text,
                            column.pos, Msg(f"compare it, e.g. {column.name} > 0", f"请写成比较，例如 {column.name} > 0"))
        return s.astype("boolean")


def _apply(op: str, a: pd.Series, b) -> Any:
    return {"==": a.__eq__, "!=": a.__ne__, "<": a.__lt__, "<=": a.__le__, ">": a.__gt__, ">=": a.__ge__}[op](b)


def _describe(operand: Operand, data) -> str:
    if isinstance(operand, Column):
        return Msg(f"column '{operand.name}' ({data.dtype})", f"列 '{operand.name}'（{data.dtype}）")
    return Msg(f"value {operand.value!r}", f"值 {operand.value!r}")


def mask(text: str, frame: pd.DataFrame) -> pd.Series:
    """The rows of `frame` where condition `text` holds, as a plain bool Series (unknown counts as False)."""
    tree = parse(text)
    evaluator = _Evaluator(text, frame)
    evaluator.check_columns(tree)
    return evaluator.eval(tree).fillna(False).astype(bool)
