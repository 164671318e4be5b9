"""AppTest for every page: renders in en and zh without exception or mixed language; each page's main flow works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import api

REPO = Path(__file__).resolve().parents[2]
PAGES = ["pages/home.py", "pages/data.py", "pages/gallery.py", "pages/build.py", "pages/run.py", "pages/results.py",
         "pages/trials.py", "pages/history.py", "pages/template_studio.py"]
CJK = re.compile(r"[\u4e00-\u9fff]")
FAST = {"n_estimators": 40, "n_samples": 200, "folds": 3}


def open_page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_results(run_id: str, lang: str) -> AppTest:
    """The Results page showing `run_id` in `lang`, drawn without an exception or an error message."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["results_run"] = run_id
    at.run()
    at.switch_page("pages/results.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def chrome_texts(at: AppTest) -> list[str]:
    """Texts the studio itself writes (titles, buttons, widget labels, tabs), not data such as column names."""
    texts = [e.value for e in [*at.title, *at.subheader]] + [b.label for b in at.button]
    texts += [tab.label for tab in at.tabs] + [e.label for e in at.expander]
    return [x for x in texts if x]


@pytest.fixture
def fast_run(demo_db):
    """A finished quick run of the concrete demo recipe."""
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update(FAST)
    run_id = api.start_run(recipe)
    assert api.wait_run(run_id, 120)["status"] == "succeeded"
    return run_id


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_one_language_at_a_time(fast_run, monkeypatch, page):
    monkeypatch.chdir(REPO)
    for lang in ("en", "zh"):
        at = open_page(page, lang)
        assert not at.error, [e.value for e in at.error]
        texts = chrome_texts(at)
        assert texts
        if lang == "zh":
            assert all(CJK.search(x) or not re.search(r"[A-Za-z]{4,}", x) for x in texts), texts
        else:
            assert not any(CJK.search(x) for x in texts), texts


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_an_empty_data_factory(studio_home, monkeypatch, page):
    monkeypatch.chdir(REPO)
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]


def test_zh_data_page_relabels_streamlits_own_uploader_text(studio_home, monkeypatch):
    """Streamlit draws 'Upload' and '… per file' in English: on zh the page overrides them (the browser test and
    docs show the result; here the override is present in zh only)."""
    monkeypatch.chdir(REPO)
    styles = {lang: [h.proto.body for h in open_page("pages/data.py", lang).get("html")] for lang in ("zh", "en")}
    assert any('content: "上传"' in s and "每个文件不超过" in s for s in styles["zh"])
    assert not any("stFileUploaderDropzone" in s for s in styles["en"])


