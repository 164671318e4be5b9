"""Template authoring: check a draft's text, save it as a new version (semver rule enforced), dry-run it on a sample.

A draft lives outside the library (an editor buffer, a file elsewhere); saving puts it at `<folder>/<id>.yaml` and
moves the version it replaces to `<folder>/<id>/<version>.yaml`, so recipes pinned to it keep running.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from engine.core import config
from engine.store.binding import quote, resolve
from engine.pipeline.cache import StepCache
from engine.store.catalog import Catalog
from engine.pipeline.compiler import check_template, check_template_data, compile_pipeline
from engine.core.errors import InvalidInput, Issue
from engine.pipeline.executor import LocalExecutor, ProgressEvent, StepFailed
from engine.core.i18n import Msg, join, zh
from engine.pipeline.library import LoadedTemplate, TemplateLibrary
from engine.service.recipes import load_recipe
from engine.pipeline.result import build as build_result, to_jsonable
from engine.schema.errors import issues_from_validation
from engine.schema.template import Template
from engine.pipeline.versions import TemplateDiff, check_version, diff_templates, newest, next_version
from engine.core.yaml_io import loads

DRY_RUN_ROWS = 500


SKELETON = """\
# yaml-language-server: $schema=../schemas/template.schema.json
id: my_template
version: 0.1.0
title: {en: My template, zh: 我的模板}
description: {en: What it does and for whom, zh: 它做什么、给谁用}
scenario: modelling
roles:
  target: {required: true, dtypes: [numeric], max: 1, label: {en: Target, zh: 目标}}
  controllable: {required: true, dtypes: [numeric], label: {en: Controllable, zh: 可调参数}}
params:
  folds: {type: int, default: 5, min: 2, max: 20, widget: slider, label: {en: Cross-validation folds, zh: 交叉验证折数}}
steps:
  - id: clean
    op: clean.drop_useless@1
    title: {en: Clean, zh: 清洗}
    inputs: {frame: data}
    with: {target: roles.target, columns: roles.features}
  - id: train
    op: model.lightgbm_cv@1
    title: {en: Train and validate, zh: 训练与验证}
    inputs: {frame: clean.frame}
    with: {target: roles.target, features: roles.features, folds: params.folds}
outputs:
  metrics: train.metrics
  key_parameters: train.importance
"""
_VERSION_LINE = re.compile(r"^version:[ \t]*[\"']?[^\s\"'#]*[\"']?", re.MULTILINE)


def suggested_version(loaded: LoadedTemplate, library: TemplateLibrary) -> str | None:
    """The smallest version the semver rule allows for this draft (None for a template's first version)."""
    versions = library.templates.get(loaded.template.id, {})
    if not versions:
        return None
    return next_version(newest(versions), diff_with_latest(loaded, library).required or "patch")


def with_version(text: str, version: str) -> str:
    """The draft's text with its top-level `version:` line set (comments and layout untouched)."""
    return _VERSION_LINE.sub(f"version: {version}", text, count=1)


def parse_text(text: str, file: str = "<editor>") -> LoadedTemplate:
    """A schema-valid template from YAML text; InvalidInput with file:line otherwise."""
    data, smap = loads(text, file)
    if not isinstance(data, dict):
        raise InvalidInput(Issue(Msg("a template must be a mapping of keys (id, version, title, ...)",
                                     "模板必须是键的映射（id、version、title 等）"), file, 1))
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(issues_from_validation(exc, Template, data, smap)) from None
    return LoadedTemplate(template, smap, Path(file))


def check_text(text: str, file: str = "<editor>") -> tuple[LoadedTemplate | None, list[Issue]]:
    """Every problem of a draft (syntax, schema, operators, wiring); the template when its schema is valid."""
    try:
        data, smap = loads(text, file)
    except InvalidInput as exc:  # a YAML syntax error: nothing else can be checked
        return None, exc.issues
    return check_template_data(data, smap, file)


def version_issues(loaded: LoadedTemplate, library: TemplateLibrary) -> list[Issue]:
    """The semver rule against the newest saved version of the same id, placed at the draft's `version:` line."""
    versions = library.templates.get(loaded.template.id, {})
    latest = versions[newest(versions)].template if versions else None
    issues = check_version(latest, loaded.template, list(versions))
    return [Issue(i.message, loaded.source.file, loaded.source.line_for(("version",)), i.path, i.hint) for i in issues]


def diff_with_latest(loaded: LoadedTemplate, library: TemplateLibrary) -> TemplateDiff | None:
    versions = library.templates.get(loaded.template.id, {})
    return diff_templates(versions[newest(versions)].template, loaded.template) if versions else None


@dataclass
class Saved:
    path: Path  # where the new version now lives
    archived: Path | None  # where the version it replaced went
    diff: TemplateDiff | None  # against the previous newest version


def save_template(text: str, library: TemplateLibrary, folder: Path | None = None, file: str = "<editor>") -> Saved:
    """Save a draft as a new version; InvalidInput when it has problems or breaks the semver rule."""
    loaded, issues = check_text(text, file)
    if loaded is None or issues:
        raise InvalidInput(issues)
    issues = version_issues(loaded, library)
    if issues:
        raise InvalidInput(issues)
    tpl = loaded.template
    versions = library.templates.get(tpl.id, {})
    folder = Path(folder) if folder else _home_folder(versions)
    target = folder / f"{tpl.id}.yaml"
    if Path(file).resolve() == target.resolve():
        raise InvalidInput(Issue(Msg(f"{file} is the saved newest version itself", f"{file} 就是已保存的最新版本本身"),
                                 file, hint=Msg(
            "copy it to a draft (e.g. python -m engine template show ID > draft.yaml), edit the draft, save that",
            "先复制成草稿（例如 python -m engine template show ID > draft.yaml），改草稿，再保存草稿")))
    archived = _archive(target, folder, library) if target.exists() else None
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{tpl.id}", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")
    os.replace(tmp, target)
    return Saved(target, archived, diff_with_latest(loaded, library))


