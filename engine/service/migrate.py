"""Move a recipe to another version of its template: what changed, what the recipe must change, then the new pin.

`python -m engine migrate RECIPE [--to VERSION] [--write]`. Nothing is dropped or renamed silently: a parameter the
target version does not know is reported with the diff's hint (e.g. "renamed to 'x'?"), and the pin is only
rewritten when the recipe's parameters and roles fit the target version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.pipeline.library import TemplateLibrary
from engine.schema.errors import issues_from_validation
from engine.pipeline.versions import TemplateDiff, diff_templates
from engine.core.yaml_io import SourceMap, load_file


@dataclass
class MigrationPlan:
    template_id: str
    pinned: str | None  # the version the recipe pins (None: unpinned)
    pinned_exists: bool
    target: str
    versions: list[str]
    diff: TemplateDiff | None  # pinned -> target, when the pinned version exists
    problems: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def new_ref(self) -> str:
        return f"{self.template_id}@{self.target}"

    def lines(self) -> list[str]:
        out = []
        if self.pinned and not self.pinned_exists:
            out.append(f"the recipe pins {self.template_id}@{self.pinned}, which does not exist "
                       f"(versions: {', '.join(self.versions)})")
        if self.diff is not None:
            out += self.diff.lines()
        out += [f"must change: {p}" for p in self.problems]
        if self.ok:
            out.append(f"the recipe's parameters and roles fit {self.new_ref}: change the pin to "
                       f"'template: {self.new_ref}' (or rerun with --write) and re-validate")
        return out


def plan_migration(recipe: dict, smap: SourceMap, library: TemplateLibrary, to: str | None = None) -> MigrationPlan:
    """What moving `recipe` (its raw YAML mapping) to version `to` (default: the newest) takes."""
    ref = recipe.get("template")
    if not isinstance(ref, str):
        raise InvalidInput(smap.issue(("template",), Msg("the recipe names no template", "配方没有指定模板"),
                                      Msg("add template: ID@VERSION", "请加上 template: ID@VERSION")))
    template_id, _, pinned = ref.partition("@")
    target = library.get(template_id, to)  # InvalidInput naming the versions when `to` does not exist
    versions = library.versions(template_id)
    old = library.templates[template_id].get(pinned) if pinned else None
    diff = diff_templates(old.template, target.template) if old else None
    plan = MigrationPlan(template_id, pinned or None, old is not None, target.template.version, versions, diff)
    plan.problems = _param_problems(recipe, smap, target.template, diff) + _role_problems(recipe, smap, target.template)
    return plan


def _param_problems(recipe: dict, smap: SourceMap, template, diff: TemplateDiff | None) -> list[Issue]:
    params = recipe.get("params") or {}
    if not isinstance(params, dict):
        return []
    hints = {c.name: c.detail for c in (diff.by_area("param") if diff else []) if c.kind == "removed"}
    names = ", ".join(template.params)
    its_params = Msg(f"its parameters: {names or '(none)'}", f"它的参数：{names or '（无）'}")
    issues = [smap.issue(("params", name), Msg(f"{template.key} has no parameter '{name}'",
                                               f"{template.key} 没有参数 '{name}'"), hints.get(name) or its_params)
              for name in params if name not in template.params]
    known = {k: v for k, v in params.items() if k in template.params}
    try:
        template.params_model().model_validate(known)
    except ValidationError as exc:
        issues += issues_from_validation(exc, template.params_model(), known, smap, ("params",))
    return issues


def _role_problems(recipe: dict, smap: SourceMap, template) -> list[Issue]:
    roles = recipe.get("roles") or {}
    specs = dict(template.roles.items())
    names = ", ".join(specs)
    issues = [smap.issue(("roles", r), Msg(f"{template.key} has no role '{r}'", f"{template.key} 没有角色 '{r}'"),
                         Msg(f"its roles: {names}", f"它的角色：{names}"))
              for r, cols in roles.items() if cols and r not in specs]
    for name, spec in specs.items():
        given = roles.get(name) or []
        count = 1 if isinstance(given, str) else len(given)
        if count < spec.min:
            issues.append(smap.issue(("roles",), Msg(
                f"{template.key} needs at least {spec.min} column(s) in role '{name}', the recipe gives {count}",
                f"{template.key} 的角色 '{name}' 至少需要 {spec.min} 列，配方只给了 {count} 列"),
                Msg(f"add roles.{name}", f"请补上 roles.{name}")))
    return issues


def migrate_file(path: str | Path, library: TemplateLibrary, to: str | None = None,
                 write: bool = False) -> MigrationPlan:
    """Plan the migration of a recipe file; with `write`, rewrite its pin (only that line) when the plan is ok."""
    data, smap = load_file(path)
    if not isinstance(data, dict):
        raise InvalidInput(Issue(Msg("a recipe must be a mapping (template, name, data, roles, params)",
                                     "配方必须是键的映射（template、name、data、roles、params）"), str(path), 1))
    plan = plan_migration(data, smap, library, to)
    if write and plan.ok:
        set_pin(Path(path), smap.line_for(("template",)), plan.new_ref)
    return plan


def set_pin(path: Path, line: int | None, new_ref: str) -> None:
    """Rewrite `template: ...` on `line` (comments and the rest of the file untouched)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    index = (line or 1) - 1
    pattern = re.compile(r"^(\s*template:\s*)([\"']?)[^\s\"'#]+\2")
    if not (0 <= index < len(lines) and pattern.match(lines[index])):
        raise InvalidInput(Issue(Msg("could not find the template: line to rewrite", "找不到要改写的 template: 行"),
                                 str(path), line, hint=Msg(f"change it by hand to 'template: {new_ref}'",
                                                           f"请手动改为 'template: {new_ref}'")))
    lines[index] = pattern.sub(lambda m: f"{m.group(1)}{new_ref}", lines[index], count=1)
    path.write_text("".join(lines), encoding="utf-8")
