"""Template authoring: versions side by side, save with the semver rule, dry run, recipe pins and migration, CLI."""

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from engine import api
from engine.core.errors import InvalidInput
from engine.pipeline.library import TemplateLibrary

REPO = Path(__file__).resolve().parents[2]
DRAFT = (REPO / "templates" / "robust_quick_model" / "1.0.0.yaml").read_text(encoding="utf-8").replace(
    "$schema=../../", "$schema=../")  # as written at the top of a template folder
FAST = {"folds": 3, "n_estimators": 30, "n_samples": 200}
CCPP_ROLES = {"target": "PE", "controllable": ["AT", "V"], "context": ["AP", "RH"]}


def draft(version: str = "1.0.0", template_id: str = "gap_model", extra_param: bool = False) -> str:
    text = DRAFT.replace("id: robust_quick_model", f"id: {template_id}").replace("version: 1.0.0", f"version: {version}")
    if extra_param:
        text = text.replace("params:\n", "params:\n  limit: {type: float, default: 1.0, label: {en: Limit, zh: 限值}}\n")
    return text


@pytest.fixture
def folder(tmp_path, studio_home, monkeypatch):
    """An extra template folder, where saved drafts go."""
    path = tmp_path / "plant_templates"
    path.mkdir()
    monkeypatch.setenv("AI_STUDIO_TEMPLATES", str(path))
    return path


def test_bundled_template_keeps_its_old_version_beside_the_new(studio_home):
    lib = api.library()
    assert lib.versions("robust_quick_model") == ["1.0.0", "1.1.0"]
    assert lib.get("robust_quick_model").template.version == "1.1.0"
    assert lib.get("robust_quick_model", "1.0.0").archived
    assert [t.id for t in lib.latest()].count("robust_quick_model") == 1  # the gallery shows the newest only


def test_misplaced_old_version_is_reported_not_loaded(folder):
    (folder / "gap_model").mkdir()
    (folder / "gap_model" / "2.0.0.yaml").write_text(draft("1.0.0"), encoding="utf-8")
    lib = TemplateLibrary.load([folder])
    issues = lib.broken[str(folder / "gap_model" / "2.0.0.yaml")]
    assert "must be kept as gap_model/1.0.0.yaml" in issues[0].message and issues[0].line == 4


def test_save_enforces_semver_and_keeps_the_old_version(folder):
    first = api.save_template(draft("1.0.0"))
    assert first.path == folder / "gap_model.yaml" and first.archived is None and first.diff is None
    with pytest.raises(InvalidInput) as exc:
        api.save_template(draft("1.0.1", extra_param=True))
    issue = exc.value.issues[0]
    assert issue.line == 4 and "need a minor bump" in issue.message and issue.hint == "use 1.1.0"
    with pytest.raises(InvalidInput, match="already exists"):
        api.save_template(draft("1.0.0", extra_param=True))
    second = api.save_template(draft("1.1.0", extra_param=True))
    assert second.archived == folder / "gap_model" / "1.0.0.yaml"
    assert [c.name for c in second.diff.changes] == ["limit"]
    assert api.library().versions("gap_model") == ["1.0.0", "1.1.0"]
    assert "limit:" not in api.template_text("gap_model", "1.0.0") and "limit:" in api.template_text("gap_model")
    assert api.template_text("gap_model", "1.0.0").startswith("# yaml-language-server: $schema=../../schemas/")
    diff = api.diff_templates("gap_model", "1.0.0", "1.1.0")
    assert diff.required == "minor" and diff.changes[0].kind == "added"


def test_save_refuses_a_draft_with_problems_or_the_saved_file_itself(folder):
    with pytest.raises(InvalidInput) as exc:
        api.save_template(draft().replace("op: clean.impute@1", "op: clean.imputee@1"))
    assert "unknown operator 'clean.imputee'" in str(exc.value) and exc.value.issues[0].line
    api.save_template(draft())
    with pytest.raises(InvalidInput, match="saved newest version itself"):
        api.save_template(draft("1.0.1"), file=str(folder / "gap_model.yaml"))


def test_check_text_gives_lines_and_version_issues(folder):
    api.save_template(draft("1.0.0"))
    loaded, issues, version = api.check_template_text(draft("1.0.0", extra_param=True))
    assert issues == [] and "already exists" in version[0].message
    loaded, issues, version = api.check_template_text("id: x\nversion: 1\n")
    assert loaded is None and {i.line for i in issues} >= {2} and version == []
    out_of_bounds = draft().replace("folds: {type: int, default: 5", "folds: {type: int, default: 50")
    loaded, issues, _ = api.check_template_text(out_of_bounds)
    assert [str(i) for i in issues] == ["<editor>:37: params.folds: default 50 is outside [2, 20]"]


def test_recipe_pinned_to_the_old_version_still_runs(demo_db):
    recipe = {"template": "robust_quick_model@1.0.0", "name": "old pin", "data": {"table": "ccpp"},
              "roles": CCPP_ROLES, "params": FAST}
    result = api.run_recipe(recipe)
    assert result["status"] == "succeeded" and result["template"] == {"id": "robust_quick_model", "version": "1.0.0"}
    assert [s["step"] for s in result["timings"]["steps"]] == ["fill", "clean", "train", "recommend"]


