"""AppTest of the Template Studio: live checks by line, preview, pipeline and dry run, semver-checked save, diff."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import api

REPO = Path(__file__).resolve().parents[2]
BASE = (REPO / "templates" / "robust_quick_model" / "1.0.0.yaml").read_text(encoding="utf-8")
DRAFT = BASE.replace("id: robust_quick_model", "id: gap_model").replace("$schema=../../", "$schema=../")


@pytest.fixture
def plant_folder(tmp_path, demo_db, monkeypatch):
    folder = tmp_path / "plant_templates"
    folder.mkdir()
    monkeypatch.setenv("AI_STUDIO_TEMPLATES", str(folder))
    monkeypatch.chdir(REPO)
    return folder


def studio(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/template_studio.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def edit(at: AppTest, text: str) -> AppTest:
    at.text_area(key="ts_text").input(text).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_library_lists_versions_and_a_draft_with_mistakes_shows_their_lines(plant_folder):
    at = studio()
    library = at.dataframe[0].value
    row = library[library["Template id"] == "robust_quick_model"].iloc[0]
    assert (row["Newest version"], row["Older versions"]) == ("1.1.0", "1.0.0")
    at.selectbox(key="ts_pick").select("robust_quick_model").run()
    at.selectbox(key="ts_pick_version.robust_quick_model").select("1.0.0").run()
    button(at, "Load into the editor").click().run()
    assert "version: 1.0.0" in at.text_area(key="ts_text").value
    assert any("already exists" in w.value and "Line 4" in w.value for w in at.warning)  # semver rule, at its line
    broken = DRAFT.replace("op: clean.impute@1", "op: clean.imputer@1").replace("{frame: fill.frame}",
                                                                                 "{frame: fil.frame}")
    edit(at, broken)
    problems = at.error[0].value
    assert "2 problem(s)" in problems
    assert "Line 43: steps[0].op: unknown operator 'clean.imputer' — did you mean 'clean.impute'?" in problems
    assert "Line 50: steps[1].inputs.frame: reads step 'fil', which does not exist" in problems
    assert any(i.value == "Fix the problems in the text first." for i in at.info)


def test_preview_pipeline_dry_run_save_and_diff(plant_folder):
    at = edit(studio(), DRAFT)
    assert any("gap_model@1.0.0 is valid" in s.value for s in at.success)
    at.selectbox(key="ts_table").select("ccpp").run()
    assert at.multiselect(key="ts.roles.pick.target").value == ["PE"]  # role boxes of the draft, suggested
    assert at.selectbox(key="ts.params.gap_model.fill").options == ["median", "mean"]  # the generated form
    assert at.slider(key="ts.params.gap_model.folds").value == 5
    at.slider(key="ts.params.gap_model.folds").set_value(3)
    at.number_input(key="ts.params.gap_model.n_estimators").set_value(30)
    at.number_input(key="ts.params.gap_model.n_samples").set_value(200)
    at.number_input(key="ts_rows").set_value(300).run()
    assert len(at.get("graphviz_chart")) == 1 and "fill" in at.get("graphviz_chart")[0].proto.spec
    before = ({t.name for t in api.tables()}, api.runs())
    button(at, "Dry run").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("Dry run succeeded on 300 rows of ccpp" in s.value for s in at.success)
    assert ({t.name for t in api.tables()}, api.runs()) == before  # nothing left behind
    button(at, "Save as a new version").click().run()
    assert any("Saved gap_model@1.0.0" in s.value for s in at.success)
    assert (plant_folder / "gap_model.yaml").read_text(encoding="utf-8") == DRAFT
    # a new parameter saved as a patch version is refused; the suggested version is one click away
    edit(at, DRAFT.replace("version: 1.0.0", "version: 1.0.1").replace(
        "params:\n", "params:\n  limit: {type: float, default: 1.0, label: {en: Limit, zh: 限值}}\n"))
    assert any("patch bump, but the changes need a minor bump" in w.value for w in at.warning)
    assert button(at, "Save as a new version").disabled
    button(at, "Use version 1.1.0").click().run()
    assert "version: 1.1.0" in at.text_area(key="ts_text").value
    button(at, "Save as a new version").click().run()
    assert any("Saved gap_model@1.1.0" in s.value for s in at.success)
    assert api.library().versions("gap_model") == ["1.0.0", "1.1.0"]
    at.selectbox(key="ts_diff_id").select("gap_model").run()
    at.selectbox(key="ts_diff_old.gap_model").select("1.0.0")
    at.selectbox(key="ts_diff_new.gap_model").select("1.1.0").run()
    diff = at.dataframe[-1].value
    assert list(diff["Name"]) == ["limit"] and list(diff["Bump"]) == ["minor"]


def test_studio_in_chinese(plant_folder):
    at = edit(studio("zh"), DRAFT)
    assert at.title[0].value == "模板工作室"
    assert [tab.label for tab in at.tabs] == ["表单预览", "流程与试运行", "版本比较", "保存"]
    at.selectbox(key="ts_diff_id").select("robust_quick_model").run()
    at.selectbox(key="ts_diff_old.robust_quick_model").select("1.0.0")
    at.selectbox(key="ts_diff_new.robust_quick_model").select("1.1.0").run()
    diff = at.dataframe[-1].value
    assert set(diff["对象"]) == {"参数", "步骤", "输出"} and set(diff["版本升级"]) == {"次版本"}
    assert any("最大的改动需要升级次版本" in m.value for m in at.markdown)
    edit(at, BASE)  # engine messages (the semver rule, problems by line) in the session's language too
    assert any("'robust_quick_model' 的版本 1.0.0 已存在" in w.value and "请存为" in w.value for w in at.warning)
    edit(at, DRAFT.replace("op: clean.impute@1", "op: clean.imputer@1"))
    assert "steps[0].op: 未知算子 'clean.imputer' — 是不是 'clean.impute'？" in at.error[0].value


def test_gallery_shows_the_newest_version_and_names_the_older(plant_folder):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("pages/gallery.py").run()
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert any("`robust_quick_model@1.1.0`" in c and "older versions: 1.0.0" in c for c in captions), captions
