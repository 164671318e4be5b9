"""Workspace helpers for the studio's pages (Streamlit-free): table previews, role suggestions, saved recipes,
run comparison. Reached through engine.api."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from engine.service import runner, tables
from engine.core import config
from engine.service import derive
from engine.pipeline import registry
from engine.core.errors import StudioError
from engine.core.yaml_io import dump


def preview_table(name: str, limit: int = 50, db=None):
    """The first `limit` rows of a table (a pandas DataFrame)."""
    return tables.catalog(db).preview(name, limit)


def table_operators() -> list[registry.OperatorSpec]:
    """Operators a user can apply to a table to make a new one (cleaning, alignment)."""
    return derive.table_operators()


def suggest_roles(table: str, db=None, template=None) -> dict[str, list[str]]:
    """A first guess of column roles (see engine/service/role_guess.py); `template` fits it to that template's roles."""
    return guess_table_roles(table, template, db=db).roles


def guess_table_roles(table: str, template=None, hints: dict | None = None, db=None):
    """The role guess for a data-factory table with the notes saying which rules applied (a RoleGuess)."""
    from engine.service import role_guess

    info = tables.catalog(db).table_info(table)
    try:
        profile = {c["name"]: c for c in tables.profile_table(info.name, db)["columns"]}
    except StudioError:
        profile = {}
    wanted = [c for c, t in info.columns.items() if role_guess.dtype_class(t) in ("numeric", "bool")
              or (role_guess.dtype_class(t) == "text" and role_guess.outcome_score(c) > 0)]  # PASS/FAIL verdicts
    sample = tables.catalog(db).read_table(info.name, wanted, limit=role_guess.SAMPLE_ROWS) if wanted else None
    return role_guess.guess_roles(info.columns, profile, sample, template, hints)


def recipes_dir(db=None) -> Path:
    """Recipes saved from the studio live in the studio home, beside the data factory."""
    return config.db_path(db).parent / "recipes"


def save_recipe(recipe: dict[str, Any], db=None) -> Path:
    """Write a recipe dict as YAML into the studio's recipes folder (file name from the recipe name)."""
    runner.load_recipe(recipe)  # refuse to save something that is not a recipe
    slug = re.sub(r"[^\w\-]+", "_", str(recipe.get("name", "recipe")), flags=re.UNICODE).strip("_")[:60] or "recipe"
    path = recipes_dir(db) / f"{slug}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(recipe_yaml(recipe), encoding="utf-8")
    return path


def recipe_yaml(recipe: dict[str, Any]) -> str:
    return dump(recipe)


def saved_recipes(db=None) -> list[Path]:
    folders = [recipes_dir(db), config.REPO_ROOT / "recipes"]
    return [p for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.y*ml"))]


def read_recipe(path: str | Path) -> dict[str, Any]:
    """A recipe file as a plain dict (validated), e.g. to edit it in the studio."""
    return runner.load_recipe(path).recipe.model_dump(mode="json", exclude_none=True)


def compare_runs(run_a: str, run_b: str, db=None) -> dict[str, list[dict[str, Any]]]:
    """Two runs side by side: metric means, recommended values, predicted outcomes."""
    a, b = runner.load_result(run_a, db), runner.load_result(run_b, db)

    def metric(res, name):
        value = res.get("metrics", {}).get(name)
        return value.get("mean") if isinstance(value, dict) else None

    names = [m for m in dict.fromkeys([*a.get("metrics", {}), *b.get("metrics", {})])
             if isinstance(a.get("metrics", {}).get(m) or b.get("metrics", {}).get(m), dict)]
    recs = {r["name"]: r for r in a.get("recommendations", [])}, {r["name"]: r for r in b.get("recommendations", [])}
    rec_names = list(dict.fromkeys([*recs[0], *recs[1]]))
    outcome = [(k, sub) for k in ("baseline", "recommended", "uplift") for sub in ("value", "low", "high")]
    return {
        "metrics": [{"name": m, "a": metric(a, m), "b": metric(b, m)} for m in names],
        "recommendations": [{"name": n, "a": recs[0].get(n, {}).get("value"), "b": recs[1].get(n, {}).get("value")}
                            for n in rec_names],
        "predicted": [{"name": f"{k}.{sub}", "a": a.get("predicted", {}).get(k, {}).get(sub),
                       "b": b.get("predicted", {}).get(k, {}).get(sub)} for k, sub in outcome],
    }
