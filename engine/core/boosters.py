"""Whether a model is a LightGBM booster with piecewise-linear leaves (`linear_tree`, model.search@3). One check for
the layers that meet such a model: LightGBM computes no SHAP for it (engine.ml, engine.operators) and the MILP does
not encode it (engine.optim routes it to the verified multi-start optimiser). Duck-typed, so core needs no
LightGBM; the answer is cached on the model (reading the model text costs a copy of every tree)."""

from __future__ import annotations


def has_linear_leaves(model) -> bool:
    if not hasattr(model, "model_to_string"):
        return False
    cached = getattr(model, "_studio_linear", None)
    if cached is None:
        cached = "is_linear=1" in model.model_to_string()
        model._studio_linear = cached
    return cached
