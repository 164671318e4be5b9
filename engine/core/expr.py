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

from typing import Any

import pandas as pd

from engine.core.expr_parse import (  # noqa: F401  (re-exported: the language's public names live here)
    COMPARISONS, KEYWORDS, MAX_DEPTH, MAX_LENGTH, _BACKTICKS, Between, BoolOp, Column, Compare, ExprError, InList,
    IsNull, Not, Operand, Token, Truthy, Value, _walk_columns, closest, columns_of, parse, tokenize,
)
from engine.core.i18n import Msg, did_you_mean, zh


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
