"""Pydantic models of templates and recipes (unknown keys rejected)."""

from engine.schema.recipe import DataBinding, Expert, Recipe, RecipeRoles
from engine.schema.template import ParamSpec, RoleSpec, StepSpec, Template

__all__ = ["DataBinding", "Expert", "ParamSpec", "Recipe", "RecipeRoles", "RoleSpec", "StepSpec", "Template"]
