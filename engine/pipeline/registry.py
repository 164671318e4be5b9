"""The operator registry: `@operator("family.name", version=N)` on a typed function.

An operator is a plain function `fn(params, ctx, **inputs) -> dict[output, value]` whose `params` argument is
annotated with a pydantic model (the single source of truth for its parameters). Operators are looked up by a
stable dotted id; plugins register through the `ai_studio.operators` entry-point group.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
import sys
import typing
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

from pydantic import BaseModel

from engine.core.errors import StudioError
from engine.core.i18n import Msg
from engine.schema.base import Strict

ENTRY_POINT_GROUP = "ai_studio.operators"
BUILTIN_PACKAGE = "engine.operators"  # the built-in operator families, one module each


class OpParams(Strict):
    """Base of every operator's parameter model (unknown keys rejected)."""


@dataclass(frozen=True)
class OperatorSpec:
    id: str
    version: int
    fn: Callable[..., dict[str, Any]]
    params_model: type[BaseModel]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    description: str
    code_hash: str
    module: str = field(default="")
    example: Callable[[], tuple[dict, dict]] | None = None  # (params, inputs) on a tiny frame, for the contract test

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "description": self.description,
                "inputs": list(self.inputs), "outputs": list(self.outputs),
                "params": self.params_model.model_json_schema()}


_REGISTRY: dict[str, dict[int, OperatorSpec]] = {}
_LOADED = False


def _code_hash(fn: Callable) -> str:
    """Hash of the operator's whole module source and of the modules of its own package it imports from (directly
    or through them): a change to a helper beside it, or in a helper module it was split into, invalidates the cache."""
    module = inspect.getmodule(fn)
    try:
        source = "".join(inspect.getsource(m) for m in _own_package_modules(module)) if module \
            else inspect.getsource(fn)
    except (OSError, TypeError):
        source = fn.__qualname__
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def _own_package_modules(module) -> list:
    """`module` first, then the modules of the same package whose names it imports, transitively, in a fixed order."""
    package = module.__name__.rpartition(".")[0] + "."
    found, todo = {module.__name__: module}, [module]
    while todo:
        for value in list(vars(todo.pop()).values()):
            name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
            if isinstance(name, str) and name.startswith(package) and name not in found:
                other = sys.modules.get(name)
                if other is not None:
                    found[name] = other
                    todo.append(other)
    return [module] + [found[n] for n in sorted(found) if n != module.__name__]


def operator(op_id: str, *, version: int = 1, inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = ("frame",),
             example: Callable[[], tuple[dict, dict]] | None = None):
    """Register `fn` as operator `op_id` at `version`; its `params` annotation gives the parameter model.

    `example()` returns (params, inputs) that run the operator on a tiny frame: the contract test uses it.
    """

    def register(fn: Callable) -> Callable:
        hints = typing.get_type_hints(fn)
        params_model = hints.get("params")
        if not (isinstance(params_model, type) and issubclass(params_model, BaseModel)):
            raise TypeError(f"operator {op_id}: annotate the 'params' argument with a pydantic model")
        declared = [p for p in inspect.signature(fn).parameters if p not in ("params", "ctx")]
        if tuple(declared) != tuple(inputs):
            raise TypeError(f"operator {op_id}: function inputs {declared} differ from declared inputs {list(inputs)}")
        doc = inspect.getdoc(fn) or ""
        spec = OperatorSpec(op_id, version, fn, params_model, tuple(inputs), tuple(outputs),
                            doc.splitlines()[0] if doc else op_id, _code_hash(fn), fn.__module__, example)
        versions = _REGISTRY.setdefault(op_id, {})
        if version in versions and versions[version].fn.__qualname__ != fn.__qualname__:
            raise TypeError(f"operator {op_id}@{version} is registered twice ({versions[version].module}, {fn.__module__})")
        versions[version] = spec
        fn.operator_spec = spec
        return fn

    return register


def load_operators() -> None:
    """Import every built-in operator module and every installed plugin (once)."""
    global _LOADED
    if _LOADED:
        return
    package = importlib.import_module(BUILTIN_PACKAGE)  # found by name, like a plugin: operators sit above this layer
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as exc:  # a broken plugin must not take the studio down
            raise StudioError(Msg(f"operator plugin '{entry.name}' ({entry.value}) failed to load: {exc}",
                                  f"算子插件 '{entry.name}'（{entry.value}）加载失败：{exc}")) from exc
    _LOADED = True


def get(op_id: str, version: int | None = None) -> OperatorSpec | None:
    """The operator `op_id` at `version` (the newest when None), or None."""
    load_operators()
    versions = _REGISTRY.get(op_id)
    if not versions:
        return None
    return versions.get(version) if version is not None else versions[max(versions)]


def all_operators() -> list[OperatorSpec]:
    load_operators()
    return [_REGISTRY[op_id][v] for op_id in sorted(_REGISTRY) for v in sorted(_REGISTRY[op_id])]


def known_ids() -> list[str]:
    load_operators()
    return sorted(_REGISTRY)