def _home_folder(versions: dict[str, LoadedTemplate]) -> Path:
    """Where a template is saved: beside its newest version, else the first extra folder, else templates/."""
    if versions:
        latest = versions[newest(versions)]
        return latest.path.parent.parent if latest.archived else latest.path.parent
    dirs = config.template_dirs()
    return dirs[1] if len(dirs) > 1 else dirs[0]


def _archive(target: Path, folder: Path, library: TemplateLibrary) -> Path:
    """Move the current `<id>.yaml` to `<id>/<version>.yaml` (refused when it is broken or the slot is taken)."""
    if str(target) in library.broken:
        problems = join("; ", library.broken[str(target)], "；")
        raise InvalidInput(Issue(Msg(f"{target} has problems, so its version is unknown", f"{target} 有问题，无法确定其版本"),
                                 str(target), hint=Msg(f"fix or remove that file first: {problems}",
                                                       f"请先修正或移走该文件：{zh(problems)}")))
    old = next((v for vs in library.templates.values() for v in vs.values() if v.path == target), None)
    if old is None:
        raise InvalidInput(Issue(Msg(f"{target} is not in the template library", f"{target} 不在模板库中"), str(target),
                                 hint=Msg("check the folder", "请检查所在文件夹")))
    archived = folder / old.template.id / f"{old.template.version}.yaml"
    if archived.exists():
        raise InvalidInput(Issue(Msg(f"{archived} already exists", f"{archived} 已存在"), str(archived),
                                 hint=Msg("remove the duplicate version", "请删掉重复的版本")))
    archived.parent.mkdir(parents=True, exist_ok=True)
    os.replace(target, archived)
    text = archived.read_text(encoding="utf-8-sig")
    if (moved := _deepen_schema_hint(text)) != text:
        archived.write_text(moved, encoding="utf-8")
    return archived


def _deepen_schema_hint(text: str) -> str:
    """A relative `# yaml-language-server: $schema=../x` hint still resolves one folder further down."""
    return re.sub(r"^(#\s*yaml-language-server:\s*\$schema=)(?![a-z]+://|/)", r"\1../", text, count=1,
                  flags=re.MULTILINE)


# -- dry run -------------------------------------------------------------------------------------------------
def sample_sql(table: str, rows: int = DRY_RUN_ROWS, how: str = "head", seed: int = 0) -> str:
    """A read-only SELECT of a sample: the first `rows` rows, or a reproducible random sample."""
    if how == "random":
        return f"SELECT * FROM {quote(table)} USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE ({int(seed)})"
    if how != "head":
        raise InvalidInput(Issue(Msg(f"unknown sample '{how}'", f"未知的抽样方式 '{how}'"),
                                 hint=Msg("use head or random", "请用 head 或 random")))
    return f"SELECT * FROM {quote(table)} LIMIT {int(rows)}"


def compile_draft(text: str, catalog: Catalog, table: str, *, roles: dict[str, Any],
                  params: dict[str, Any] | None = None, expert: dict[str, Any] | None = None,
                  rows: int = DRY_RUN_ROWS, how: str = "head", seed: int = 0, file: str = "<editor>"):
    """A draft compiled against a sample of `table` (a read-only SELECT: no table is created)."""
    loaded, issues = check_text(text, file)
    if loaded is None or issues:
        raise InvalidInput(issues)
    catalog.table_info(table)  # InvalidInput naming the tables when it does not exist
    recipe_data = {"template": loaded.template.key, "name": f"dry run on {table}",
                   "data": {"sql": sample_sql(table, rows, how, seed)}, "roles": roles or {},
                   "params": params or {}, "expert": expert or {}, "seed": seed}
    recipe = load_recipe(recipe_data)
    return compile_pipeline(loaded, recipe.recipe, recipe.source, resolve(recipe.recipe.data, catalog))


def dry_run(text: str, catalog: Catalog, table: str, *, roles: dict[str, Any], params: dict[str, Any] | None = None,
            expert: dict[str, Any] | None = None, rows: int = DRY_RUN_ROWS, how: str = "head", seed: int = 0,
            on_progress: Callable[[ProgressEvent], None] | None = None, file: str = "<editor>") -> dict[str, Any]:
    """Run a draft on a sample of `table`: nothing is saved (no table, no run record, no shared cache entries).

    Returns a result in the result.json shape with `status` succeeded or failed (`error: {step, message}`)."""
    pipeline = compile_draft(text, catalog, table, roles=roles, params=params, expert=expert, rows=rows, how=how,
                             seed=seed, file=file)
    run_id = "dry-run-" + secrets.token_hex(3)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ai-studio-dry-run-") as cache:
        try:
            execution = LocalExecutor(StepCache(Path(cache))).execute(pipeline, run_id, on_event=on_progress)
        except StepFailed as exc:
            result = build_result(run_id, "failed", pipeline, None, recipe_path=None, artifacts={},
                                  wall_seconds=time.perf_counter() - started,
                                  error={"step": exc.step_id, "message": exc.text("en"),
                                         "zh": exc.text("zh")})
        else:
            result = build_result(run_id, "succeeded", pipeline, execution, recipe_path=None, artifacts={},
                                  wall_seconds=time.perf_counter() - started)
    result["sample"] = {"table": table, "rows": pipeline.source.rows, "how": how, "seed": seed}
    return to_jsonable(result)
