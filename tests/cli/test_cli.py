"""The command line: exit codes 0 / 2 / 1, messages on stderr, JSON where asked."""

import json
from pathlib import Path

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]


def test_validate_three_mistakes_exits_2_listing_all():
    proc = run_cli("validate", "tests/fixtures/three_mistakes.yaml")
    assert proc.returncode == 2
    lines = [l for l in proc.stdout.splitlines() if l.startswith("tests/fixtures/three_mistakes.yaml:")]
    assert [l.split(":")[1] for l in lines] == ["18", "23", "24"], proc.stdout


def test_validate_ok_and_syntax_error(tmp_path):
    assert run_cli("validate", "templates/quick_model.yaml").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nsteps: [\n", encoding="utf-8")
    proc = run_cli("validate", str(bad))
    assert proc.returncode == 2 and "YAML syntax error" in proc.stdout and "bad.yaml:" in proc.stdout


def test_templates_operators_schema():
    proc = run_cli("templates", "--json")
    assert proc.returncode == 0
    assert "quick_model" in [t["id"] for t in json.loads(proc.stdout)["templates"]]
    assert "快速建模" in run_cli("templates", "--lang", "zh").stdout
    ops = run_cli("operators", "--json")
    assert {"clean.drop_useless", "model.lightgbm_cv", "optimize.sample_search"} <= {
        o["id"] for o in json.loads(ops.stdout)}
    schema = json.loads(run_cli("schema").stdout)
    assert schema["additionalProperties"] is False and "steps" in schema["properties"]
    params = json.loads(run_cli("schema", "params:quick_model").stdout)
    assert params["properties"]["folds"]["maximum"] == 20


def test_ingest_tables_run_runs(studio_home, tmp_path):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    proc = run_cli("ingest", "data/demo/concrete.csv", "--table", "concrete", env=env)
    assert proc.returncode == 0 and "1030 rows" in proc.stdout
    again = run_cli("ingest", "data/demo/concrete.csv", "--table", "CONCRETE", env=env)
    assert again.returncode == 2 and "collides" in again.stderr
    assert [t["name"] for t in json.loads(run_cli("tables", "--json", env=env).stdout)] == ["concrete"]
    out = tmp_path / "out"
    run = run_cli("run", "recipes/concrete_strength.yaml", "--out", str(out), "--set", "n_estimators=60",
                  "--set", "n_samples=300", env=env)
    assert run.returncode == 0, run.stderr
    assert "1/3 clean: running" in run.stderr and "3/3 recommend" in run.stderr  # progress on stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "succeeded"
    runs = json.loads(run_cli("runs", "--json", env=env).stdout)
    assert runs[0]["run_id"] == result["run_id"] and runs[0]["status"] == "succeeded"


def test_invalid_input_exit_2_and_failed_run_exit_1(studio_home, tmp_path):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    missing = run_cli("ingest", "nope.csv", "--table", "t", env=env)
    assert missing.returncode == 2 and "file not found" in missing.stderr and "Traceback" not in missing.stderr
    bad_set = run_cli("run", "recipes/concrete_strength.yaml", "--set", "folds=1", env=env)
    assert bad_set.returncode == 2 and "no table 'concrete'" in bad_set.stderr
    # a constant target is refused before the run (tests/hardening); a constant only feature fails at 'train'
    (tmp_path / "flat.csv").write_text("t,y\n" + "".join(f"1,{i % 7}\n" for i in range(60)), encoding="utf-8")
    recipe = tmp_path / "flat.yaml"
    recipe.write_text("template: quick_model\nname: flat\ndata: {file: flat.csv}\nroles: {target: y, "
                      "controllable: [t]}\n", encoding="utf-8")
    failed = run_cli("run", str(recipe), env=env)
    assert failed.returncode == 1 and "failed at step 'train'" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_profile_command(studio_home):
    env = {"AI_STUDIO_HOME": str(studio_home)}
    assert run_cli("demo", env=env).returncode == 0
    proc = run_cli("profile", "concrete", "--target", "strength_mpa", "--controllable", "cement", "water",
                   "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    profile = json.loads(proc.stdout)
    assert profile["table"] == "concrete" and profile["rows"] == 1030 and profile["duplicate_rows"] == 25
    assert 0 <= profile["readiness"]["score"] <= 100
    zh = run_cli("profile", "concrete", "--lang", "zh", env=env)
    assert "数据就绪度" in zh.stdout
    typo = run_cli("profile", "concret", env=env)
    assert typo.returncode == 2 and "did you mean 'concrete'" in typo.stderr
