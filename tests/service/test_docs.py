"""Generated files stay current: schemas/*.json and the operator reference in docs/TEMPLATES.md."""

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli
from engine.service import docs
from engine.pipeline import registry
from engine.pipeline.library import template_files

REPO = Path(__file__).resolve().parents[2]


def test_committed_schemas_and_operator_reference_are_current():
    stale = docs.outdated()
    assert not stale, f"regenerate with: python -m engine docs ({[str(p) for p in stale]})"


def test_operator_reference_lists_every_builtin_operator_with_its_parameters():
    section = docs.operator_section()
    for op in docs.builtin_operators():
        assert f"### `{op.key}`" in section
        for name in op.params_model.model_fields:
            assert f"| `{name}` |" in section, (op.key, name)
    assert "| `folds` | int | `5` | ≥ 2, ≤ 20 | Cross-validation folds / 交叉验证折数 |" in section
    assert len(docs.builtin_operators()) == len([o for o in registry.all_operators()
                                                  if o.module.startswith("engine.operators.")])


def test_the_guide_documents_the_editor_hint_and_its_schema_exists():
    guide = (REPO / "docs" / "TEMPLATES.md").read_text(encoding="utf-8")
    hint = "# yaml-language-server: $schema=../schemas/template.schema.json"
    assert hint in guide
    assert (REPO / "templates" / "robust_quick_model.yaml").read_text(encoding="utf-8").startswith(hint)
    assert (REPO / "schemas" / "template.schema.json").is_file() and (REPO / "schemas" / "recipe.schema.json").is_file()


def test_bundled_templates_and_recipes_pass_the_published_schemas():
    jsonschema = pytest.importorskip("jsonschema")
    template_schema = json.loads((REPO / "schemas" / "template.schema.json").read_text(encoding="utf-8"))
    recipe_schema = json.loads((REPO / "schemas" / "recipe.schema.json").read_text(encoding="utf-8"))
    for path in template_files(REPO / "templates"):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), template_schema)
    for path in sorted((REPO / "recipes").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), recipe_schema)
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.validate({**yaml.safe_load((REPO / "templates" / "quick_model.yaml").read_text()), "colour": 1},
                            template_schema)


def test_docs_command_regenerates_into_a_copy(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "TEMPLATES.md").write_text(f"# Guide\n\n{docs.BEGIN}\nold\n{docs.END}\ntail\n", encoding="utf-8")
    written = docs.write(tmp_path)
    assert {p.name for p in written} == {"TEMPLATES.md", "template.schema.json", "recipe.schema.json"}
    text = (tmp_path / "docs" / "TEMPLATES.md").read_text(encoding="utf-8")
    assert text.startswith("# Guide\n\n") and text.endswith(f"{docs.END}\ntail\n") and "\nold\n" not in text
    assert docs.outdated(tmp_path) == [] and docs.write(tmp_path) == []
    check = run_cli("docs", "--check")
    assert check.returncode == 0, check.stderr
