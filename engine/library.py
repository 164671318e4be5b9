"""The template library: every templates/*.yaml, indexed by id and version.

Layout of a template folder: `<id>.yaml` holds the newest version of a template (the one people edit and the gallery
shows); older versions live beside it as `<id>/<version>.yaml`, so recipes pinned to them keep running.
A broken template file does not break the library: its errors are kept (file:line) and shown beside the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from engine import config
from engine.errors import InvalidInput, Issue
from engine.schema.errors import issues_from_validation
from engine.schema.template import Template
from engine.versions import newest, sort_versions
from engine.yaml_io import SourceMap, load_file


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
                    loaded = load_template(path)
                except InvalidInput as exc:
                    lib.broken[str(path)] = exc.issues
                    continue
                if problem := _misplaced(loaded, Path(folder)):
                    lib.broken[str(path)] = [problem]
                    continue
                versions = lib.templates.setdefault(loaded.template.id, {})
                if loaded.template.version in versions:
                    other = versions[loaded.template.version].path
                    lib.broken[str(path)] = [Issue(f"template {loaded.template.key} is also defined in {other}",
                                                   str(path), loaded.source.line_for(("version",)), "version",
                                                   "bump the version")]
                    continue
                versions[loaded.template.version] = loaded
        return lib

    def get(self, template_id: str, version: str | None = None) -> LoadedTemplate:
        """The template at `version`, or its newest version; InvalidInput naming what exists otherwise."""
        versions = self.templates.get(template_id)
        if not versions:
            import difflib

            close = difflib.get_close_matches(template_id, list(self.templates), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"templates: {', '.join(sorted(self.templates))}"
            raise InvalidInput(Issue(f"unknown template '{template_id}'", path="template", hint=hint))
        if version is None:
            return versions[newest(versions)]
        if version not in versions:
            latest = newest(versions)
            raise InvalidInput(Issue(
                f"template '{template_id}' has no version {version}; versions: {', '.join(sort_versions(versions))}",
                path="template", hint=f"change the pin to {template_id}@{latest} and re-validate; "
                                      f"`python -m engine migrate RECIPE.yaml` lists the parameters that differ"))
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
    return Issue(f"an older version must be kept as {tpl.id}/{tpl.version}.yaml (this file declares {tpl.key})",
                 str(path), loaded.source.line_for(("version",)), "version",
                 f"rename it to {folder / tpl.id / (tpl.version + '.yaml')}")


def load_template(path: str | Path) -> LoadedTemplate:
    """Parse and validate one template file (schema only; the compiler checks operators and wiring)."""
    data, smap = load_file(path)
    if not isinstance(data, dict):
        raise InvalidInput(Issue("a template must be a mapping of keys (id, version, title, ...)", str(path), 1))
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(issues_from_validation(exc, Template, data, smap)) from None
    return LoadedTemplate(template, smap, Path(path))
