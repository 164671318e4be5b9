"""A compiled pipeline: validated steps in topological order, every parameter resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from engine.pipeline.registry import OperatorSpec

DATA = "data"  # the input name that means "the table the recipe binds"


@dataclass(frozen=True)
class InputRef:
    """Where an input comes from: the bound data (step None) or an output of an earlier step."""

    step: str | None
    output: str

    def __str__(self) -> str:
        return DATA if self.step is None else f"{self.step}.{self.output}"


@dataclass
class PipelineStep:
    id: str
    op: OperatorSpec
    params: BaseModel
    inputs: dict[str, InputRef]
    title: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "op": self.op.key, "inputs": {k: str(v) for k, v in self.inputs.items()},
                "params": self.params.model_dump(mode="json")}


@dataclass
class Pipeline:
    template_id: str
    template_version: str
    recipe: dict[str, Any]
    roles: dict[str, list[str]]
    params: dict[str, Any]
    steps: list[PipelineStep]
    outputs: dict[str, InputRef]
    seed: int
    source: Any = None  # engine.store.binding.DataSource
    meta: dict[str, Any] = field(default_factory=dict)

    def step(self, step_id: str) -> PipelineStep:
        return next(s for s in self.steps if s.id == step_id)

    def to_dict(self) -> dict[str, Any]:
        return {"template": {"id": self.template_id, "version": self.template_version},
                "roles": self.roles, "params": self.params, "seed": self.seed,
                "steps": [s.to_dict() for s in self.steps],
                "outputs": {k: str(v) for k, v in self.outputs.items()}}

    def to_dot(self) -> str:
        """Graphviz DOT text of the DAG (st.graphviz_chart draws it without system graphviz)."""
        lines = ["digraph pipeline {", '  rankdir=LR; node [shape=box, style=rounded, fontname="sans-serif"];',
                 f'  "{DATA}" [shape=cylinder];']
        for s in self.steps:
            lines.append(f'  "{s.id}" [label="{s.id}\\n{s.op.id}"];')
            for ref in s.inputs.values():
                lines.append(f'  "{ref.step or DATA}" -> "{s.id}";')
        lines.append("}")
        return "\n".join(dict.fromkeys(lines))


def topological_order(deps: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """(order, cycle): Kahn's algorithm keeping the written order among ready steps; cycle is [] when none."""
    remaining = {k: set(v) for k, v in deps.items()}
    order: list[str] = []
    while remaining:
        ready = [k for k, v in remaining.items() if not v]
        if not ready:
            return order, _find_cycle(remaining)
        for k in ready:
            order.append(k)
            del remaining[k]
        for v in remaining.values():
            v.difference_update(ready)
    return order, []


def _find_cycle(remaining: dict[str, set[str]]) -> list[str]:
    start = next(iter(remaining))
    path, seen = [start], {start}
    while True:
        nxt = next(iter(remaining[path[-1]]))
        if nxt in seen:
            return path[path.index(nxt):] + [nxt]
        path.append(nxt)
        seen.add(nxt)
