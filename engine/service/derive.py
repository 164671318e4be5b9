"""Cleaning actions on the data factory: run a frame-to-frame operator on a table and store the result as a NEW
table (the source is never overwritten), with what the operator changed recorded in the new table's metadata."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from engine.pipeline import registry
from engine.store.catalog import Catalog, TableInfo, create_from_frame
from engine.pipeline.context import StepContext
from engine.core.errors import InvalidInput, Issue, StudioError
from engine.core.i18n import Msg
from engine.pipeline.result import to_jsonable
from engine.schema.errors import issues_from_validation


def table_operators() -> list[registry.OperatorSpec]:
    """Operators that take one or two tables and return a table: the ones a user can apply to a table."""
    return [op for op in registry.all_operators()
            if "frame" in op.outputs and op.inputs and set(op.inputs) <= {"frame", "right"}]


def derive_table(catalog: Catalog, source: str, op_id: str, params: dict[str, Any], new_table: str, *,
                 right: str | None = None, seed: int = 42) -> tuple[TableInfo, dict]:
    """Apply operator `op_id` to table `source` (and `right` for joins); store the result as `new_table`."""
    op = registry.get(op_id)
    if op is None or op not in table_operators():
        names = ", ".join(o.id for o in table_operators())
        raise InvalidInput(Issue(Msg(f"'{op_id}' is not an operator that makes a table", f"'{op_id}' 不是生成新表的算子"),
                                 hint=Msg(f"use one of: {names}", f"请使用以下之一：{names}")))
    try:
        validated = op.params_model.model_validate(params)
    except ValidationError as exc:
        raise InvalidInput(issues_from_validation(exc, op.params_model, params, None, ("params",))) from None
    if ("right" in op.inputs) != (right is not None):
        two = "right" in op.inputs
        raise InvalidInput(Issue(Msg(f"{op_id} needs {'a second table (right)' if two else 'one table'}",
                                     f"{op_id} 需要{'第二张表（right）' if two else '一张表'}")))
    catalog.check_new_name(new_table)
    infos = [catalog.table_info(source)] + ([catalog.table_info(right)] if right else [])
    inputs = {"frame": catalog.read_table(infos[0].name)}
    if right:
        inputs["right"] = catalog.read_table(infos[1].name)
    try:
        out = op.fn(validated, StepContext("derive", op_id, seed), **inputs)
    except StudioError as exc:  # e.g. a condition naming an unknown column: the user's input to fix
        raise InvalidInput(Issue(exc.msg, path="params")) from None
    except Exception as exc:  # an operator's own error text is the useful part
        raise InvalidInput(Issue(Msg(f"{op_id} failed on table '{source}': {type(exc).__name__}: {exc}",
                                     f"{op_id} 在表 '{source}' 上失败：{type(exc).__name__}: {exc}"))) from None
    frame, report = out["frame"], to_jsonable(out.get("report", {}))
    recipe = json.dumps({"op": op.key, "params": validated.model_dump(mode="json"),
                         "inputs": [i.fingerprint for i in infos], "seed": seed}, sort_keys=True)
    with catalog.transaction() as con:
        catalog.check_new_name(new_table, con=con)
        columns = create_from_frame(con, new_table, frame)
        origin = f"{op.key}({', '.join(i.name for i in infos)})"
        info = TableInfo(new_table, origin, "", hashlib.sha256(recipe.encode()).hexdigest(), len(frame), columns,
                         [json.dumps({"operator": op.key, "report": report}, ensure_ascii=False)],
                         datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"))
        catalog.register_table(con, info)
    return info, report
