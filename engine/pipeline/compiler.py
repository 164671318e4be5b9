"""Template + recipe + the bound data's schema -> a validated Pipeline. Collects ALL errors, not the first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.pipeline import registry
from engine.store.binding import DataSource, dtype_class, matches
from engine.core.dtypes import dtype_zh
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg, did_you_mean, zh
from engine.pipeline.library import LoadedTemplate
from engine.pipeline.graph import DATA, InputRef, Pipeline, PipelineStep, topological_order
from engine.pipeline.data_checks import check_target
from engine.schema.errors import issues_from_validation
from engine.schema.recipe import Recipe
from engine.schema.template import ROLE_NAMES, StepSpec, Template
from engine.core.yaml_io import SourceMap

REF_RE = re.compile(r"^(params|roles|expert)\.([A-Za-z_][A-Za-z0-9_]*)$")
DERIVED_ROLES = ("features",)  # roles.features = controllable + context (+ expert.force) - expert.exclude
EXPERT_KEYS = ("exclude", "force", "pin", "monotone", "bounds", "costs")


def _refs_in(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str) and (m := REF_RE.match(value)):
        return [(m.group(1), m.group(2))]
    if isinstance(value, list):
        return [r for item in value for r in _refs_in(item)]
    return []


def _parse_input(ref: str) -> InputRef:
    if ref == DATA:
        return InputRef(None, DATA)
    step, _, output = ref.partition(".")
    return InputRef(step, output or "")


# -- the template alone ------------------------------------------------------------------------------------
def check_template(loaded: LoadedTemplate) -> tuple[list[Issue], list[str]]:
    """Static checks of a schema-valid template: operators, wiring, cycles, references. Returns (issues, order)."""
    t, smap, issues = loaded.template, loaded.source, []
    ids = [s.id for s in t.steps]
    for i, step in enumerate(t.steps):
        if ids.index(step.id) != i:
            issues.append(smap.issue(("steps", i, "id"), Msg(f"step id '{step.id}' is used twice", f"步骤 id '{step.id}' 重复使用"),
                                  Msg("give each step its own id", "每个步骤使用自己的 id")))
    for i, step in enumerate(t.steps):
        if step.id == DATA:
            issues.append(smap.issue(("steps", i, "id"), Msg(f"'{DATA}' is reserved for the bound table", f"'{DATA}' 保留给绑定的数据表"),
                                  Msg("rename the step", "请给步骤改名")))
    steps_by_id = {s.id: s for s in t.steps}
    deps: dict[str, set[str]] = {s.id: set() for s in t.steps}
    for i, step in enumerate(t.steps):
        op = registry.get(step.op_id, step.op_version)
        if op is None:
            issues.append(_unknown_op(smap, i, step.op))
        issues += _check_inputs(smap, i, step, op, steps_by_id, deps)
        if op is not None:
            issues += _check_with(smap, i, step, op, t)
    order, cycle = topological_order(deps)
    if cycle:
        loop = " → ".join(reversed(cycle))
        first = ids.index(cycle[0])
        issues.append(smap.issue(("steps", first, "inputs"), Msg(f"steps form a cycle: {loop}", f"步骤之间形成循环：{loop}"),
                                 Msg("a step may only read steps that do not read it back", "一个步骤只能读取不反过来读取它的步骤")))
    for key, ref in t.outputs.items():
        issues += _check_output(smap, key, ref, steps_by_id)
    return issues, order


def check_template_data(data: Any, smap: SourceMap, file: str | Path) -> tuple[LoadedTemplate | None, list[Issue]]:
    """Every problem of a template read from YAML, in one pass: the schema's and, even when the schema fails, the
    checks that need only what did parse (each step's operator), so a bad version never hides an unknown operator."""
    if not isinstance(data, dict):
        return None, [Issue(Msg("a template must be a mapping of keys (id, version, title, ...)",
                                "模板必须是键的映射（id、version、title 等）"), str(file), 1)]
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        return None, issues_from_validation(exc, Template, data, smap) + _raw_step_issues(data, smap)
    loaded = LoadedTemplate(template, smap, Path(file))
    return loaded, check_template(loaded)[0]


def _raw_step_issues(data: dict, smap: SourceMap) -> list[Issue]:
    """Unknown operators among steps that did not pass the schema as a whole (their `op` text is enough)."""
    steps = data.get("steps")
    issues = []
    for i, raw in enumerate(steps if isinstance(steps, list) else []):
        op = raw.get("op") if isinstance(raw, dict) else None
        if isinstance(op, str) and re.fullmatch(StepSpec.model_fields["op"].metadata[0].pattern, op):
            version = int(op.split("@")[1]) if "@" in op else None
            if registry.get(op.split("@")[0], version) is None:
                issues.append(_unknown_op(smap, i, op))
    return issues


def _unknown_op(smap: SourceMap, i: int, op: str) -> Issue:
    import difflib

    op_id = op.split("@")[0]
    if registry.get(op_id) is not None:
        versions = sorted({s.version for s in registry.all_operators() if s.id == op_id})
        return smap.issue(("steps", i, "op"), Msg(f"operator '{op_id}' has no version {op.split('@')[1]}", f"算子 '{op_id}' 没有版本 {op.split('@')[1]}"),
                          Msg(f"available versions: {versions}", f"可用版本：{versions}"))
    close = difflib.get_close_matches(op_id, registry.known_ids(), n=1)
    hint = (did_you_mean(close[0]) if close else
            Msg("list operators with: python -m engine operators", "查看算子列表：python -m engine operators"))
    return smap.issue(("steps", i, "op"), Msg(f"unknown operator '{op_id}'", f"未知算子 '{op_id}'"), hint)


def _check_inputs(smap, i, step, op, steps_by_id, deps) -> list[Issue]:
    issues = []
    if op is not None:
        for missing in [n for n in op.inputs if n not in step.inputs]:
            issues.append(smap.issue(("steps", i, "inputs"), Msg(f"input '{missing}' of {op.id} is not connected", f"{op.id} 的输入 '{missing}' 没有连接"),
                                     Msg(f"add inputs: {{{missing}: STEP.OUTPUT}}", f"请添加 inputs: {{{missing}: 步骤.输出}}")))
        for extra in [n for n in step.inputs if n not in op.inputs]:
            issues.append(smap.issue(("steps", i, "inputs", extra), Msg(f"{op.id} has no input '{extra}'", f"{op.id} 没有输入 '{extra}'"),
                                     Msg(f"its inputs: {', '.join(op.inputs) or '(none)'}", f"它的输入：{', '.join(op.inputs) or '（无）'}")))
    for name, raw in step.inputs.items():
        ref = _parse_input(raw)
        if ref.step is None:
            continue
        source = steps_by_id.get(ref.step)
        if source is None:
            issues.append(smap.issue(("steps", i, "inputs", name), Msg(f"reads step '{ref.step}', which does not exist", f"读取的步骤 '{ref.step}' 不存在"),
                                     Msg(f"steps: {', '.join(steps_by_id)}; or '{DATA}' for the bound table",
                                         f"可用步骤：{', '.join(steps_by_id)}；或用 '{DATA}' 表示绑定的数据表")))
            continue
        deps[step.id].add(ref.step)
        src_op = registry.get(source.op_id, source.op_version)
        if src_op is None:
            continue
        output = ref.output or (src_op.outputs[0] if len(src_op.outputs) == 1 else "")
        if output not in src_op.outputs:
            issues.append(smap.issue(("steps", i, "inputs", name),
                                     Msg(f"step '{ref.step}' ({src_op.id}) has no output '{ref.output}'",
                                         f"步骤 '{ref.step}'（{src_op.id}）没有输出 '{ref.output}'"),
                                     Msg(f"its outputs: {', '.join(src_op.outputs)}", f"它的输出：{', '.join(src_op.outputs)}")))
    return issues


def _check_with(smap, i, step, op, t: Template) -> list[Issue]:
    issues, literal, referenced = [], {}, set()
    for key, value in step.with_.items():
        refs = _refs_in(value)
        for kind, name in refs:
            known = {"params": t.params, "roles": list(ROLE_NAMES) + list(DERIVED_ROLES), "expert": EXPERT_KEYS}[kind]
            if name not in known:
                issues.append(smap.issue(("steps", i, "with", key), Msg(f"reference '{kind}.{name}' names nothing", f"引用 '{kind}.{name}' 没有指向任何东西"),
                                         Msg(f"{kind}: {', '.join(known) or '(none declared)'}",
                                             f"{kind}：{', '.join(known) or '（未声明）'}")))
        if refs:
            referenced.add(key)
        else:
            literal[key] = value
    try:
        op.params_model.model_validate(literal)
    except ValidationError as exc:
        for issue in issues_from_validation(exc, op.params_model, literal, smap, ("steps", i, "with")):
            if _with_key(issue) not in referenced:
                issues.append(issue)
    return issues


def _with_key(issue: Issue) -> str | None:
    """'steps[2].with.folds[0]' -> 'folds'."""
    m = re.match(r"^steps\[\d+\]\.with\.([A-Za-z_][A-Za-z0-9_]*)", issue.path or "")
    return m.group(1) if m else None


def _check_output(smap, key, ref, steps_by_id) -> list[Issue]:
    parsed = _parse_input(ref)
    if parsed.step not in steps_by_id:
        return [smap.issue(("outputs", key), Msg(f"output '{key}' reads step '{parsed.step}', which does not exist",
                                                  f"输出 '{key}' 读取的步骤 '{parsed.step}' 不存在"))]
    op = registry.get(steps_by_id[parsed.step].op_id, steps_by_id[parsed.step].op_version)
    if op is not None and parsed.output and parsed.output not in op.outputs:
        return [smap.issue(("outputs", key), Msg(f"step '{parsed.step}' has no output '{parsed.output}'", f"步骤 '{parsed.step}' 没有输出 '{parsed.output}'"),
                           Msg(f"its outputs: {', '.join(op.outputs)}", f"它的输出：{', '.join(op.outputs)}"))]
    return []


# -- template + recipe + data ------------------------------------------------------------------------------
def compile_pipeline(loaded: LoadedTemplate, recipe: Recipe, rsmap: SourceMap, source: DataSource) -> Pipeline:
    """Bind a recipe to a template and data; raise InvalidInput listing every problem found."""
    t = loaded.template
    issues, order = check_template(loaded)
    issues += check_roles(t, recipe, rsmap, source)
    params, param_issues = _validate_params(t, recipe, rsmap, source)
    issues += param_issues + _check_expert(recipe, rsmap, source)
    if issues:
        raise InvalidInput(issues)
    issues += check_target(t, recipe, rsmap, source, params)  # the data itself, once the roles are right
    if issues:
        raise InvalidInput(issues)
    roles = _resolve_roles(t, recipe)
    ref_roles = {r: (cols[0] if cols else None) if _single(t, r) else cols for r, cols in roles.items()}
    steps = []
    for step_id in order:
        i = next(k for k, s in enumerate(t.steps) if s.id == step_id)
        spec = t.steps[i]
        op = registry.get(spec.op_id, spec.op_version)
        values = {k: _resolve(v, params, ref_roles, recipe) for k, v in spec.with_.items()}
        try:
            op_params = op.params_model.model_validate(values)
        except ValidationError as exc:
            issues += [_from_recipe(x, spec.with_) for x in
                       issues_from_validation(exc, op.params_model, values, loaded.source, ("steps", i, "with"))]
            continue
        issues += _too_few_rows(op_params, spec.with_, source, rsmap)
        inputs = {name: _full_ref(_parse_input(raw), t) for name, raw in spec.inputs.items()}
        steps.append(PipelineStep(step_id, op, op_params, inputs, spec.title.model_dump() if spec.title else None))
    if issues:
        raise InvalidInput(issues)
    outputs = {k: _full_ref(_parse_input(v), t) for k, v in t.outputs.items()}
    return Pipeline(t.id, t.version, recipe.model_dump(mode="json", exclude_none=True), roles, params, steps, outputs, recipe.seed, source)


def _too_few_rows(op_params, with_: dict, source: DataSource, rsmap: SourceMap) -> list[Issue]:
    """An operator that declares `min_rows()` (cross-validation folds) against the table's row count: a table too
    small for the folds is bad input (exit 2) naming the parameter, not a failed run."""
    need = getattr(op_params, "min_rows", None)
    if not callable(need) or source.rows is None or source.rows >= need():
        return []
    origin = with_.get("folds")
    where = ("params", origin.split(".", 1)[1]) if isinstance(origin, str) and origin.startswith("params.") \
        else ("params", "folds")
    folds = getattr(op_params, "folds", None)
    return [rsmap.issue(where, Msg(f"the table has {source.rows} rows; {folds}-fold cross-validation needs at "
                                   f"least {need()}", f"数据表只有 {source.rows} 行；{folds} 折交叉验证至少需要 {need()} 行"),
                        Msg(f"lower {where[1]} or bind a table with more rows",
                            f"请减小 {where[1]}，或绑定行数更多的数据表"))]


def _from_recipe(issue: Issue, with_: dict) -> Issue:
    origin = with_.get(_with_key(issue))
    if isinstance(origin, str) and REF_RE.match(origin):
        message = Msg(f"{issue.message} (value comes from the recipe's {origin})",
                      f"{zh(issue.message)}（取值来自配方的 {origin}）")
        return Issue(message, issue.file, issue.line, issue.path,
                     issue.hint or Msg(f"change {origin} in the recipe", f"请在配方中修改 {origin}"))
    return issue


def _full_ref(ref: InputRef, t: Template) -> InputRef:
    if ref.step is None or ref.output:
        return ref
    op = registry.get(*_op_of(t, ref.step))
    return InputRef(ref.step, op.outputs[0])


def _op_of(t: Template, step_id: str) -> tuple[str, int | None]:
    spec = next(s for s in t.steps if s.id == step_id)
    return spec.op_id, spec.op_version


def check_roles(t: Template, recipe: Recipe, rsmap: SourceMap, source: DataSource) -> list[Issue]:
    issues, seen = [], {}
    specs = dict(t.roles.items())
    for role in ROLE_NAMES:
        cols = getattr(recipe.roles, role)
        spec = specs.get(role)
        loc = ("roles", role)
        if spec is None:
            if cols:
                issues.append(rsmap.issue(loc, Msg(f"template {t.id} has no role '{role}'", f"模板 {t.id} 没有角色 '{role}'"),
                                          Msg(f"its roles: {', '.join(specs)}", f"它的角色：{', '.join(specs)}")))
            continue
        what = Msg(role, f"{spec.label.zh}（{role}）" if spec.label else f"角色 {role}")
        if len(cols) < spec.min:
            issues.append(rsmap.issue(loc if cols else ("roles",), Msg(f"role '{role}' needs at least {spec.min} column(s), got {len(cols)}",
                                          f"角色 '{role}' 至少需要 {spec.min} 列，现在是 {len(cols)} 列"),
                                      Msg(f"drag a column into {role}", f"请把一列拖入{zh(what)}")))
        if spec.max is not None and len(cols) > spec.max:
            issues.append(rsmap.issue(loc, Msg(f"role '{role}' takes at most {spec.max} column(s), got {len(cols)}",
                                                  f"角色 '{role}' 最多 {spec.max} 列，现在是 {len(cols)} 列")))
        for j, col in enumerate(cols):
            issues += _check_column(rsmap, loc + (j,) if len(cols) > 1 else loc, col, spec.dtypes, source, what)
            if col in seen and role != "ignore":
                issues.append(rsmap.issue(loc, Msg(f"column '{col}' is in both '{seen[col]}' and '{role}'",
                                              f"列 '{col}' 同时在 '{seen[col]}' 和 '{role}' 中"),
                                          Msg("a column plays one role", "一列只能担任一个角色")))
            seen.setdefault(col, role)
    return issues


def _check_column(rsmap, loc, col, dtypes, source: DataSource, what: str) -> list[Issue]:
    if col not in source.columns:
        import difflib

        close = difflib.get_close_matches(col, list(source.columns), n=1)
        listed = ', '.join(list(source.columns)[:12])
        hint = (did_you_mean(close[0]) if close else
                Msg(f"columns: {listed}", f"可选列：{listed}"))
        return [rsmap.issue(loc, Msg(f"column '{col}' is not in {source.label}", f"列 '{col}' 不存在（{zh(source.label)}）"), hint)]
    if not matches(source.columns[col], dtypes):
        stats = source.stats(col) if "any" not in dtypes else None
        if stats is not None and stats[1] == 0:  # an empty column has no type to speak of
            return [rsmap.issue(loc, Msg(f"column '{col}' is empty in every row of {source.label} ({stats[0]} rows)",
                                         f"列 '{col}' 在{zh(source.label)}的每一行（共 {stats[0]} 行）都是空的"),
                                Msg("choose a column that holds values", "请选择有数据的列"))]
        kind = dtype_class(source.columns[col])
        return [rsmap.issue(loc, Msg(f"column '{col}' is {kind} ({source.columns[col]}), but {what} needs {'/'.join(dtypes)}",
                                     f"列 '{col}' 是{dtype_zh(kind)}（{source.columns[col]}），但{zh(what)}需要{dtype_zh(dtypes)}"),
                            Msg("pick another column, or fix its type in the data factory", "请换一列，或在数据工厂中修正它的类型"))]
    return []


def _validate_params(t: Template, recipe: Recipe, rsmap: SourceMap, source: DataSource):
    model = t.params_model()
    try:
        params = model.model_validate(recipe.params).model_dump(mode="json")
    except ValidationError as exc:
        return {}, issues_from_validation(exc, model, recipe.params, rsmap, ("params",))
    issues = []
    for name, spec in t.params.items():
        if spec.type in ("column", "columns") and params.get(name):
            values = params[name] if spec.type == "columns" else [params[name]]
            for col in values:
                issues += _check_column(rsmap, ("params", name), col, spec.dtypes, source, Msg(f"parameter '{name}'", f"参数 '{name}'"))
    return params, issues


def _check_expert(recipe: Recipe, rsmap: SourceMap, source: DataSource) -> list[Issue]:
    issues = []
    expert = recipe.expert
    for key in EXPERT_KEYS:
        value = getattr(expert, key)
        for col in value:
            loc = ("expert", key, col) if isinstance(value, dict) else ("expert", key)
            name = col.partition("=")[0] if key == "costs" else col  # costs: "origin=B" prices a level
            issues += _check_column(rsmap, loc, name, ["any"], source, f"expert.{key}")
    return issues


def _single(t: Template, role: str) -> bool:
    spec = getattr(t.roles, role, None)
    return spec is not None and spec.max == 1


def _resolve_roles(t: Template, recipe: Recipe) -> dict[str, list[str]]:
    roles = {r: list(getattr(recipe.roles, r)) for r in ROLE_NAMES}
    excluded = set(recipe.expert.exclude)
    features = [c for c in roles["controllable"] + roles["context"] + recipe.expert.force if c not in excluded]
    roles["features"] = list(dict.fromkeys(features))
    return roles


def _resolve(value: Any, params: dict, roles: dict, recipe: Recipe) -> Any:
    if isinstance(value, list):
        return [_resolve(v, params, roles, recipe) for v in value]
    if not (isinstance(value, str) and (m := REF_RE.match(value))):
        return value
    kind, name = m.groups()
    if kind == "params":
        return params.get(name)
    if kind == "expert":
        return getattr(recipe.expert, name)
    return roles.get(name, [])
