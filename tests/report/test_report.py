"""Reports: pure data once, HTML self-contained, PDF with Chinese text and the run's numbers."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine import api
from engine.report import build_report, render_html
from engine.report.text import num
from engine.report.trial import batches_per_arm

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
HAS_CHROMIUM = Path("/usr/bin/chromium").exists()


@pytest.fixture(scope="module")
def run_result(tmp_path_factory):
    home = tmp_path_factory.mktemp("report") / "studio"
    old = os.environ.get("AI_STUDIO_HOME")
    os.environ["AI_STUDIO_HOME"] = str(home)
    try:
        api.ensure_demo()
        recipe = REPO / "recipes" / "concrete_strength.yaml"
        result = api.run_recipe(recipe, overrides=["n_estimators=60", "n_samples=300", "folds=3"])
        yield result, home
    finally:
        if old is None:
            os.environ.pop("AI_STUDIO_HOME", None)
        else:
            os.environ["AI_STUDIO_HOME"] = old


def test_trial_size_is_the_textbook_value():
    assert batches_per_arm(1.0, 1.0) == 16  # 2 (1.96 + 0.84)² = 15.7
    assert batches_per_arm(0.5, 1.0) == 63
    assert batches_per_arm(0.0, 1.0) is None


@pytest.mark.parametrize("lang, heading", [("en", "Recommended settings"), ("zh", "推荐设定值")])
def test_report_data_has_every_section(run_result, lang, heading):
    result, _ = run_result
    report = build_report(result, lang)
    ids = [s["id"] for s in report["sections"]]
    # the verdict first (issue 16): "checked" or "not actionable" before any benefit
    assert ids == ["verdict", "summary", "data", "model", "key_parameters", "recommendations", "trial", "appendix"]
    assert heading in [s["title"] for s in report["sections"]]
    summary = next(s for s in report["sections"] if s["id"] == "summary")
    kpis = next(b for b in summary["blocks"] if b["kind"] == "kpis")["items"]
    assert num(result["predicted"]["recommended"]["value"]) in [k["value"] for k in kpis]


def test_html_is_self_contained(run_result):
    result, _ = run_result
    from plotly.offline import get_plotlyjs

    text = render_html(build_report(result, "zh"))
    assert get_plotlyjs() in text  # the library is inline (its source mentions map-tile URLs it never loads here)
    page = text.replace(get_plotlyjs(), "")
    assert not re.search(r"https?://", page), "the page itself must reference nothing outside the file"
    assert "<link" not in page and "<script src" not in text and "Plotly.newPlot" in page
    assert "试验计划" in text and result["run_id"] in text


def test_money_per_year_when_price_and_volume_given(run_result):
    result, _ = run_result
    report = build_report(result, "en", economics={"price": 2.0, "volume": 1000, "currency": "CNY"})
    summary = next(s for s in report["sections"] if s["id"] == "summary")
    kpis = next(b for b in summary["blocks"] if b["kind"] == "kpis")["items"]
    money = next(k for k in kpis if k["label"] == "Value per year")
    assert money["value"] == f"{num(result['predicted']['uplift']['value'] * 2000.0)} CNY"


@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs /usr/bin/chromium")
def test_pdf_has_chinese_headings_and_the_numbers(run_result):
    result, home = run_result
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "report_concrete_zh.pdf"
    api.write_report(result["run_id"], out, fmt="pdf", lang="zh", db=home / "studio.duckdb")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("摘要", "模型质量", "关键参数", "推荐设定值", "试验计划"):
        assert heading in text
    assert num(result["predicted"]["recommended"]["value"]) in text
    assert result["recommendations"][0]["name"] in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(out),
                        str(ARTIFACTS / "report_concrete_zh_page")], check=True)
        assert (ARTIFACTS / "report_concrete_zh_page-1.png").exists()


def test_cli_report_unknown_run(studio_home):
    from tests.conftest import run_cli

    proc = run_cli("report", "nope", env={"AI_STUDIO_HOME": str(studio_home)})
    assert proc.returncode == 2 and "no run 'nope'" in proc.stderr


def test_zh_report_translates_enum_values(run_result):
    """cv kind, data source, roles and search method are words of the report's language, not raw enum values."""
    result, _ = run_result
    result = {**result, "predicted": {**result["predicted"], "method": "sampling"}}
    report = build_report(result, "zh")
    blocks = [b for s in report["sections"] for b in s["blocks"] if b["kind"] != "code"]
    text = str([b.get("items") or b.get("rows") or b.get("text") for b in blocks])
    assert "表 concrete" in text and "随机划分" in text and "随机采样搜索" in text
    assert "可调参数" in text
    for raw in ("shuffled", "table concrete", "'controllable'", "'context'", "sampling"):
        assert raw not in text, raw
    english = str([b.get("items") or b.get("rows") for b in
                   (b for s in build_report(result, "en")["sections"] for b in s["blocks"])])
    assert "table concrete" in english and "shuffled" in english
