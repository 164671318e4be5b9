"""Template versions: what changed between two versions, and which semver bump that change needs.

The rule a saved template must follow (checked by `check_version`, used by `template save` and the Template Studio):
- a change old recipes may no longer pass (a parameter or role removed or renamed, a parameter's type changed, a
  choice removed, bounds narrowed, a new required parameter or role) needs a MAJOR bump;
- any other change to what runs (steps, parameters, roles, outputs, defaults) needs at least a MINOR bump;
- text only (titles, descriptions, labels, help, widget hints) needs at least a PATCH bump.
Pure functions of two Template objects: no files, no registry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engine.core.errors import Issue
from engine.core.i18n import Msg, join, zh
from engine.schema.template import Template

LEVELS = ("patch", "minor", "major")
TEXT_KEYS = ("label", "help", "choice_labels", "widget", "advanced", "title")  # shown to people, not run
_TOP_TEXT = ("title", "description", "gives", "industries", "scenario")
_ZH = {"param": "参数", "role": "角色", "step": "步骤", "output": "输出", "text": "文本",
       "added": "已添加", "removed": "已删除", "changed": "已修改"}


def parse(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


def newest(versions) -> str:
    return max(versions, key=parse)


def sort_versions(versions) -> list[str]:
    return sorted(versions, key=parse)


def bump_of(old: str, new: str) -> str | None:
    """Which bump takes `old` to `new` ('major' | 'minor' | 'patch'), None when `new` is not above `old`."""
    (a, b, c), (x, y, z) = parse(old), parse(new)
    if (x, y, z) <= (a, b, c):
        return None
    return "major" if x > a else "minor" if y > b else "patch"


def next_version(old: str, level: str) -> str:
    major, minor, patch = parse(old)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


@dataclass(frozen=True)
class Change:
    area: str  # param | role | step | output | text
    name: str  # the parameter, role, step id, output key or top-level key
    kind: str  # added | removed | changed
    detail: str  # what changed, for people (a Msg when it is a sentence)
    level: str  # the bump it needs: patch | minor | major

    def __str__(self) -> str:
        return f"[{self.level}] {self.area} '{self.name}' {self.kind}" + (f": {self.detail}" if self.detail else "")

    @property
    def msg(self) -> Msg:
        """The change in both languages (area, name and level stay as they are)."""
        detail = f"：{zh(self.detail)}" if self.detail else ""
        return Msg(str(self), f"[{self.level}] {_ZH[self.area]} '{self.name}' {_ZH[self.kind]}{detail}")


@dataclass
class TemplateDiff:
    old: str  # id@version
    new: str
    changes: list[Change] = field(default_factory=list)

    @property
    def required(self) -> str | None:
        """The smallest bump these changes allow (None: nothing changed)."""
        return max((c.level for c in self.changes), key=LEVELS.index, default=None)

    def by_area(self, area: str) -> list[Change]:
        return [c for c in self.changes if c.area == area]

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "required": self.required,
                "changes": [asdict(c) for c in self.changes]}

    def lines(self) -> list[str]:
        if not self.changes:
            return [f"{self.old} → {self.new}: no changes"]
        head = f"{self.old} → {self.new}: {len(self.changes)} change(s), the largest needs a {self.required} bump"
        return [head] + [f"  {c}" for c in self.changes]


# -- the diff ----------------------------------------------------------------------------------------------
def diff_templates(old: Template, new: Template) -> TemplateDiff:
    diff = TemplateDiff(old.key, new.key)
    diff.changes += _diff_params(old, new)
    diff.changes += _diff_roles(old, new)
    diff.changes += _diff_steps(old, new)
    diff.changes += _diff_mapping("output", old.outputs, new.outputs, "minor")
    for key in _TOP_TEXT:
        a, b = _dump(getattr(old, key)), _dump(getattr(new, key))
        if a != b:
            diff.changes.append(Change("text", key, "changed", _short(a, b), "patch"))
    return diff


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else value


def _short(a: Any, b: Any) -> str:
    text = f"{a!r} → {b!r}"
    return text if len(text) <= 120 else text[:117] + "..."


def _split(spec: dict) -> tuple[dict, dict]:
    """(what runs, what is shown) parts of a parameter or role spec."""
    run = {k: v for k, v in spec.items() if k not in TEXT_KEYS}
    return run, {k: v for k, v in spec.items() if k in TEXT_KEYS}


def _diff_params(old: Template, new: Template) -> list[Change]:
    a = {n: _dump(s) for n, s in old.params.items()}
    b = {n: _dump(s) for n, s in new.params.items()}
    changes = []
    added = [n for n in b if n not in a]
    for name in [n for n in a if n not in b]:
        twin = next((n for n in added if _split(b[n])[0] == _split(a[name])[0]), None)
        detail = Msg(f"renamed to '{twin}'?", f"改名为 '{twin}' 了？") if twin else \
            Msg("recipes setting it will be refused", "设置了它的配方会被拒绝")
        changes.append(Change("param", name, "removed", detail, "major"))
    for name in added:
        required = b[name].get("default") is None and not b[name].get("optional") and b[name]["type"] != "bool"
        changes.append(Change("param", name, "added", Msg("required (no default)", "必填（无默认值）") if required else
                              f"default {b[name].get('default')!r}", "major" if required else "minor"))
    for name in [n for n in a if n in b and a[n] != b[n]]:
        changes.append(_param_change(name, a[name], b[name]))
    return changes


def _param_change(name: str, a: dict, b: dict) -> Change:
    (run_a, _), (run_b, _) = _split(a), _split(b)
    keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
    detail = "; ".join(f"{k} {a.get(k)!r} → {b.get(k)!r}" for k in keys)
    if run_a == run_b:
        return Change("param", name, "changed", detail, "patch")
    return Change("param", name, "changed", detail, "major" if _param_breaks(run_a, run_b) else "minor")


def _param_breaks(a: dict, b: dict) -> bool:
    """Would a value valid for `a` be refused by `b`?"""
    if a.get("type") != b.get("type"):
        return True
    if set(a.get("choices") or []) - set(b.get("choices") or []):
        return True
    if a.get("default") is not None and b.get("default") is None and b.get("type") not in ("bool", "columns"):
        return True
    if a.get("optional") and not b.get("optional"):
        return True
    if set(a.get("dtypes") or []) - set(b.get("dtypes") or []) and "any" not in (b.get("dtypes") or []):
        return True
    return _narrowed(a, b, "min", max) or _narrowed(a, b, "max", min) or \
        (b.get("max_length") or 10**9) < (a.get("max_length") or 10**9)


def _narrowed(a: dict, b: dict, key: str, tighter) -> bool:
    """A bound added, or moved inwards (`tighter` is max for a lower bound, min for an upper one)."""
    old, new = a.get(key), b.get(key)
    if new is None:
        return False
    return old is None or (tighter(old, new) == new and new != old)


def _diff_roles(old: Template, new: Template) -> list[Change]:
    a = {n: _dump(s) for n, s in old.roles.items()}
    b = {n: _dump(s) for n, s in new.roles.items()}
    refused = Msg("recipes using it will be refused", "用到它的配方会被拒绝")
    changes = [Change("role", n, "removed", refused, "major") for n in a if n not in b]
    for name in [n for n in b if n not in a]:
        required = b[name].get("required") or b[name].get("min", 0) > 0
        changes.append(Change("role", name, "added", Msg("required", "必填") if required else Msg("optional", "可选"),
                              "major" if required else "minor"))
    for name in [n for n in a if n in b and a[n] != b[n]]:
        (run_a, _), (run_b, _) = _split(a[name]), _split(b[name])
        keys = [k for k in dict.fromkeys([*a[name], *b[name]]) if a[name].get(k) != b[name].get(k)]
        detail = "; ".join(f"{k} {a[name].get(k)!r} → {b[name].get(k)!r}" for k in keys)
        level = "patch" if run_a == run_b else "major" if _role_breaks(run_a, run_b) else "minor"
        changes.append(Change("role", name, "changed", detail, level))
    return changes


def _role_breaks(a: dict, b: dict) -> bool:
    lost = set(a.get("dtypes") or []) - set(b.get("dtypes") or [])
    max_a, max_b = a.get("max") or 10**9, b.get("max") or 10**9
    return (bool(lost) and "any" not in b.get("dtypes", [])) or b.get("min", 0) > a.get("min", 0) or max_b < max_a


def _diff_steps(old: Template, new: Template) -> list[Change]:
    a = {s.id: _dump(s) for s in old.steps}
    b = {s.id: _dump(s) for s in new.steps}
    changes = [Change("step", n, "removed", a[n]["op"], "minor") for n in a if n not in b]
    changes += [Change("step", n, "added", b[n]["op"], "minor") for n in b if n not in a]
    for name in [n for n in a if n in b and a[n] != b[n]]:
        keys = [k for k in dict.fromkeys([*a[name], *b[name]]) if a[name].get(k) != b[name].get(k)]
        parts = [f"{k} {_short(a[name].get(k), b[name].get(k))}" for k in keys]
        changes.append(Change("step", name, "changed", "; ".join(parts), "patch" if keys == ["title"] else "minor"))
    if [s for s in a if s in b] != [s for s in b if s in a]:
        changes.append(Change("step", "(order)", "changed", f"{list(a)} → {list(b)}", "minor"))
    return changes


def _diff_mapping(area: str, a: dict, b: dict, level: str) -> list[Change]:
    changes = [Change(area, k, "removed", str(a[k]), level) for k in a if k not in b]
    changes += [Change(area, k, "added", str(b[k]), level) for k in b if k not in a]
    changes += [Change(area, k, "changed", f"{a[k]} → {b[k]}", level) for k in a if k in b and a[k] != b[k]]
    return changes


# -- the rule ------------------------------------------------------------------------------------------------
def check_version(latest: Template | None, new: Template, existing: list[str] | None = None) -> list[Issue]:
    """Problems with saving `new` as the next version after `latest` (none for a template's first version).

    Issues carry the key path `version`; the caller places them at a file:line."""
    existing = existing or ([latest.version] if latest else [])
    if latest is None:
        return []
    diff = diff_templates(latest, new)
    if new.version in existing:
        suggestion = next_version(newest(existing), diff.required or "patch")
        listed = ", ".join(sort_versions(existing))
        return [Issue(Msg(f"version {new.version} of '{new.id}' already exists", f"'{new.id}' 的版本 {new.version} 已存在"),
                      path="version", hint=Msg(f"save as {suggestion} (versions: {listed})",
                                               f"请存为 {suggestion}（已有版本：{listed}）"))]
    bump, required = bump_of(latest.version, new.version), diff.required
    if bump is None:
        use = next_version(latest.version, required or "patch")
        return [Issue(Msg(f"version {new.version} is not above the newest version {latest.version}",
                          f"版本 {new.version} 不高于最新版本 {latest.version}"),
                      path="version", hint=Msg(f"use {use}", f"请用 {use}"))]
    if required and LEVELS.index(bump) < LEVELS.index(required):
        reasons = join("; ", (c.msg for c in diff.changes if c.level == required), "；")
        use = next_version(latest.version, required)
        return [Issue(Msg(f"{latest.version} → {new.version} is a {bump} bump, but the changes need a {required} bump: "
                          f"{reasons}",
                          f"{latest.version} → {new.version} 是 {bump} 升级，但这些改动需要 {required} 升级：{zh(reasons)}"),
                      path="version", hint=Msg(f"use {use}", f"请用 {use}"))]
    return []
