"""Engine messages are bilingual: every Issue / StudioError a user can meet renders in Chinese too, naming the same
key, column, file and line; and no new message in engine/ is written in English only (an AST scan)."""

from __future__ import annotations

import ast
import json
import pickle
import re
from pathlib import Path

import pytest

from engine import api
from engine.core.errors import InvalidInput, Issue, RunFailed, StudioError
from engine.core.i18n import Msg, bilingual, text_of, zh
from engine.core.yaml_io import dump

REPO = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")

# -- static: no English-only message literal in engine/ ---------------------------------------------------------
# call name -> (position of the message argument, position of the hint argument or None)
MESSAGE_ARGS = {"Issue": (0, 4), "issue": (1, 2), "StudioError": (0, None), "InvalidInput": (0, None),
                "Busy": (0, None), "Infeasible": (0, None), "NoFeasiblePoint": (0, None),
                "UnsupportedModel": (0, None), "Cancelled": (0, None), "ExprError": (0, 3), "StepFailed": (1, None),
                "ValueError": (0, None)}
# deliberate exceptions: (file, call) — programmer errors that never reach a user, or developer tools
ALLOWED = {("engine/report/html.py", "ValueError"), ("engine/sim/yield_line.py", "ValueError")}


def _is_text_literal(node: ast.AST | None) -> bool:
    """A bare string: 'x', f'x', 'a' + f'b' (not wrapped in Msg(...))."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text_literal(node.left) or _is_text_literal(node.right)
    if isinstance(node, ast.IfExp):
        return _is_text_literal(node.body) or _is_text_literal(node.orelse)
    return False


def _english_only(path: Path) -> list[str]:
    rel = path.relative_to(REPO).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name == "append" and isinstance(node.func, ast.Attribute) and \
                getattr(node.func.value, "id", "") in ("warnings", "notes") and node.args:
            if _is_text_literal(node.args[0]):
                found.append(f"{rel}:{node.lineno} {getattr(node.func.value, 'id')}.append")
            continue
        if name not in MESSAGE_ARGS or (rel, name) in ALLOWED:
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        for label, position in zip(("message", "hint"), MESSAGE_ARGS[name]):
            if position is None:
                continue
            arg = node.args[position] if len(node.args) > position else keywords.get(label)
            if _is_text_literal(arg):
                found.append(f"{rel}:{node.lineno} {name}({label}=...)")
    return found


def test_no_english_only_message_literals_in_the_engine():
    found = [hit for path in sorted((REPO / "engine").rglob("*.py")) for hit in _english_only(path)]
    assert not found, "write these as Msg(en, zh) (engine/core/i18n.py says how):\n" + "\n".join(found)


def test_the_scan_catches_a_bare_literal(tmp_path):
    sample = REPO / "engine" / "_i18n_scan_sample.py"
    sample.write_text('raise StudioError(f"bad {x}")\nIssue(Msg("a", "甲"), hint="fix it")\n'
                      'warnings.append("plain")\nraise StudioError(Msg("ok", "好"))\n', encoding="utf-8")
    try:
        hits = _english_only(sample)
    finally:
        sample.unlink()
    assert [h.split(" ", 1)[1] for h in hits] == ["StudioError(message=...)", "Issue(hint=...)", "warnings.append"]


# -- the mechanism ----------------------------------------------------------------------------------------------
def test_msg_is_its_english_and_carries_chinese():
    m = Msg("column 'x' is missing", "列 'x' 不存在")
    assert m == "column 'x' is missing" and f"{m}!" == "column 'x' is missing!" and str(m) == m
    assert text_of(m, "zh") == "列 'x' 不存在" and text_of(m, "en") == str(m) and zh("plain") == "plain"
    assert pickle.loads(pickle.dumps(m)).zh == m.zh and bilingual(m) == {"en": str(m), "zh": m.zh}
    assert json.dumps({"k": m}) == json.dumps({"k": str(m)}) and dump({"k": m}) == dump({"k": str(m)})
    issue = Issue(m, "r.yaml", 3, "roles.target", Msg("pick another", "请换一列"))
    assert str(issue) == "r.yaml:3: roles.target: column 'x' is missing — pick another"
    assert issue.text("zh") == "r.yaml:3: roles.target: 列 'x' 不存在 — 请换一列"
    exc = InvalidInput([issue, Issue("plain text")])
    assert str(exc) == f"{issue}\nplain text" and exc.text("zh") == f"{issue.text('zh')}\nplain text"
    again = pickle.loads(pickle.dumps(exc))
    assert str(again) == str(exc) and again.text("zh") == exc.text("zh")
    failed = RunFailed("r1", "train", StudioError(m).msg)
    assert str(failed) == "run r1 failed at step 'train': column 'x' is missing" and CJK.search(failed.text("zh"))


def test_every_pydantic_template_formats():
    from engine.schema.errors import ZH_BY_TYPE, zh_of_error

    ctx = {"gt": 1, "ge": 1, "lt": 2, "le": 2, "multiple_of": 2, "expected": "'a' or 'b'", "min_length": 1,
           "max_length": 3, "actual_length": 5, "pattern": "^x", "tag": "t", "expected_tags": "'a'",
           "discriminator": "type"}
    for kind in ZH_BY_TYPE:
        text = zh_of_error({"type": kind, "ctx": ctx, "msg": "english"})
        assert CJK.search(text) and "{" not in text, kind
    assert CJK.search(zh_of_error({"type": "some_new_type", "msg": "Input is odd"}))


# -- dynamic: the known error paths -----------------------------------------------------------------------------
def _assert_bilingual(issues: list[Issue]) -> None:
    assert issues
    for issue in issues:
        zh_text = issue.text("zh")
        assert CJK.search(zh_text), f"no Chinese: {issue}"
        for part in (issue.file, issue.path, str(issue.line) if issue.line else None):
            if part:
                assert part in zh_text, (part, zh_text)
        for name in re.findall(r"'([^']+)'", str(issue.message)):  # keys, columns, steps stay as they are
            assert name in zh_text, (name, zh_text)


def _problems(call) -> list[Issue]:
    with pytest.raises(InvalidInput) as info:
        call()
    return info.value.issues


def test_template_with_three_mistakes():
    issues = api.validate_file(REPO / "tests" / "fixtures" / "three_mistakes.yaml")
    assert len(issues) == 3
    _assert_bilingual(issues)
    assert "未知算子 'model.lightgbm_cvv'" in issues[0].text("zh") and "是不是 'model.lightgbm_cv'" in issues[0].text("zh")
    assert "未知的键 'colour'" in issues[2].text("zh") and "允许的键" in issues[2].text("zh")


def test_recipe_mistakes_unknown_column_wrong_type_and_bounds(tmp_path, demo_db):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("template: quick_model\nname: t\ndata: {table: concrete}\n"
                      "roles: {target: strenght_mpa, controllable: [cement]}\n"
                      "params: {folds: five, top_k: 0, goal: maximise}\nexpert: {bounds: {cement: [300, 100]}}\n",
                      encoding="utf-8")
    issues = _problems(lambda: api.compile_recipe(recipe, db=demo_db))
    _assert_bilingual(issues)
    text = "\n".join(i.text("zh") for i in issues)
    assert "应为整数" in text and "下限高于上限" in text
    recipe.write_text(recipe.read_text(encoding="utf-8").split("params:")[0], encoding="utf-8")
    issues = _problems(lambda: api.compile_recipe(recipe, db=demo_db))
    _assert_bilingual(issues)
    assert any("列 'strenght_mpa' 不存在（表 concrete）" in i.text("zh") and "是不是 'strength_mpa'" in i.text("zh")
               for i in issues)


def test_bad_binding_sql(demo_db):
    for sql in ("SELEC * FROM concrete", "DELETE FROM concrete", "SELECT * FROM nowhere", "SELECT 1; SELECT 2"):
        recipe = {"template": "quick_model", "name": "t", "data": {"sql": sql},
                  "roles": {"target": "strength_mpa", "controllable": ["cement"]}}
        _assert_bilingual(_problems(lambda: api.compile_recipe(recipe, db=demo_db)))


def test_gbk_and_ragged_csv_ingest(tmp_path, db):
    gbk = tmp_path / "line.csv"
    gbk.write_bytes("温度,速度,良率\n850,1.2,0.91\n860,1.3,0.93\n870,1.1\n".encode("gbk"))
    issues = _problems(lambda: api.ingest(gbk, "line", db=db))
    _assert_bilingual(issues)
    assert "第 4 行" in issues[0].text("zh") and "--skip-bad-rows" in issues[0].text("zh")
    info = api.ingest(gbk, "line", db=db, options={"skip_bad_rows": True})
    assert info.warnings and all(CJK.search(zh(w)) for w in info.warnings)
    stored = api.catalog(db).table_info("line").warnings  # kept in both languages in the data factory
    assert [str(w) for w in stored] == [str(w) for w in info.warnings] and [zh(w) for w in stored] == [zh(w) for w in info.warnings]
    _assert_bilingual(_problems(lambda: api.ingest(tmp_path / "nope.csv", "x", db=db)))
    _assert_bilingual(_problems(lambda: api.ingest(gbk, "line", db=db)))  # exists already


def test_cleaning_condition_and_operator_errors(demo_db):
    issues = _problems(lambda: api.derive_table("concrete", "clean.filter_rows", {"condition": "cemnt > 100"},
                                          "c2", db=demo_db))
    _assert_bilingual(issues)
    assert "列 'cemnt' 不存在" in issues[0].text("zh")
    _assert_bilingual(_problems(lambda: api.derive_table("concrete", "clean.filter_rows", {"condition": "cement >"},
                                                   "c3", db=demo_db)))


def test_infeasible_constraint_is_explained_in_chinese():
    from engine.operators.model import LightGBMParams, lightgbm_cv
    from engine.operators.optimize_exact import TreeMilpParams, tree_milp
    from engine.pipeline.context import StepContext
    from engine.sim.tiny import tiny_plant

    frame = tiny_plant(rows=200)
    ctx = StepContext("t", "s", 0)
    model = lightgbm_cv(LightGBMParams(target="yield", features=["temp", "speed", "humidity", "shift"], folds=3,
                                       n_estimators=20, num_leaves=5), ctx, frame)["model"]
    with pytest.raises(StudioError) as info:
        tree_milp(TreeMilpParams(controllable=["temp", "speed"], constraints=[
            {"coefs": {"speed": 1.0}, "sense": ">=", "rhs": 50.0, "name": "speed floor"}]), ctx, frame, model)
    assert "cannot be met inside the operating envelope" in str(info.value)
    assert "'speed floor'" in info.value.text("zh") and "无法满足" in info.value.text("zh")


def test_failed_run_keeps_its_error_in_both_languages(tmp_path, demo_db):
    recipe = {"template": "quick_model", "name": "t", "data": {"table": "concrete"},
              "roles": {"target": "strength_mpa", "controllable": ["cement"]}, "params": {"folds": 20}}
    with pytest.raises(RunFailed) as info:
        api.run_recipe({**recipe, "data": {"sql": "SELECT * FROM concrete LIMIT 30"}}, db=demo_db)
    assert CJK.search(info.value.text("zh")) and "至少需要" in info.value.text("zh")
    run = api.get_run(info.value.run_id, demo_db)
    assert str(run["error"]).startswith("only 30 rows") and CJK.search(zh(run["error"]))
    result = api.load_result(info.value.run_id, demo_db)
    assert result["error"]["message"] == str(run["error"]) and result["error"]["zh"] == zh(run["error"])


def test_cli_is_english_unless_asked_for_chinese():
    from tests.conftest import run_cli

    fixture = "tests/fixtures/three_mistakes.yaml"
    english, chinese = run_cli("validate", fixture), run_cli("validate", fixture, env={"AI_STUDIO_LANG": "zh"})
    assert english.returncode == chinese.returncode == 2
    assert not CJK.search(english.stdout) and "unknown operator 'model.lightgbm_cvv'" in english.stdout
    assert "未知算子 'model.lightgbm_cvv'" in chinese.stdout
    assert [line.split(": ")[0] for line in english.stdout.splitlines()] == \
        [line.split(": ")[0] for line in chinese.stdout.splitlines()]  # same file:line for every problem


def test_migration_and_the_version_rule_speak_chinese(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("template: robust_quick_model@1.0.0\nname: r\ndata: {table: ccpp}\n"
                      "roles: {target: PE, colour: [AT]}\nparams: {trees: 20}\n", encoding="utf-8")
    plan = api.migrate_recipe(recipe)
    _assert_bilingual(plan.problems)
    text = "\n".join(p.text("zh") for p in plan.problems)
    assert "没有参数 'trees'" in text and "没有角色 'colour'" in text and "至少需要 1 列" in text
    base = (REPO / "templates" / "robust_quick_model" / "1.0.0.yaml").read_text(encoding="utf-8")
    _, _, version_issues = api.check_template_text(base)
    _assert_bilingual(version_issues)
    assert "已存在" in version_issues[0].text("zh") and "请存为 2.0.0" in version_issues[0].text("zh")
    _assert_bilingual(_problems(lambda: api.migrate_recipe(tmp_path / "missing.yaml")))


def test_an_issue_on_screen_names_the_users_file_and_says_what_to_do_there():
    from engine.core.errors import InvalidInput, Issue
    from engine.core.i18n import Msg

    issue = Issue(Msg("could not read /tmp/x/a.csv", "无法读取 /tmp/x/a.csv"), "/tmp/x/a.csv",
                  hint=Msg("rerun with --skip-bad-rows", "加 --skip-bad-rows 重试"),
                  ui_hint=Msg("tick 'Skip malformed rows'", "勾选“跳过格式错误的行”"))
    assert "--skip-bad-rows" in issue.text("en") and "ui_hint" not in issue.to_dict()  # the CLI keeps its flag
    shown = InvalidInput(issue).on_screen({"/tmp/x/a.csv": "a.csv"}).issues[0]
    assert shown.text("zh") == "a.csv: 无法读取 a.csv — 勾选“跳过格式错误的行”"
    assert shown.text("en") == "a.csv: could not read a.csv — tick 'Skip malformed rows'"
    assert Issue(Msg("m", "消息"), hint=Msg("h", "提示")).on_screen().text("zh") == "消息 — 提示"
