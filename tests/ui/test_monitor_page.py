"""The Monitor page (AppTest): charts, metrics and alerts in en and zh; acknowledging an alert; saving a monitor."""

from __future__ import annotations

import pytest

from engine import api
from tests.service import monitor_setup as setup
from tests.ui.test_pages import REPO, open_page


@pytest.fixture
def monitored(studio_home, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    run_id, result = setup.train(tmp_path)
    path = tmp_path / "live.csv"
    setup.faulty(result).to_csv(path, index=False)
    api.ingest(path, "line_live")
    api.start_monitor(run_id, "line_live", baseline=setup.BASELINE)
    return run_id


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_monitor_page_draws_charts_metrics_and_alerts(monitored, lang):
    at = open_page("pages/monitor.py", lang)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == ("Live monitoring" if lang == "en" else "生产监控")
    assert at.selectbox(key="mon_table").value == "line_live"
    assert len(at.get("plotly_chart")) >= 5
    labels = [m.label for m in at.metric]
    assert ("Measured uplift" if lang == "en" else "实测提升") in labels
    alerts = at.dataframe[-1].value  # the alert list comes last
    assert len(alerts) == len(api.alerts(run_id=monitored)) > 0
    messages = " ".join(alerts.iloc[:, 5])
    assert ("recommended window" in messages) if lang == "en" else ("推荐窗口" in messages)
    assert any(("Retrain" if lang == "en" else "重新训练") in b.label for b in at.button)


def test_acknowledge_from_the_page(monitored):
    at = open_page("pages/monitor.py")
    first = api.alerts(run_id=monitored)[0]["alert_id"]
    at.multiselect(key="mon_ack_ids").select(first)
    at.text_input(key="mon_ack_user").input("zhang")
    next(b for b in at.button if b.label == "Acknowledge").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("acknowledged by zhang" in s.value for s in at.success)
    assert [a["acknowledged_by"] for a in api.alerts(run_id=monitored) if a["alert_id"] == first] == ["zhang"]
    at.button(key="mon_save").click().run()
    assert any("Monitor saved" in s.value for s in at.success)