def test_data_page_uploads_profiles_and_cleans(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/data.py")
    csv = "temp;speed;yield\n850,5;1,2;0,91\n860,0;1,3;0,93\n855,5;1,1;\n870,0;1,4;0,95\n"
    at.file_uploader[0].upload("line3.csv", csv.encode("utf-8"), "text/csv").run()
    assert at.text_input(key="data_name").value == "line3"
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Table line3 loaded: 4 rows, 3 columns" in s.value for s in at.success)
    assert api.tables()[0].name == "line3"
    assert any(m.label == "Data readiness" for m in at.metric)
    # a cleaning action: fill the missing yield -> a new table, the source unchanged
    at.selectbox(key="clean_op").select("clean.impute").run()
    clean = next(b for b in at.button if b.label == "Make the new table")
    clean.click().run()
    assert any("New table line3_impute (4 rows)" in s.value for s in at.success), [e.value for e in at.error]
    assert {i.name for i in api.tables()} == {"line3", "line3_impute"}


def test_data_page_shows_ingest_problems_as_messages(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/data.py", "zh")
    at.file_uploader[0].upload("concrete.csv", b"a,b\n1,2\n", "text/csv").run()
    assert at.text_input(key="data_name").value == "concrete_2"  # a free name is proposed, not a clash
    at.text_input(key="data_name").set_value("concrete").run()
    next(b for b in at.button if b.label == "导入数据工厂").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("表 'concrete' 已存在" in e and "concrete_2" in e for e in errors), errors  # in the session's language
    assert not any("--replace" in e for e in errors), errors  # what to do on the page, not a CLI flag


def test_data_page_names_the_uploaded_file_and_the_page_option(studio_home, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/data.py", "zh")
    broken = "温度,speed,yield\n850,1.2,0.9\n851,1.3,0.91\n852,1.4\n853,1.5,0.92,extra\n854,1.6,0.93\n"
    broken = broken.encode("gb18030")
    at.file_uploader[0].upload("broken.csv", broken, "text/csv").run()
    next(b for b in at.button if b.label == "导入数据工厂").click().run()
    errors = [e.value for e in at.error]
    assert any("broken.csv" in e and "跳过格式错误的行" in e for e in errors), errors
    assert not any(bad in e for e in errors for bad in ("studio-upload", "utf8.csv", "--skip-bad-rows", "COLUMNS")), errors
    next(c for c in at.checkbox if c.label == "跳过格式错误的行").check().run()
    next(b for b in at.button if b.label == "导入数据工厂").click().run()
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("已跳过 2 行") for w in warnings) and "文本编码 GB18030 已转换为 UTF-8" in warnings, warnings


def test_gallery_opens_the_build_page(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/gallery.py")
    assert any("Quick model" in m.value for m in at.markdown)
    at.button(key="use_quick_model").click().run()
    assert not at.exception
    assert at.title[0].value == "Build a recipe"


def test_build_with_the_fallback_widgets_then_run(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/build.py")
    table = next(s for s in at.selectbox if s.label == "Table")
    table.select("concrete").run()
    # the suggestion: last numeric column as the target
    assert at.multiselect(key="build.roles.pick.target").value == ["strength_mpa"]
    assert not at.success and any("still a guess" in w.value for w in at.warning)  # a guess is never "valid"
    next(c for c in at.checkbox if c.label == "The roles are right").check().run()
    assert any("The recipe is valid" in s.value for s in at.success)
    # a role problem is shown next to the roles, then fixed with the fallback multiselect
    at.multiselect(key="build.roles.pick.target").select("cement").run()
    assert any("Target" in e.value and "at most 1" in e.value for e in at.error)
    at.multiselect(key="build.roles.pick.target").unselect("cement").run()  # back to the unused columns
    assert "cement" not in at.multiselect(key="build.roles.pick.controllable").value
    at.multiselect(key="build.roles.pick.controllable").select("cement").run()
    at.multiselect(key="build.roles.pick.context").select("age_days").run()
    assert "age_days" not in at.multiselect(key="build.roles.pick.controllable").value
    # parameter bounds come from the template: the generated widget enforces them
    assert at.number_input(key="build.0.quick_model.concrete.params.top_k").min == 1
    # an expert-knowledge problem is shown below its field
    at.multiselect(key="build.0.quick_model.concrete.expert.bounded").select("water").run()
    at.number_input(key="build.0.quick_model.concrete.expert.lo.water").set_value(200).run()
    at.number_input(key="build.0.quick_model.concrete.expert.hi.water").set_value(100).run()
    assert any("low is above high" in e.value for e in at.error), [e.value for e in at.error]
    at.multiselect(key="build.0.quick_model.concrete.expert.bounded").unselect("water").run()
    at.number_input(key="build.0.quick_model.concrete.params.n_samples").set_value(200).run()
    at.slider(key="build.0.quick_model.concrete.params.folds").set_value(3).run()
    at.multiselect(key="build.0.quick_model.concrete.expert.up").select("cement").run()
    assert not at.error, [e.value for e in at.error]
    assert any("The recipe is valid" in s.value for s in at.success)
    assert "monotone:\n    cement: 1" in at.code[0].value
    next(b for b in at.button if b.label == "Save in the studio").click().run()
    assert any("Saved as" in s.value for s in at.success)
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception
    run_id = at.session_state["current_run"]
    assert at.title[0].value == "Run"  # the page switched to the run
    assert api.wait_run(run_id, 120)["status"] == "succeeded"
    at.switch_page("pages/run.py").run()  # as after a browser refresh: the session remembers the run
    assert any("Finished in" in s.value for s in at.success)
    next(b for b in at.button if b.label == "Open the results").click().run()
    assert not at.exception and not at.error
    assert "R²" in [m.label for m in at.metric]


def test_results_what_if_re_predicts(fast_run, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/results.py")
    labels = [m.label for m in at.metric]
    assert {"R²", "Today (baseline)", "With the recommendation", "Predicted outcome"} <= set(labels)
    before = next(m.value for m in at.metric if m.label == "Predicted outcome")
    recommended = next(m.value for m in at.metric if m.label == "With the recommendation")
    assert before == recommended  # the what-if starts at the recommendation
    cement = at.slider(key=f"wi.{fast_run}.cement")
    cement.set_value(cement.min).run()
    after = next(m.value for m in at.metric if m.label == "Predicted outcome")
    assert after != before
    assert not at.error


def test_history_compares_two_runs(fast_run, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({**FAST, "goal": "minimize"})
    assert api.wait_run(api.start_run(recipe), 120)["status"] == "succeeded"
    at = open_page("pages/history.py", "zh")
    assert at.subheader[0].value == "比较两次运行"
    assert len(at.dataframe) == 4
    assert not at.error


def test_cancel_from_the_run_page(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    recipe = api.read_recipe(REPO / "recipes" / "concrete_strength.yaml")
    recipe["params"].update({"n_estimators": 3000, "folds": 10})
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    run_id = api.start_run_as(api.whoami(at.session_state["auth_token"]), recipe)  # the signed-in user's own run
    at.session_state["lang"] = "en"
    at.session_state["current_run"] = run_id
    at.run()
    at.switch_page("pages/run.py").run()
    cancel = [b for b in at.button if b.label == "Cancel the run"]
    if cancel:  # still running when the page was drawn
        cancel[0].click().run()
    status = api.wait_run(run_id, 120)
    assert status["status"] in ("cancelled", "succeeded")
    at.run()
    assert not at.exception


@pytest.mark.parametrize("template_id", [tpl.id for tpl in api.list_templates()])
def test_every_template_builds_from_the_suggestion_and_shows_results(demo_db, monkeypatch, template_id):
    """The generated forms and the role suggestion work for any template in the library, not only the demo one."""
    import yaml

    monkeypatch.chdir(REPO)
    table = _table_for(template_id, demo_db)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {"lang": "zh", "build_template": template_id, "build_table": table}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("pages/build.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not at.success and any("角色仍是猜测" in w.value for w in at.warning)  # a guess is never "valid"
    next(c for c in at.checkbox if c.label == "角色分配无误").check().run()
    assert any("配方有效" in s.value for s in at.success)
    recipe = yaml.safe_load(at.code[0].value)
    template = next(tpl for tpl in api.list_templates() if tpl.id == template_id)
    recipe["params"].update({k: v for k, v in FAST.items() if k in template.params})
    if template_id == "test_item_reduction":      # the suggestion takes the last numeric column; the verdict is text
        roles = recipe["roles"]
        roles["controllable"] = [c for c in [*roles["controllable"], *roles.get("target", [])] if c != "verdict"]
        roles["target"] = "verdict"
    assert api.wait_run(api.start_run(recipe), 300)["status"] == "succeeded"
    at.switch_page("pages/results.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    expected = {"test_item_reduction": "不良品漏检率", "predictive_maintenance": "ROC-AUC",
                "image_inspection": "平衡准确率"}.get(template_id, "预测结果")
    assert expected in [m.label for m in at.metric]


def _table_for(template_id: str, db) -> str:
    """The concrete demo table, or for test-item reduction a small simulated product test (items + verdict), or for
    predictive maintenance the AI4I machine-failure table."""
    if template_id == "predictive_maintenance":
        return "ai4i2020"
    if template_id == "image_inspection":        # a few tiny generated solar cells, ingested from class folders
        from engine.api import ingest
        from engine.service.image_demo import write_cells
        from engine.sim.solar_cells import CellConfig, make_cells

        cells = make_cells(24, ("ok", "crack"), seed=0, config=CellConfig(size=64, grains=8, contrast=(0.5, 0.6)))
        ingest(write_cells(cells, Path(db).parent / "cells_src"), "cells_small", db=db)
        return "cells_small"
    if template_id != "test_item_reduction":
        return "concrete"
    from engine.sim.check_items import make_test_line
    from engine.api import ingest_frame

    line = make_test_line(n_items=40, products=600, failing_groups=4, quiet_groups=2, singletons=2, rare_modes=1,
                          functional_modes=1, functional_unique=1, safety=1, bad_rate=0.1)
    ingest_frame(line.frame, "test_items_small", db=db)
    return "test_items_small"


def test_build_opens_a_saved_recipe(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/build.py")
    paths = at.selectbox(key="build_path").options
    assert "concrete_strength.yaml" in paths
    at.selectbox(key="build_path").select_index(paths.index("concrete_strength.yaml")).run()
    next(b for b in at.button if b.label == "Open").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.multiselect(key="build.roles.pick.context").value == ["age_days"]
    assert at.multiselect(key="build.1.quick_model.concrete.expert.up").value == ["cement"]
    assert at.number_input(key="build.1.quick_model.concrete.params.top_k").value == 8
    assert at.text_input(key="build.1.quick_model.concrete.name").value == "Concrete mix — maximise 28-day strength"
    assert any("The recipe is valid" in s.value for s in at.success)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="PDF needs /usr/bin/chromium")
def test_results_offers_the_report_in_the_page_language(fast_run, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/results.py", "zh")
    assert "生成 PDF 报告" in [b.label for b in at.button]
    next(b for b in at.button if b.label == "生成 PDF 报告").click().run()
    assert not at.exception and not at.error
    pdf = at.session_state[f"pdf-{fast_run}-zh"]
    html = at.session_state[f"html-{fast_run}-zh"]
    assert pdf.startswith(b"%PDF") and "推荐设定值" in html


def test_trials_page_logs_a_trial_and_retrains(fast_run, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/trials.py")
    at.number_input(key=f"tr.{fast_run}.outcome").set_value(58.0)
    at.number_input(key=f"tr.{fast_run}.batches").set_value(3)
    next(b for b in at.button if b.label == "Save trial").click().run()
    assert not at.exception and any("Trial saved" in s.value for s in at.success)
    logged = api.trials(fast_run)
    assert [(x["outcome"], x["batches"]) for x in logged] == [(58.0, 3)]
    assert logged[0]["predicted"] is not None
    next(b for b in at.button if b.label == "Retrain with these trials").click().run()
    assert not at.exception
    new_run = at.session_state["current_run"]
    assert api.wait_run(new_run, 120)["status"] == "succeeded"
    assert api.load_result(new_run)["data"]["rows"] == 1030 + 3



def test_results_fold_chart_and_missing_values_speak_the_page_language(fast_run, monkeypatch):
    monkeypatch.chdir(REPO)
    at = open_page("pages/results.py", "zh")
    import json

    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    folds = next(f for f in figures if f["layout"].get("title", {}).get("text") == "各折得分")
    assert [trace["name"] for trace in folds["data"]] == ["R²"]  # the metric's label, not the key 'r2'
    at = open_page("pages/data.py", "zh")  # the demo tables are complete: a line, not an empty -1..1 chart
    assert any("各列缺失值：无" in c.value for c in at.caption), [c.value for c in at.caption]


def test_build_suggests_sensible_roles_and_says_why(demo_db, monkeypatch):
    monkeypatch.chdir(REPO)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {"lang": "zh", "build_template": "yield_improvement", "build_table": "ai4i2020"}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("pages/build.py").run()
    assert not at.exception
    assert at.multiselect(key="build.roles.pick.target").value == ["machine_failure"]
    assert set(at.multiselect(key="build.roles.pick.ignore").value) >= {"udi", "TWF", "RNF"}
    assert any("初步分配的依据" in c.value and "小表" in c.value for c in at.caption), [c.value for c in at.caption]
