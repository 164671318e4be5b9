"""Recipes: read (YAML file or the UI's dict), apply --set overrides, validate, compile against their data.

Problems are collected as far as the recipe allows, and each is blamed on where it came from: the recipe's
file:line, or the `--set` override that introduced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.store import binding
from engine.store.catalog import Catalog
from engine.pipeline.compiler import compile_pipeline
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg
from engine.store.ingest.text import CSV_EXT, EXCEL_EXT, PARQUET_EXT
from engine.pipeline.library import LoadedTemplate, TemplateLibrary
from engine.pipeline.graph import Pipeline
from engine.schema.errors import issues_from_validation
from engine.schema.recipe import Recipe
from engine.core.yaml_io import SourceMap, format_loc, load_file, loads


@dataclass
class LoadedRecipe:
    recipe: Recipe
    source: SourceMap
    path: Path | None
    data: dict[str, Any]
    overridden: dict[str, str] = field(default_factory=dict)  # key path -> the --set item


def apply_overrides(data: dict[str, Any], overrides: list[str] | None) -> dict[str, str]:
    """--set key=value: `folds=3` sets params.folds; dotted paths (`roles.target=PE`) set any recipe key.
    Returns {key path: item} so that problems can be blamed on the override."""
    overridden = {}
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(Issue(Msg(f"--set '{item}' is not key=value", f"--set '{item}' 不是 键=值 的形式"),
                                     hint=Msg("e.g. --set folds=3", "例如 --set folds=3")))
        value, _ = loads(raw, f"--set {key}") if raw.strip() else (None, None)
        path = key.strip().split(".")
        if path[0] not in Recipe.model_fields:
            path = ["params", *path]
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InvalidInput(Issue(Msg(f"--set '{item}': '{part}' is not a mapping",
                                             f"--set '{item}'：'{part}' 不是映射（键: 值）")))
        node[path[-1]] = value
        overridden[format_loc(tuple(path))] = item
    return overridden


def _blame(issues: list[Issue], overridden: dict[str, str]) -> list[Issue]:
    out = []
    for issue in issues:
        item = next((v for k, v in overridden.items() if (issue.path or "") == k
                     or (issue.path or "").startswith((k + ".", k + "["))), None)
        out.append(issue if item is None else
                   Issue(issue.message, f"--set {item}", None, issue.path,
                         issue.hint or Msg("fix the --set value", "请修改 --set 的值")))
    return out


def load_recipe(source: str | Path | dict, overrides: list[str] | None = None,
                library: TemplateLibrary | None = None) -> LoadedRecipe:
    """A validated recipe; on schema errors, also reports what can be checked without it (template, params)."""
    if isinstance(source, dict):
        data, smap, path = dict(source), SourceMap("<recipe>"), None
    else:
        path = Path(source)
        if path.suffix.lower() in CSV_EXT | EXCEL_EXT | PARQUET_EXT:
            raise InvalidInput(Issue(Msg(f"{path} is a data file, not a recipe", f"{path} 是数据文件，不是配方"),
                                     hint=Msg(f"ingest it first: python -m engine ingest {path} --table NAME",
                                              f"请先导入：python -m engine ingest {path} --table 表名")))
        data, smap = load_file(path)
    if not isinstance(data, dict):
        raise InvalidInput(Issue(Msg("a recipe must be a mapping (template, name, data, roles, params)",
                                     "配方必须是映射（template、name、data、roles、params）"), smap.file, 1))
    overridden = apply_overrides(data, overrides)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        issues = issues_from_validation(exc, Recipe, data, smap)
        issues += _template_and_params(data, smap, library)
        raise InvalidInput(_blame(_unique(issues), overridden)) from None
    return LoadedRecipe(recipe, smap, path, data, overridden)


def _template_and_params(data: dict, smap: SourceMap, library: TemplateLibrary | None) -> list[Issue]:
    """Problems with the template reference and the params, checked even when other parts are broken."""
    ref = data.get("template")
    if library is None or not isinstance(ref, str):
        return []
    template_id, _, version = ref.partition("@")
    try:
        loaded = library.get(template_id, version or None)
    except InvalidInput as exc:
        return [_at(smap, i, ("template",)) for i in exc.issues]
    params = data.get("params")
    if not isinstance(params, dict):
        return []
    model = loaded.template.params_model()
    try:
        model.model_validate(params)
    except ValidationError as exc:
        return issues_from_validation(exc, model, params, smap, ("params",))
    return []


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


def _at(smap: SourceMap, issue: Issue, loc: tuple) -> Issue:
    """Place an issue raised without a location at `loc` of the recipe."""
    if issue.file:
        return issue
    return Issue(issue.message, smap.file, smap.line_for(loc), issue.path or format_loc(loc), issue.hint)


def compile_recipe(source: str | Path | dict, catalog: Catalog, library: TemplateLibrary,
                   overrides: list[str] | None = None) -> Pipeline:
    loaded = load_recipe(source, overrides, library)
    try:
        return _compile(loaded, catalog, library)
    except InvalidInput as exc:
        raise InvalidInput(_blame(exc.issues, loaded.overridden)) from None


def _compile(loaded: LoadedRecipe, catalog: Catalog, library: TemplateLibrary) -> Pipeline:
    recipe, smap = loaded.recipe, loaded.source
    try:
        template: LoadedTemplate = library.get(recipe.template_id, recipe.template_version)
    except InvalidInput as exc:
        issues = [_at(smap, i, ("template",)) for i in exc.issues]
        if loaded.path is not None:  # the migrate hint names this very file
            issues = [replace(i, hint=(i.hint or "").replace("RECIPE.yaml", str(loaded.path)) or None) for i in issues]
        if recipe.template_id in library.templates:  # and what else moving to the newest version takes
            from engine.service.migrate import plan_migration

            issues += plan_migration(loaded.data, smap, library).problems
        raise InvalidInput(issues) from None
    base_dir = loaded.path.parent if loaded.path else None
    try:
        source = binding.resolve(recipe.data, catalog, base_dir)
    except InvalidInput as exc:
        issues = [_at(smap, i, ("data",)) for i in exc.issues]
        raise InvalidInput(issues + _template_and_params(loaded.data, smap, library)) from None
    return compile_pipeline(template, recipe, smap, source)