def test_missing_version_says_which_exist_and_how_to_migrate(demo_db, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("template: robust_quick_model@3.0.0\nname: r\ndata: {table: ccpp}\nroles: {target: PE, "
                    "controllable: [AT, V]}\nparams: {folds: 3, trees: 20}\n", encoding="utf-8")
    issues = api.validate_file(path)
    text = str(issues[0])
    assert f"{path}:1: template:" in text and "has no version 3.0.0; versions: 1.0.0, 1.1.0" in text
    assert "change the pin to robust_quick_model@1.1.0" in text and f"python -m engine migrate {path}" in text
    assert [str(i) for i in issues[1:]] == [f"{path}:5: params.trees: robust_quick_model@1.1.0 has no parameter "
                                           "'trees' — its parameters: goal, fill, outlier_k, folds, n_estimators, "
                                           "n_samples"]
    plan = api.migrate_recipe(path)
    assert not plan.ok and plan.target == "1.1.0"
    assert any("has no parameter 'trees'" in str(p) and p.line == 5 for p in plan.problems)
    path.write_text(path.read_text().replace("trees", "n_estimators"), encoding="utf-8")
    plan = api.migrate_recipe(path, to="1.0.0", write=True)
    assert plan.ok and path.read_text().startswith("template: robust_quick_model@1.0.0\n")
    assert api.validate_file(path) == []
    plan = api.migrate_recipe(path)  # an existing pin: the diff says what the newer version changes
    assert plan.ok and [c.name for c in plan.diff.by_area("param")] == ["outlier_k"]


def test_dry_run_on_a_sample_leaves_nothing_behind(demo_db):
    before = ({t.name for t in api.tables()}, api.runs())
    result = api.dry_run(draft(), "ccpp", roles=CCPP_ROLES, params=FAST, rows=300, how="random", seed=1)
    assert result["status"] == "succeeded" and result["sample"]["rows"] == 300
    assert result["metrics"]["r2"]["mean"] > 0.5 and result["recommendations"]
    assert ({t.name for t in api.tables()}, api.runs()) == before
    assert not (demo_db.parent / "studio.cache").exists() or not any((demo_db.parent / "studio.cache").iterdir())
    failing = api.dry_run(draft(), "ccpp", roles=CCPP_ROLES, params={**FAST, "folds": 20}, rows=30)
    assert failing["status"] == "failed" and failing["error"]["step"] == "train"
    with pytest.raises(InvalidInput, match="column 'nope' is not in sql query"):
        api.dry_run(draft(), "ccpp", roles={**CCPP_ROLES, "target": "nope"})


def test_cli_lists_versions_checks_and_diffs(tmp_path, folder, studio_home):
    env = {"AI_STUDIO_HOME": str(studio_home), "AI_STUDIO_TEMPLATES": str(folder)}
    api.save_template(draft("1.0.0"))
    api.save_template(draft("1.1.0", extra_param=True))
    listed = run_cli("templates", env=env)
    assert "robust_quick_model       1.1.0" in listed.stdout and "(older versions: 1.0.0)" in listed.stdout
    assert "gap_model" in listed.stdout
    (tmp_path / "d.yaml").write_text(draft("1.1.1", extra_param=True).replace("min: 2, max: 20", "min: 3, max: 20"),
                                     encoding="utf-8")
    refused = run_cli("template", "check", str(tmp_path / "d.yaml"), env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "d.yaml:4: version: 1.1.0 → 1.1.1 is a patch bump, but the changes need a major bump" in refused.stdout
    assert "use 2.0.0" in refused.stdout
    diff = run_cli("template", "diff", "gap_model", "1.0.0", "--json", env=env)
    assert '"required": "minor"' in diff.stdout and '"name": "limit"' in diff.stdout


def test_cli_migrate_and_dry_run_with_a_recipe(demo_db, studio_home, tmp_path):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    recipe = tmp_path / "r.yaml"
    recipe.write_text("# the plant's recipe\ntemplate: robust_quick_model@0.9.0   # old pin\nname: r\n"
                      "data: {table: ccpp}\nroles: {target: PE, controllable: [AT, V]}\n"
                      "params: {folds: 3, n_estimators: 20, n_samples: 200}\n", encoding="utf-8")
    migrated = run_cli("migrate", str(recipe), "--write", env=env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "pins robust_quick_model@0.9.0, which does not exist" in migrated.stdout
    assert "re-validated: ok" in migrated.stdout
    assert recipe.read_text().startswith("# the plant's recipe\ntemplate: robust_quick_model@1.1.0   # old pin\n")
    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(draft(), encoding="utf-8")
    dry = run_cli("template", "dry-run", str(draft_file), "--table", "ccpp", "--recipe", str(recipe), "--rows", "200",
                  "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    result = json.loads(dry.stdout)
    assert result["sample"]["rows"] == 200 and result["metrics"]["folds"] == 3
    assert result["template"] == {"id": "gap_model", "version": "1.0.0"}
