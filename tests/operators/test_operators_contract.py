"""One contract test run over every registered operator (scikit-learn style)."""

from __future__ import annotations

import json

import joblib
import pytest
from pydantic import BaseModel

from engine.pipeline import registry
from engine.pipeline.context import StepContext
from engine.pipeline.registry import OpParams

OPERATORS = registry.all_operators()


def test_registry_is_not_empty_and_ids_are_dotted():
    assert len(OPERATORS) >= 3
    for op in OPERATORS:
        family, _, name = op.id.partition(".")
        assert family and name, op.id


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.key)
def test_params_schema_is_valid_json_schema(op):
    assert issubclass(op.params_model, OpParams)
    schema = op.params_model.model_json_schema()
    json.dumps(schema)  # serialisable
    assert schema["type"] == "object"
    assert schema.get("additionalProperties") is False, "unknown keys must be rejected"
    for name, prop in schema["properties"].items():
        assert "label" in prop and {"en", "zh"} <= set(prop["label"]), f"{op.id}.{name} lacks zh/en label"


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.key)
def test_declares_inputs_outputs_and_description(op):
    assert op.outputs, op.id
    assert op.description and op.description != op.id
    assert op.example is not None, f"{op.id} must provide example=... for this contract test"


def _run(op, seed):
    params, inputs = op.example()
    events = []
    ctx = StepContext("contract", op.id, seed, report=lambda f, m: events.append(f))
    out = op.fn(op.params_model.model_validate(params), ctx, **inputs)
    out = out if isinstance(out, dict) and set(out) == set(op.outputs) else {op.outputs[0]: out}
    return out, events


def _fingerprint(outputs: dict) -> str:
    def plain(v):
        if isinstance(v, BaseModel):
            return v.model_dump()
        if hasattr(v, "final"):  # a model bundle: compare its predictions' structure via the trees' text
            final = v.final
            return final.model_to_string() if hasattr(final, "model_to_string") else joblib.hash(final)
        if isinstance(v, dict):  # wall-clock times differ between identical runs
            return {k: plain(x) for k, x in v.items() if not str(k).endswith("seconds")}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return joblib.hash({k: plain(v) for k, v in outputs.items()})


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.key)
def test_runs_on_a_tiny_frame_and_returns_declared_outputs(op):
    outputs, events = _run(op, seed=7)
    assert set(outputs) == set(op.outputs)
    assert all(0.0 <= f <= 1.0 for f in events)


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.key)
def test_deterministic_with_a_seed(op):
    first, _ = _run(op, seed=3)
    second, _ = _run(op, seed=3)
    assert _fingerprint(first) == _fingerprint(second)


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.key)
def test_rejects_unknown_params(op):
    params, _ = op.example()
    with pytest.raises(Exception) as info:
        op.params_model.model_validate({**params, "no_such_param": 1})
    assert "no_such_param" in str(info.value)


@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.key)
def test_never_mutates_its_inputs(op):
    import pandas as pd

    params, inputs = op.example()
    before = {k: v.copy(deep=True) for k, v in inputs.items() if isinstance(v, pd.DataFrame)}
    op.fn(op.params_model.model_validate(params), StepContext("contract", op.id, 0), **inputs)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(inputs[name], frame)
