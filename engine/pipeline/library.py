"""The template library: every templates/*.yaml, indexed by id and version.

Layout of a template folder: `<id>.yaml` holds the newest version of a template (the one people edit and the gallery
shows); older versions live beside it as `<id>/<version>.yaml`, so recipes pinned to them keep running.
A broken template file does not break the library: its errors are kept (file:line) and shown beside the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from engine.core import config
from engine.core.errors import InvalidInput, Issue
from engine.core.i18n import Msg, did_you_mean
from engine.schema.errors import issues_from_validation
from engine.schema.template import Template
from engine.pipeline.versions import newest, sort_versions
from engine.core.yaml_io import SourceMap, load_file


@dataclass
class LoadedTemplate:
    template: Template
    source: SourceMap
    path: Path

    @property
    def archived(self) -> bool:
        """An older version kept in `<id>/<version>.yaml`."""
        return self.path.parent.name == self.template.id


@dataclass
class TemplateLibrary:
    templates: dict[str, dict[str, LoadedTemplate]] = field(default_factory=dict)  # id -> version -> loaded
    broken: dict[str, list[Issue]] = field(default_factory=dict)  # file -> issues

    @classmethod
    def load(cls, dirs: list[Path] | None = None) -> "TemplateLibrary":
        lib = cls()
        for folder in dirs or config.template_dirs():
            for path in template_files(Path(folder)):
                try:
                    loaded = _load_cached(path)
                except InvalidInput as exc:
                    lib.broken[str(path)] = exc.issues
                    continue
                if problem := _misplaced(loaded, Path(folder)):
                    lib.broken[str(path)] = [problem]
                    continue
                versions = lib.templates.setdefault(loaded.template.id, {})
                if loaded.template.version in versions:
                    other = versions[loaded.template.version].path
                    lib.broken[str(path)] = [Issue(Msg(f"template {loaded.template.key} is also defined in {other}",
                                                       f"模板 {loaded.template.key} 也在 {other} 中定义"),
                                                   str(path), loaded.source.line_for(("version",)), "version",
                                                   Msg("bump the version", "请提高版本号"))]
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
            return versions[newest(versions)]
        if version not in versions:
            latest, listed = newest(versions), ', '.join(sort_versions(versions))
            raise InvalidInput(Issue(
                Msg(f"template '{template_id}' has no version {version}; versions: {listed}",
                    f"模板 '{template_id}' 没有版本 {version}；现有版本：{listed}"),
                path="template",
                hint=Msg(f"change the pin to {template_id}@{latest} and re-validate; "
                         f"`python -m engine migrate RECIPE.yaml` lists the parameters that differ",
                         f"请把版本固定改为 {template_id}@{latest} 后重新校验；"
                         f"`python -m engine migrate RECIPE.yaml` 会列出有差异的参数")))
        return versions[version]

    def versions(self, template_id: str) -> list[str]:
        """The versions of a template, oldest first (empty when unknown)."""
        return sort_versions(self.templates.get(template_id, {}))

    def latest(self) -> list[Template]:
        return [self.get(tid).template for tid in sorted(self.templates)]


def template_files(folder: Path) -> list[Path]:
    """`<id>.yaml` files of a folder, then the older versions kept in its `<id>/` subfolders."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.y*ml"))
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        files += sorted(sub.glob("*.y*ml"))
    return files


def _misplaced(loaded: LoadedTemplate, folder: Path) -> Issue | None:
    """An older version must sit at `<id>/<version>.yaml`: the path is how people (and `template save`) find it."""
    path, tpl = loaded.path, loaded.template
    if path.parent == folder or (path.parent.name == tpl.id and path.stem == tpl.version):
        return None
    proper = folder / tpl.id / (tpl.version + ".yaml")
    return Issue(Msg(f"an older version must be kept as {tpl.id}/{tpl.version}.yaml (this file declares {tpl.key})",
                     f"旧版本必须存为 {tpl.id}/{tpl.version}.yaml（此文件声明的是 {tpl.key}）"),
                 str(path), loaded.source.line_for(("version",)), "version",
                 Msg(f"rename it to {proper}", f"请改名为 {proper}"))


_LOADED: dict[str, tuple[tuple, LoadedTemplate | InvalidInput]] = {}


def _load_cached(path: Path) -> LoadedTemplate:
    """load_template, kept while the file's size and modification time stay the same: the library is read afresh
    on every call (a new YAML file appears without a restart), but unchanged files are not parsed again."""
    try:
        stat = Path(path).stat()
    except OSError:
        return load_template(path)
    key, stamp = str(Path(path).resolve()), (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    cached = _LOADED.get(key)
    if cached is None or cached[0] != stamp:
        try:
            cached = (stamp, load_template(path))
        except InvalidInput as exc:
            cached = (stamp, exc)
        if len(_LOADED) > 512:
            _LOADED.clear()
        _LOADED[key] = cached
    if isinstance(cached[1], InvalidInput):
        raise cached[1]
    return cached[1]


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
