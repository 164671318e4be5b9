"""The template library: every templates/*.yaml, indexed by id and version.

A broken template file does not break the library: its errors are kept (file:line) and shown beside the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from engine import config
from engine.errors import InvalidInput, Issue
from engine.i18n import Msg, did_you_mean
from engine.schema.errors import issues_from_validation
from engine.schema.template import Template
from engine.yaml_io import SourceMap, load_file


@dataclass
class LoadedTemplate:
    template: Template
    source: SourceMap
    path: Path


@dataclass
class TemplateLibrary:
    templates: dict[str, dict[str, LoadedTemplate]] = field(default_factory=dict)  # id -> version -> loaded
    broken: dict[str, list[Issue]] = field(default_factory=dict)  # file -> issues

    @classmethod
    def load(cls, dirs: list[Path] | None = None) -> "TemplateLibrary":
        lib = cls()
        for folder in dirs or config.template_dirs():
            for path in sorted(Path(folder).glob("*.y*ml")):
                try:
                    loaded = load_template(path)
                except InvalidInput as exc:
                    lib.broken[str(path)] = exc.issues
                    continue
                versions = lib.templates.setdefault(loaded.template.id, {})
                if loaded.template.version in versions:
                    other = versions[loaded.template.version].path
                    lib.broken[str(path)] = [Issue(Msg(f"template {loaded.template.key} is also defined in {other}",
                                                       f"模板 {loaded.template.key} 也在 {other} 中定义"),
                                                   str(path), 1, "version", Msg("bump the version", "请提高版本号"))]
                    continue
                versions[loaded.template.version] = loaded
        return lib

    def get(self, template_id: str, version: str | None = None) -> LoadedTemplate:
        """The template at `version`, or its newest version; InvalidInput naming what exists otherwise."""
        versions = self.templates.get(template_id)
        if not versions:
            import difflib

            close = difflib.get_close_matches(template_id, list(self.templates), n=1)
            names = ', '.join(sorted(self.templates))
            hint = (did_you_mean(close[0]) if close else
                    Msg(f"templates: {names}", f"可用模板：{names}"))
            raise InvalidInput(Issue(Msg(f"unknown template '{template_id}'", f"未知模板 '{template_id}'"),
                                     path="template", hint=hint))
        if version is None:
            return versions[max(versions, key=_semver)]
        if version not in versions:
            available = ', '.join(sorted(versions, key=_semver))
            raise InvalidInput(Issue(Msg(f"template '{template_id}' has no version {version}",
                                         f"模板 '{template_id}' 没有版本 {version}"), path="template",
                                     hint=Msg(f"available versions: {available}", f"可用版本：{available}")))
        return versions[version]

    def latest(self) -> list[Template]:
        return [self.get(tid).template for tid in sorted(self.templates)]


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def load_template(path: str | Path) -> LoadedTemplate:
    """Parse and validate one template file (schema only; the compiler checks operators and wiring)."""
    data, smap = load_file(path)
    if not isinstance(data, dict):
        raise InvalidInput(Issue(Msg("a template must be a mapping of keys (id, version, title, ...)",
                                     "模板必须是键的映射（id、version、title 等）"), str(path), 1))
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(issues_from_validation(exc, Template, data, smap)) from None
    return LoadedTemplate(template, smap, Path(path))
