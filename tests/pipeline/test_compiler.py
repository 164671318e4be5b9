"""Recipe + template + data -> pipeline: every mistake reported, with file:line."""

from pathlib import Path

import pytest

from engine import api
from engine.core.errors import InvalidInput

REPO = Path(__file__).resolve().parents[2]


def _recipe(tmp_path, text: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _issues(path, db, **kw):
    with pytest.raises(InvalidInput) as info:
        api.compile_recipe(path, db=db, **kw)
    return [str(i) for i in info.value.issues]


def test_demo_recipe_compiles_to_ordered_pipeline(demo_db):
    pipeline = api.compile_recipe(REPO / "recipes" / "concrete_strength.yaml", db=demo_db)
    assert [s.id for s in pipeline.steps] == ["clean", "train", "recommend"]
    train = pipeline.step("train")
    assert train.params.target == "strength_mpa"
    assert "age_days" in train.params.features and train.params.monotone == {"cement": 1}
    assert str(train.inputs["frame"]) == "clean.frame"
    assert "recommend" in pipeline.to_dot()


def test_all_recipe_mistakes_at_once(tmp_path, demo_db):
    path = _recipe(tmp_path, """template: quick_model
name: many mistakes
data: {table: concrete}
roles:
  target: strength
  controllable: [cement, water]
params:
  folds: 1
  goal: up
""")
    issues = _issues(path, demo_db)
    assert any("r.yaml:5: roles.target: column 'strength' is not in table concrete — did you mean 'strength_mpa'"
               in i for i in issues), issues
    assert any("r.yaml:8: params.folds:" in i and "greater than or equal to 2" in i for i in issues), issues
    assert any("r.yaml:9: params.goal:" in i for i in issues), issues
    assert len(issues) == 3


def test_text_column_as_numeric_target(tmp_path, demo_db, db):
    csv = tmp_path / "t.csv"
    csv.write_text("grade,temp\nA,1\nB,2\nA,3\n", encoding="utf-8")
    api.ingest(csv, "graded", db=db)
    path = _recipe(tmp_path, "template: quick_model\nname: x\ndata: {table: graded}\n"
                             "roles:\n  target: grade\n  controllable: [temp]\n")
    issues = _issues(path, db)
    assert any("r.yaml:5: roles.target: column 'grade' is text (VARCHAR), but target needs numeric/bool" in i
               for i in issues), issues


def test_unknown_template_version_and_unknown_template(tmp_path, demo_db):
    path = _recipe(tmp_path, "template: quick_model@9.0.0\nname: x\ndata: {table: concrete}\n")
    with pytest.raises(InvalidInput, match=r"no version 9.0.0; versions: 1.0.0, 1.1.0, 1.2.0, 1.3.0 — change the pin to quick_model@1.3.0"):
        api.compile_recipe(path, db=demo_db)
    path = _recipe(tmp_path, "template: quick_modle\nname: x\ndata: {table: concrete}\n")
    with pytest.raises(InvalidInput, match="did you mean 'quick_model'"):
        api.compile_recipe(path, db=demo_db)


def test_unknown_recipe_key_and_missing_table(tmp_path, demo_db):
    path = _recipe(tmp_path, "template: quick_model\nname: x\ndata: {table: concret}\nrole: {}\n")
    issues = _issues(path, demo_db)
    assert any("r.yaml:4: role: unknown key 'role' — did you mean 'roles'" in i for i in issues), issues
    path = _recipe(tmp_path, "template: quick_model\nname: x\ndata: {table: concret}\n")
    issues = _issues(path, demo_db)
    assert any("r.yaml:3: data: no table 'concret'" in i and "did you mean 'concrete'" in i for i in issues), issues


def test_role_counts_and_overlap(tmp_path, demo_db):
    path = _recipe(tmp_path, """template: quick_model
name: x
data: {table: concrete}
roles:
  target: [strength_mpa, cement]
  controllable: [cement]
""")
    issues = _issues(path, demo_db)
    assert any("role 'target' takes at most 1 column(s), got 2" in i for i in issues)
    assert any("column 'cement' is in both 'target' and 'controllable'" in i for i in issues)


def test_set_overrides_are_validated(demo_db):
    recipe = REPO / "recipes" / "concrete_strength.yaml"
    pipeline = api.compile_recipe(recipe, db=demo_db, overrides=["folds=3", "roles.context=[]"])
    assert pipeline.step("train").params.folds == 3
    assert "age_days" not in pipeline.step("train").params.features
    with pytest.raises(InvalidInput, match="params.folds"):
        api.compile_recipe(recipe, db=demo_db, overrides=["folds=99"])
    with pytest.raises(InvalidInput, match="not key=value"):
        api.compile_recipe(recipe, db=demo_db, overrides=["folds"])


def test_expert_columns_must_exist(tmp_path, demo_db):
    path = _recipe(tmp_path, """template: quick_model
name: x
data: {table: concrete}
roles: {target: strength_mpa, controllable: [cement]}
expert:
  bounds: {cemnt: [100, 200]}
  monotone: {water: 2}
""")
    issues = _issues(path, demo_db)
    assert any("r.yaml:7: expert.monotone.water:" in i for i in issues), issues
    path.write_text(path.read_text().replace("  monotone: {water: 2}\n", ""))
    issues = _issues(path, demo_db)
    assert any("r.yaml:6: expert.bounds.cemnt: column 'cemnt' is not in table concrete" in i for i in issues), issues


def test_file_binding_relative_to_recipe(tmp_path, db):
    (tmp_path / "plant.csv").write_text("temp,yield\n" + "\n".join(f"{i},{i * 2 % 7}" for i in range(60)),
                                        encoding="utf-8")
    path = _recipe(tmp_path, "template: quick_model\nname: x\ndata: {file: plant.csv}\n"
                             "roles: {target: yield, controllable: [temp]}\n")
    pipeline = api.compile_recipe(path, db=db)
    assert pipeline.source.columns == {"temp": "BIGINT", "yield": "BIGINT"}
    assert len(pipeline.source.load()) == 60


def test_set_problems_are_blamed_on_the_override(demo_db):
    recipe = REPO / "recipes" / "concrete_strength.yaml"
    issues = _issues(recipe, demo_db, overrides=["folds=abc", "roles.target=strenght"])
    assert any(i.startswith("--set folds=abc: params.folds:") for i in issues), issues
    assert any(i.startswith("--set roles.target=strenght: roles.target: column 'strenght'") for i in issues), issues


def test_schema_errors_do_not_hide_template_and_param_errors(tmp_path, demo_db):
    path = _recipe(tmp_path, """template: quick_model@2.0.0
name: x
data: {table: concrete}
roles: {targt: strength_mpa}
params: {folds: 1}
""")
    issues = _issues(path, demo_db)
    assert any("r.yaml:4: roles.targt: unknown key" in i for i in issues), issues
    assert any("r.yaml:1: template: template 'quick_model' has no version 2.0.0" in i for i in issues), issues
    path.write_text(path.read_text().replace("@2.0.0", ""))
    issues = _issues(path, demo_db)
    assert any("r.yaml:5: params.folds:" in i for i in issues), issues


def test_data_file_given_as_recipe(demo_db):
    with pytest.raises(InvalidInput, match="is a data file, not a recipe — ingest it first"):
        api.compile_recipe(REPO / "data" / "demo" / "concrete.csv", db=demo_db)


def test_validate_reports_operator_problems_even_when_the_schema_fails(tmp_path):
    """Unknown top-level key, bad version and unknown operator: all three in one pass (the README promises all)."""
    from engine import api

    path = tmp_path / "bad.yaml"
    path.write_text("id: bad_one\nversion: one\ncolour: blue\ntitle: {en: Bad, zh: 坏}\ndescription: {en: d, zh: d}\n"
                    "scenario: {en: s, zh: s}\nroles:\n  target: {required: true, dtypes: [numeric], max: 1}\n"
                    "params: {}\nsteps:\n  - id: train\n    op: model.nonexistent@1\n    inputs: {frame: data}\n"
                    "outputs: {}\n", encoding="utf-8")
    issues = api.validate_file(path)
    text = [f"{i.line}: {i.path}: {i.message}" for i in issues]
    assert any(i.line == 2 and "version" in str(i.path) for i in issues), text
    assert any(i.line == 3 and "colour" in str(i.message) for i in issues), text
    assert any(i.line == 12 and "model.nonexistent" in str(i.message) for i in issues), text
