"""Template schema, library loading and static template checks."""

from pathlib import Path

import pytest

from engine.pipeline.compiler import check_template
from engine.core.errors import InvalidInput
from engine.pipeline.library import TemplateLibrary, load_template
from engine.schema.template import Template

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_every_bundled_template_is_valid():
    lib = TemplateLibrary.load([REPO / "templates"])
    assert not lib.broken, lib.broken
    assert "quick_model" in lib.templates
    for template_id in lib.templates:
        issues, order = check_template(lib.get(template_id))
        assert issues == [] and order


def test_three_mistakes_are_all_reported_with_lines():
    issues, _ = check_template(load_template(FIXTURES / "three_mistakes.yaml"))
    text = [str(i) for i in issues]
    assert len(issues) == 3, text
    assert any(":18: steps[1].op: unknown operator 'model.lightgbm_cvv' — did you mean 'model.lightgbm_cv'" in t
               for t in text)
    assert any(":23: steps[2].inputs.frame: reads step 'cleaning', which does not exist" in t for t in text)
    assert any(":24: steps[2].with.colour: unknown key 'colour'" in t for t in text)


def _template(tmp_path, body: str) -> Path:
    path = tmp_path / "t.yaml"
    head = ("id: t\nversion: 1.0.0\ntitle: {en: T, zh: T}\ndescription: {en: T, zh: T}\nscenario: modelling\n"
            "roles:\n  target: {required: true, max: 1}\n")
    path.write_text(head + body, encoding="utf-8")
    return path


def test_cycle_is_reported(tmp_path):
    path = _template(tmp_path, """steps:
  - id: a
    op: clean.drop_useless
    inputs: {frame: b.frame}
    with: {target: roles.target, columns: []}
  - id: b
    op: clean.drop_useless
    inputs: {frame: a.frame}
    with: {target: roles.target, columns: []}
""")
    issues, _ = check_template(load_template(path))
    assert any("cycle" in i.message and "a" in i.message and "b" in i.message for i in issues)


def test_unknown_key_and_bad_reference(tmp_path):
    path = _template(tmp_path, """colour: red
steps:
  - id: a
    op: clean.drop_useless
    inputs: {frame: data}
    with: {target: params.nothing, columns: []}
""")
    with pytest.raises(InvalidInput) as info:
        load_template(path)
    assert "t.yaml:8: colour: unknown key 'colour'" in str(info.value)
    path.write_text(path.read_text().replace("colour: red\n", ""))
    issues, _ = check_template(load_template(path))
    assert any("reference 'params.nothing' names nothing" in i.message for i in issues)


def test_wrong_input_output_and_unconnected_input(tmp_path):
    path = _template(tmp_path, """steps:
  - id: a
    op: clean.drop_useless
    inputs: {}
    with: {target: roles.target, columns: []}
  - id: b
    op: model.lightgbm_cv
    inputs: {frame: a.nope}
    with: {target: roles.target, features: []}
""")
    messages = [i.message for i in check_template(load_template(path))[0]]
    assert any("input 'frame' of clean.drop_useless is not connected" in m for m in messages)
    assert any("has no output 'nope'" in m for m in messages)


def test_param_spec_validation_messages(tmp_path):
    path = _template(tmp_path, """params:
  goal: {type: choice, choices: [a, b], default: c, label: {en: G, zh: G}}
  n: {type: integer, label: {en: N, zh: N}}
steps:
  - id: a
    op: clean.drop_useless
    inputs: {frame: data}
    with: {target: roles.target, columns: []}
""")
    with pytest.raises(InvalidInput) as info:
        load_template(path)
    text = str(info.value)
    assert "t.yaml:9: params.goal: default 'c' is not one of the choices" in text
    assert "t.yaml:10: params.n:" in text


def test_duplicate_versions_are_reported_not_fatal(tmp_path):
    src = (REPO / "templates" / "quick_model" / "1.0.0.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(src, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(src, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(src.replace("version: 1.0.0", "version: 1.1.0"), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    lib = TemplateLibrary.load([tmp_path])
    assert sorted(lib.templates["quick_model"]) == ["1.0.0", "1.1.0"]
    assert lib.get("quick_model").template.version == "1.1.0"
    assert any("also defined" in str(i) for i in lib.broken[str(tmp_path / "b.yaml")])
    assert str(tmp_path / "broken.yaml") in lib.broken
    with pytest.raises(InvalidInput, match="no version 9.9.9"):
        lib.get("quick_model", "9.9.9")


def test_params_model_carries_labels_and_bounds():
    t = load_template(REPO / "templates" / "quick_model.yaml").template
    schema = t.params_model().model_json_schema()
    folds = schema["properties"]["folds"]
    assert folds["minimum"] == 2 and folds["maximum"] == 20 and folds["default"] == 5
    assert folds["label"] == {"en": "Cross-validation folds", "zh": "交叉验证折数"}
    assert Template.model_json_schema()["additionalProperties"] is False
